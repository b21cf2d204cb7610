{#-
  One grain: school x academic year x calendar month, the schools only (no group row), so a plain SUM over schools
  gives the group. The figures are cross_campus_attendance's school rows (the same rules, rates, ranks and
  suppression); the group's own rows are group_attendance_by_month.
-#}
select
    school_code,
    school_name,
    phase,
    academic_year,
    academic_year_start_date,
    is_current_academic_year,
    month_start,
    month_end_date,
    academic_month_number,
    is_partial_period,
    enrolments,
    possible_sessions,
    attended_sessions,
    absence_sessions,
    authorised_absence_sessions,
    unauthorised_absence_sessions,
    late_sessions,
    attendance_rate,
    absence_rate,
    authorised_absence_rate,
    unauthorised_absence_rate,
    late_rate,
    group_attendance_rate,
    group_absence_rate,
    attendance_rate_diff_pp,
    absence_rate_diff_pp,
    absence_rate_rank,
    is_suppressed
from {{ ref('cross_campus_attendance') }}
where not is_group_total
