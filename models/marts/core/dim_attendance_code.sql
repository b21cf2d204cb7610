{#-
  One row per statutory attendance code per code set of every measurement scheme (canonical
  statutory_attendance_codes: DfE letters, 2024 and pre-2024 sets; SEEMiS codes of Scottish schools), plus one
  member for sessions whose school code maps to no statutory code in force ('(unmapped)').
-#}
with codes as (
    select
        measurement_scheme,
        statutory_code,
        code_set,
        valid_from,
        valid_to,
        description,
        category,
        is_possible_session,
        is_attendance,
        is_absence,
        is_late,
        counts_as_late,
        is_evidenced
    from {{ ref('statutory_attendance_codes') }}
    union all
    select
        cast(null as {{ dbt.type_string() }}),
        '(unmapped)',
        '(none)',
        cast(null as date),
        cast(null as date),
        'The school''s register code maps to no statutory code in force on the session date: excluded from every rate until it is mapped',
        'unmapped',
        false,
        false,
        false,
        false,
        false,
        true
)

select
    cast({{ surrogate_key(['statutory_code', 'code_set']) }} as {{ dbt.type_string() }}) as attendance_code_key,
    cast(case when measurement_scheme = 'dfe_sessions' or measurement_scheme is null then statutory_code end
        as {{ dbt.type_string() }}) as dfe_code,
    cast(code_set as {{ dbt.type_string() }}) as code_set,
    cast(valid_from as date) as valid_from,
    cast(valid_to as date) as valid_to,
    cast(description as {{ dbt.type_string() }}) as description,
    cast(category as {{ dbt.type_string() }}) as category,
    is_possible_session,
    is_attendance,
    is_absence,
    is_late,
    counts_as_late,
    cast(statutory_code as {{ dbt.type_string() }}) as attendance_code,
    cast(measurement_scheme as {{ dbt.type_string() }}) as measurement_scheme,
    is_evidenced
from codes
