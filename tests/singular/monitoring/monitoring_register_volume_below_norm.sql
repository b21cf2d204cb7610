{{ config(severity='warn', store_failures=true, tags=['monitoring', 'data_manager']) }}
{#- One row per school x term day whose register marks are far below the school's own recent norm. -#}
select
    school_code,
    session_date,
    marks_taken,
    am_marks_taken,
    pm_marks_taken,
    norm_marks_taken,
    pct_of_norm,
    'School ' || school_code || ', ' || cast(session_date as {{ dbt.type_string() }}) || ': '
        || cast(marks_taken as {{ dbt.type_string() }}) || ' register marks taken, usual is about '
        || cast(cast(norm_marks_taken as bigint) as {{ dbt.type_string() }}) as problem
from {{ ref('monitoring_register_volume') }}
where is_below_norm
