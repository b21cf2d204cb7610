{#-
  One row per DfE register code per code set (seed dfe_attendance_codes), plus one member for sessions
  whose iSAMS code maps to no DfE code in force ('(unmapped)').
-#}
with codes as (
    select
        dfe_code,
        code_set,
        valid_from,
        valid_to,
        description,
        category,
        is_possible_session,
        is_attendance,
        is_absence,
        is_late,
        counts_as_late
    from {{ ref('dfe_attendance_codes') }}
    union all
    select
        '(unmapped)',
        '(none)',
        cast(null as date),
        cast(null as date),
        'The school''s register code maps to no DfE code in force on the session date: excluded from every rate until it is mapped',
        'unmapped',
        false,
        false,
        false,
        false,
        false
)

select
    cast({{ surrogate_key(['dfe_code', 'code_set']) }} as {{ dbt.type_string() }}) as attendance_code_key,
    cast(dfe_code as {{ dbt.type_string() }}) as dfe_code,
    cast(code_set as {{ dbt.type_string() }}) as code_set,
    cast(valid_from as date) as valid_from,
    cast(valid_to as date) as valid_to,
    cast(description as {{ dbt.type_string() }}) as description,
    cast(category as {{ dbt.type_string() }}) as category,
    is_possible_session,
    is_attendance,
    is_absence,
    is_late,
    counts_as_late
from codes
