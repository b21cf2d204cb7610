{#-
  The national framework threshold (10 unauthorised sessions in a rolling 10 school weeks), one row per
  enrolment x school week up to as_of_date(). The definition is the macro national_framework_threshold().
-#}
with weeks as (
    {{ national_framework_threshold(ref('attendance_sessions')) }}
)

, figures as (
select
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(pupil_key as {{ dbt.type_string() }}) as pupil_key,
    cast(week_start as date) as week_start,
    cast(school_week_number as integer) as school_week_number,
    cast(possible_sessions as integer) as possible_sessions,
    cast(unauthorised_sessions as integer) as unauthorised_sessions,
    cast(window_start_week as date) as window_start_week,
    cast(school_weeks_in_window as integer) as school_weeks_in_window,
    cast(unauthorised_sessions_in_window as integer) as unauthorised_sessions_in_window,
    is_over_threshold,
    cast(first_reached_week_start as date) as first_reached_week_start,
    is_newly_over_threshold,
    {{ as_of_date() }} as as_of_date
from weeks
)

select
    f.*,
    cast(sc.school_name as {{ dbt.type_string() }}) as school_name,
    cast(sc.phase as {{ dbt.type_string() }}) as phase,
    {{ is_current_academic_year('f.academic_year') }} as is_current_academic_year
from figures as f
left join {{ ref('schools') }} as sc on sc.school_code = f.school_code
