{#- One row per department version per school (dlt scd2). -#}
{%- set raw = source('isams', 'departments') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as department_id,
    {{ staging_field(cols, 'name') }} as department_name,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
