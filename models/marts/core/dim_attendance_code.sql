{#-
  One row per statutory attendance code per code set of every measurement scheme (canonical
  statutory_attendance_codes: DfE letters, 2024 and pre-2024 sets; SEEMiS codes of Scottish schools), plus one
  member for sessions whose school code maps to no statutory code in force ('(unmapped)').
-#}
with codes as (
    -- the columns of statutory_attendance_codes, in its order; the unmapped member follows it position by position
    select * from {{ ref('statutory_attendance_codes') }}
    union all
    select
        cast(null as {{ dbt.type_string() }}) as measurement_scheme,
        '(unmapped)' as statutory_code,
        '(none)' as code_set,
        cast(null as date) as valid_from,
        cast(null as date) as valid_to,
        'The school''s register code maps to no statutory code in force on the session date: excluded from every rate until it is mapped' as description,
        'unmapped' as category,
        false as is_possible_session,
        false as is_attendance,
        false as is_absence,
        false as is_late,
        false as counts_as_late,
        true as is_evidenced
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
