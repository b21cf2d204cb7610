-- One row per school (campus). school_name falls back to school_code until a source of names exists.
select
    cast(school_key as {{ dbt.type_string() }}) as school_key,
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(school_name as {{ dbt.type_string() }}) as school_name,
    cast(phase as {{ dbt.type_string() }}) as phase,
    cast(source_system as {{ dbt.type_string() }}) as source_system,
    has_rest_code_lists,
    has_seed_code_map,
    cast(first_register_date as date) as first_register_date,
    cast(last_register_date as date) as last_register_date,
    cast(jurisdiction as {{ dbt.type_string() }}) as jurisdiction,
    cast(measurement_scheme as {{ dbt.type_string() }}) as measurement_scheme
from {{ ref('schools') }}
