{#-
  Attendance bands per enrolment x academic year x school week (the "as-of week"): the year-to-date attendance
  at the end of each week, its band (seed attendance_band_edges), the band of the school week before, and
  whether it worsened. Bands are decided on integer session counts (absence * 100 against possible * edge),
  never on the rounded rate; an enrolment is in the highest band_order whose edge holds it. A Scottish school
  has no severe band (macro attendance_band_applies): its pupils at 50% or under stay persistent.
-#}
with weeks as (
    select * from {{ ref('int_attendance__enrolment_weeks') }}
),

edges as (
    select * from {{ ref('attendance_band_edges') }}
),

candidates as (
    select
        w.*,
        e.band_order,
        e.band_code,
        e.band_label,
        row_number() over (partition by w.enrolment_key, w.academic_year, w.week_start order by e.band_order desc) as band_rank
    from weeks as w
    inner join edges as e
        on {{ attendance_band_applies('w.measurement_scheme', 'e.min_absence_pct') }}
        and case
            when e.includes_min then w.ytd_absence_sessions * 100 >= w.ytd_possible_sessions * e.min_absence_pct
            else w.ytd_absence_sessions * 100 > w.ytd_possible_sessions * e.min_absence_pct
        end
),

banded as (
    select
        c.*,
        lag(c.band_order) over (partition by c.enrolment_key, c.academic_year order by c.week_start) as previous_band_order,
        lag(c.band_code) over (partition by c.enrolment_key, c.academic_year order by c.week_start) as previous_band_code
    from candidates as c
    where c.band_rank = 1
)

, figures as (
select
    cast(b.school_code as {{ dbt.type_string() }}) as school_code,
    cast(b.academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(b.pupil_key as {{ dbt.type_string() }}) as pupil_key,
    cast(b.week_start as date) as week_start,
    cast(b.academic_week as integer) as academic_week,
    cast(coalesce(b.year_group, {{ unknown_label() }}) as {{ dbt.type_string() }}) as year_group,
    {{ year_group_order('b.year_of_schooling', 'b.year_group') }} as year_group_order,
    cast(coalesce(b.form_code, {{ unknown_label() }}) as {{ dbt.type_string() }}) as form_code,
    cast(b.ytd_possible_sessions as integer) as possible_sessions_to_date,
    cast(b.ytd_attended_sessions as integer) as attended_sessions_to_date,
    cast(b.ytd_absence_sessions as integer) as absence_sessions_to_date,
    cast(b.ytd_unauthorised_absence_sessions as integer) as unauthorised_absence_sessions_to_date,
    {{ rate_pct('b.ytd_attended_sessions', 'b.ytd_possible_sessions') }} as attendance_rate_to_date,
    {{ rate_pct('b.ytd_absence_sessions', 'b.ytd_possible_sessions') }} as absence_rate_to_date,
    cast(b.band_order as integer) as band_order,
    cast(b.band_code as {{ dbt.type_string() }}) as band_code,
    cast(b.band_label as {{ dbt.type_string() }}) as band_label,
    cast(b.previous_band_order as integer) as previous_band_order,
    cast(b.previous_band_code as {{ dbt.type_string() }}) as previous_band_code,
    coalesce(b.band_order > b.previous_band_order, false) as is_band_worsened,
    {{ is_persistent_absentee('b.ytd_absence_sessions', 'b.ytd_possible_sessions') }} as is_persistent_absentee,
    {{ severe_absentee_flag('b.ytd_absence_sessions', 'b.ytd_possible_sessions', 'b.measurement_scheme') }} as is_severe_absentee,
    {{ as_of_date() }} as as_of_date,
    cast(b.measurement_scheme as {{ dbt.type_string() }}) as measurement_scheme
from banded as b
)

select
    f.*,
    cast(sc.school_name as {{ dbt.type_string() }}) as school_name,
    cast(sc.phase as {{ dbt.type_string() }}) as phase,
    {{ is_current_academic_year('f.academic_year') }} as is_current_academic_year
from figures as f
left join {{ ref('schools') }} as sc on sc.school_code = f.school_code
