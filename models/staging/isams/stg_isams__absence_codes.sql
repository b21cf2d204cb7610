{#- One row per absence code per school: the school's current REST list (replaced on each load). Empty when no school has REST access. -#}
{%- set raw = source('isams', 'absence_codes') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_typed_field(cols, 'school_code', 'varchar') }} as school_code,
    {{ staging_typed_field(cols, 'id', 'integer') }} as code_id,
    {{ staging_typed_field(cols, 'code', 'varchar') }} as code,
    {{ staging_typed_field(cols, 'name', 'varchar') }} as name,
    {{ staging_typed_field(cols, 'description', 'varchar') }} as description,
    {{ staging_typed_field(cols, 'display_order', 'integer') }} as display_order,
    {{ staging_typed_field(cols, 'government_code', 'varchar') }} as government_code,
    {{ staging_typed_field(cols, 'government_code_name', 'varchar') }} as government_code_name,
    {{ staging_typed_field(cols, 'is_oos_active', 'boolean') }} as is_oos_active,
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
