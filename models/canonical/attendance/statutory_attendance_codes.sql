{#-
  Every statutory attendance code of every measurement scheme, one shape: THE reference attendance_sessions
  resolves a mark's code against (on measurement_scheme, statutory_code and the session date).
  - 'dfe_sessions': seed dfe_attendance_codes (England; code sets 2024 and pre_2024, with validity windows).
  - 'scottish_openings': seed seemis_attendance_codes (Scotland; the SEEMiS numeric codes, one set 'seemis',
    valid throughout). Codes whose number is not evidenced are marked is_evidenced = false there: a school
    whose codes differ edits the seed.
  Categories are shared: present and approved_educational_activity are attendance; authorised, unauthorised
  and (Scotland) temporary_exclusion are absence; not_possible counts in neither.
-#}
select
    cast('dfe_sessions' as {{ dbt.type_string() }}) as measurement_scheme,
    cast(dfe_code as {{ dbt.type_string() }}) as statutory_code,
    cast(code_set as {{ dbt.type_string() }}) as code_set,
    valid_from,
    valid_to,
    cast(description as {{ dbt.type_string() }}) as description,
    cast(category as {{ dbt.type_string() }}) as category,
    is_possible_session,
    is_attendance,
    is_absence,
    is_late,
    counts_as_late,
    true as is_evidenced
from {{ ref('dfe_attendance_codes') }}
union all
select
    cast('scottish_openings' as {{ dbt.type_string() }}) as measurement_scheme,
    cast(seemis_code as {{ dbt.type_string() }}) as statutory_code,
    cast('seemis' as {{ dbt.type_string() }}) as code_set,
    cast('1900-01-01' as date) as valid_from,
    cast(null as date) as valid_to,
    cast(description as {{ dbt.type_string() }}) as description,
    cast(category as {{ dbt.type_string() }}) as category,
    is_possible_session,
    is_attendance,
    is_absence,
    is_late,
    counts_as_late,
    is_evidenced
from {{ ref('seemis_attendance_codes') }}
