{#-
  One grain: school x academic year, year to date (sessions up to as_of_date()), the whole school. The figures are
  cohort_attendance's whole_school 'all' rows (the same rules, rates and suppression); persistent absentees are
  judged on the year's sessions, so they add up over schools (a mover is one enrolment in each school).
-#}
select
    school_code,
    school_name,
    phase,
    academic_year,
    academic_year_start_date,
    period_end_date as academic_year_end_date,
    is_current_academic_year,
    is_partial_period,
    {{ one_grain_attendance_figures() }},
    {{ as_of_date() }} as as_of_date
from {{ ref('cohort_attendance') }}
where cohort_type = 'whole_school' and term = 'all'
