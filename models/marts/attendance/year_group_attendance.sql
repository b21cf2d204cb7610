{#-
  One grain: school x academic year x term x year group. Every enrolment is in exactly one year group per term
  (the one on its last session of the term), so a plain SUM over the year groups of a term gives the school's term
  (school_attendance_by_term), pupils and persistent absentees included. The figures are cohort_attendance's
  year_group rows of each term (the same rules, rates and suppression).
-#}
select
    school_code,
    school_name,
    phase,
    academic_year,
    academic_year_start_date,
    is_current_academic_year,
    term,
    term_order,
    period_start_date as term_start_date,
    period_end_date as term_end_date,
    is_partial_period,
    cohort_value as year_group,
    year_group_order,
    {{ one_grain_attendance_figures() }}
from {{ ref('cohort_attendance') }}
where cohort_type = 'year_group' and term <> 'all'
