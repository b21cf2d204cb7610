{#- One row per boarding house version per school (dlt scd2). -#}
{%- set raw = source('isams', 'boarding_houses') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as house_id,
    {{ staging_field(cols, 'name') }} as house_name,
    {{ staging_field(cols, 'code') }} as house_code,
    {{ staging_field(cols, 'type') }} as house_type,
    {{ staging_field(cols, 'sex') }} as house_gender,
    {{ staging_field(cols, 'house_master_id', 'integer') }} as house_master_staff_id,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
