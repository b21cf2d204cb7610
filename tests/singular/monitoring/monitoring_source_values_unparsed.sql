{{ config(severity='warn', store_failures=true, tags=['monitoring', 'data_manager']) }}
{#- One row per school x dataset x column whose CURRENT source values do not parse as their type
    (model monitoring_cast_failures). Severity warn: staging keeps building with nulls in their place. -#}
select
    school_code,
    dataset,
    column_name,
    expected_type,
    count(*) as records,
    min(record_id) as example_record_id,
    'School ' || school_code || ', dataset ' || dataset || ': ' || cast(count(*) as {{ dbt.type_string() }})
        || ' record(s) whose ' || column_name || ' is not a valid ' || expected_type
        || ' (e.g. record ' || min(record_id) || ')' as problem
from {{ ref('monitoring_cast_failures') }}
where is_current_version
group by school_code, dataset, column_name, expected_type
