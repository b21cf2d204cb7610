{#-
  One grain: academic year x calendar month, the whole group of schools (cross_campus_attendance's group rows,
  school_code 'ALL', named 'All schools'). The group's figures are sums over its schools (rates from the sums).
-#}
select
    school_code,
    school_name,
    academic_year,
    academic_year_start_date,
    is_current_academic_year,
    month_start,
    month_end_date,
    academic_month_number,
    is_partial_period,
    schools_in_group,
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
    is_suppressed
from {{ ref('cross_campus_attendance') }}
where group_scope = 'all_schools'
