{#-
  Persistent and severe absence: one row per enrolment (pupil x school) per academic year, year to date
  (sessions up to as_of_date()), by the school's own rules. Each enrolment is judged on its own possible
  sessions (English sessions; Scottish openings, where 02 counts in neither side); enrolments with zero
  possible sessions are left out. Scotland counts persistent absence per pupil: at one school a pupil is one
  enrolment, so the flag is the same; Scotland has no severe measure, so is_severe_absentee is null there. year_group is the one on the enrolment's last
  session of the year, '(unknown)' (macro unknown_label) when the source never sent it.
-#}
with totals as (
    select * from {{ ref('int_attendance__enrolment_periods') }}
    where period_type = 'year' and possible_sessions > 0
)

select
    cast(t.school_code as {{ dbt.type_string() }}) as school_code,
    cast(t.academic_year as {{ dbt.type_string() }}) as academic_year,
    {{ academic_year_start_date('substring(t.academic_year, 1, 4)', academic_year_first_month('sc.jurisdiction')) }} as academic_year_start_date,
    cast(t.pupil_key as {{ dbt.type_string() }}) as pupil_key,
    cast(coalesce(t.year_group, {{ unknown_label() }}) as {{ dbt.type_string() }}) as year_group,
    cast(t.possible_sessions as integer) as possible_sessions,
    cast(t.attended_sessions as integer) as attended_sessions,
    cast(t.authorised_absence_sessions as integer) as authorised_absence_sessions,
    cast(t.unauthorised_absence_sessions as integer) as unauthorised_absence_sessions,
    cast(t.absence_sessions as integer) as absence_sessions,
    cast(t.late_sessions as integer) as late_sessions,
    {{ rate_pct('t.absence_sessions', 't.possible_sessions') }} as absence_rate,
    {{ is_persistent_absentee('t.absence_sessions', 't.possible_sessions') }} as is_persistent_absentee,
    {{ severe_absentee_flag('t.absence_sessions', 't.possible_sessions', 't.measurement_scheme') }} as is_severe_absentee,
    {{ as_of_date() }} as as_of_date,
    cast(sc.school_name as {{ dbt.type_string() }}) as school_name,
    cast(sc.phase as {{ dbt.type_string() }}) as phase,
    {{ year_group_order('t.year_of_schooling', 't.year_group') }} as year_group_order,
    {{ is_current_academic_year('t.academic_year') }} as is_current_academic_year,
    {{ is_partial_period(academic_year_end_date('cast(substring(t.academic_year, 1, 4) as integer)')) }} as is_partial_period,
    cast(t.temporary_exclusion_sessions as integer) as temporary_exclusion_sessions,
    cast(sc.jurisdiction as {{ dbt.type_string() }}) as jurisdiction,
    cast(t.measurement_scheme as {{ dbt.type_string() }}) as measurement_scheme
from totals as t
left join {{ ref('schools') }} as sc on sc.school_code = t.school_code
