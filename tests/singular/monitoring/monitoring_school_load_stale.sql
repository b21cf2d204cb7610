{{ config(severity='warn', store_failures=true, tags=['monitoring', 'data_manager']) }}
{#- One row per school x dataset whose data has not been refreshed for more than raw_freshness_warn_hours. -#}
select
    school_code,
    dataset,
    last_loaded_at,
    last_run_at,
    last_successful_run_at,
    hours_since_last_data,
    'School ' || school_code || ', dataset ' || dataset || ': no successful load for '
        || cast(hours_since_last_data as {{ dbt.type_string() }}) || ' hours' as problem
from {{ ref('monitoring_school_freshness') }}
where is_load_stale
