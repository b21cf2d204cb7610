{{ config(severity='warn', store_failures=true, tags=['monitoring', 'data_manager']) }}
{#- One row per school that is in term and has had no register for more than N school days. -#}
select
    school_code,
    as_of_date,
    latest_register_date,
    school_days_without_registers,
    last_loaded_at,
    last_successful_run_at,
    'School ' || school_code || ': no register for ' || cast(school_days_without_registers as {{ dbt.type_string() }})
        || ' school days (latest register: ' || coalesce(cast(latest_register_date as {{ dbt.type_string() }}), 'never')
        || ')' as problem
from {{ ref('monitoring_school_freshness') }}
where is_register_dataset
  and is_register_stale
