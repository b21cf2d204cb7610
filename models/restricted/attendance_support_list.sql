{#-
  The attendance officers' named list: pupils who need support this week. One row per enrolment on roll in
  its school's latest school week (up to as_of_date()) that is a DfE persistent or severe absentee on its year
  to date (band `persistent` or `severe`), or over the national framework threshold (10 unauthorised
  sessions in the rolling 10 school weeks). Names come from canonical `pupils`: this model is the only one
  outside canonical that carries them, lives in schema `restricted`, and is readable on PostgreSQL only by the
  NOLOGIN role var('attendance_officer_role') (macros/grants/restricted.sql). On DuckDB, which has no roles to
  keep a BI tool out, it is not built unless var('build_restricted_on_duckdb') is true.
-#}
{{ config(enabled=(target.type == 'postgres' or var('build_restricted_on_duckdb', false))) }}

with latest_weeks as (
    select school_code, max(week_start) as week_start
    from {{ ref('attendance_bands') }}
    group by school_code
),

this_week as (
    select b.*
    from {{ ref('attendance_bands') }} as b
    inner join latest_weeks as l on l.school_code = b.school_code and l.week_start = b.week_start
),

with_threshold as (
    select
        w.*,
        coalesce(t.unauthorised_sessions_in_window, 0) as unauthorised_sessions_in_window,
        coalesce(t.is_over_threshold, false) as is_over_threshold,
        t.first_reached_week_start
    from this_week as w
    left join {{ ref('unauthorised_absence_threshold') }} as t
        on t.school_code = w.school_code and t.pupil_key = w.pupil_key and t.week_start = w.week_start
),

persistent_since as (
    select b.school_code, b.pupil_key, b.academic_year, min(b.week_start) as persistent_since_week_start
    from {{ ref('attendance_bands') }} as b
    inner join this_week as w
        on w.school_code = b.school_code and w.pupil_key = b.pupil_key and w.academic_year = b.academic_year
    where b.is_persistent_absentee
    group by b.school_code, b.pupil_key, b.academic_year
)

select
    cast(w.school_code as {{ dbt.type_string() }}) as school_code,
    cast(w.academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(w.week_start as date) as week_start,
    cast(w.pupil_key as {{ dbt.type_string() }}) as pupil_key,
    cast(p.forename as {{ dbt.type_string() }}) as forename,
    cast(p.preferred_name as {{ dbt.type_string() }}) as preferred_name,
    cast(p.surname as {{ dbt.type_string() }}) as surname,
    cast(w.form_code as {{ dbt.type_string() }}) as form_code,
    cast(w.year_group as {{ dbt.type_string() }}) as year_group,
    cast(w.band_code as {{ dbt.type_string() }}) as band_code,
    cast(w.band_label as {{ dbt.type_string() }}) as band_label,
    w.attendance_rate_to_date,
    cast(w.possible_sessions_to_date as integer) as possible_sessions_to_date,
    cast(w.absence_sessions_to_date as integer) as absence_sessions_to_date,
    cast(w.unauthorised_sessions_in_window as integer) as unauthorised_sessions_in_window,
    w.is_persistent_absentee,
    w.is_severe_absentee,
    w.is_over_threshold,
    cast(s.persistent_since_week_start as date) as persistent_since_week_start,
    cast(w.first_reached_week_start as date) as threshold_reached_week_start,
    cast(case
        when s.persistent_since_week_start is null then w.first_reached_week_start
        when w.first_reached_week_start is null then s.persistent_since_week_start
        when s.persistent_since_week_start <= w.first_reached_week_start then s.persistent_since_week_start
        else w.first_reached_week_start
    end as date) as flagged_since_week_start,
    w.is_band_worsened,
    {{ as_of_date() }} as as_of_date
from with_threshold as w
left join {{ ref('pupils') }} as p on p.pupil_key = w.pupil_key
left join persistent_since as s
    on s.school_code = w.school_code and s.pupil_key = w.pupil_key and s.academic_year = w.academic_year
where w.is_persistent_absentee or w.is_over_threshold
