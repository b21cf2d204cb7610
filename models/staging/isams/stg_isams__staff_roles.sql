{#- One row per role of a staff member version: nested Roles/Role joined to its staff root row (which gives school, staff id and validity). -#}
{%- set root_raw = source('isams', 'staff') -%}
{%- set child_raw = source('isams', 'staff__roles') -%}
{%- set root_cols = staging_columns_of(root_raw) -%}
{%- set child_cols = staging_columns_of(child_raw) -%}

select
    {{ staging_field(root_cols, 'school_code', table_alias='root') }} as school_code,
    {{ staging_field(root_cols, 'id', 'integer', table_alias='root') }} as staff_id,
    {{ staging_field(child_cols, 'id', 'integer', table_alias='child') }} as role_id,
    {{ staging_field(child_cols, 'name', table_alias='child') }} as role_name,
    {{ staging_scd2_columns(root_cols, table_alias='root') }},
    {{ staging_loaded_at(root_cols, table_alias='root') }} as loaded_at
from {{ staging_from(child_raw, child_cols) }} as child
inner join {{ staging_from(root_raw, root_cols) }} as root
    on {{ staging_nested_join(child_cols, root_cols) }}
