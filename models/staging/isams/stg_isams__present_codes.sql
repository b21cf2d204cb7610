{#- One row per present code per school: the school's current REST list (replaced on each load). Empty when no school has REST access. A present code may carry a governmentCode (e.g. a late code -> L) or not (then the warehouse assumes plain presence). -#}
{%- set raw = source('isams', 'present_codes') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_typed_field(cols, 'school_code', 'varchar') }} as school_code,
    {{ staging_typed_field(cols, 'id', 'integer') }} as code_id,
    {{ staging_typed_field(cols, 'code', 'varchar') }} as code,
    {{ staging_typed_field(cols, 'name', 'varchar') }} as name,
    {{ staging_typed_field(cols, 'display_order', 'integer') }} as display_order,
    {{ staging_typed_field(cols, 'government_code', 'varchar') }} as government_code,
    {{ staging_typed_field(cols, 'is_ooc_active', 'boolean') }} as is_ooc_active,
    {{ staging_typed_field(cols, 'show_on_register', 'boolean') }} as show_on_register,
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
