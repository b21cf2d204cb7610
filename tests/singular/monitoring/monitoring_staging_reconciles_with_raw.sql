{{ config(severity='warn', store_failures=true, tags=['monitoring', 'data_manager']) }}
{#- One row per school x dataset whose staging rows differ from raw current rows minus quarantined rows. -#}
select
    school_code,
    dataset,
    staging_model,
    run_id,
    raw_current_rows,
    raw_rows_quarantined,
    expected_staging_rows,
    staging_current_rows,
    unexplained_row_difference,
    'School ' || school_code || ', dataset ' || dataset || ': raw has ' || cast(raw_current_rows as {{ dbt.type_string() }})
        || ' current rows, ' || cast(raw_rows_quarantined as {{ dbt.type_string() }}) || ' quarantined, so staging should have '
        || cast(expected_staging_rows as {{ dbt.type_string() }}) || ' but has '
        || cast(staging_current_rows as {{ dbt.type_string() }}) as problem
from {{ ref('monitoring_reconciliation') }}
where is_latest_run
  and staging_model is not null
  and not is_reconciled
