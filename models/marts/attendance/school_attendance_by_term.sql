{#-
  One grain: school x academic year x term, the whole school (no 'all' row, no cohort breakdown), so a plain SUM of
  the session counts over any rows never double counts. The figures are cohort_attendance's whole_school rows (the
  same rules, rates and small-number suppression), with the columns a BI tool needs to sort and flag terms.
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
    {{ one_grain_attendance_figures() }}
from {{ ref('cohort_attendance') }}
where cohort_type = 'whole_school' and term <> 'all'
