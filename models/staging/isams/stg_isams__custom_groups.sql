{#- One row per custom pupil group version per school (dlt scd2). -#}
{%- set raw = source('isams', 'custom_groups') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as custom_group_id,
    {{ staging_field(cols, 'name') }} as group_name,
    {{ staging_field(cols, 'category_id', 'integer') }} as category_id,
    {{ staging_field(cols, 'shared', 'boolean') }} as is_shared,
    {{ staging_field(cols, 'expiry_date', 'date') }} as expiry_date,
    {{ staging_field(cols, 'deleted', 'boolean') }} as is_deleted,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
