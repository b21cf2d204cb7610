{#- One row per (teaching set version, teacher): nested Teachers/Teacher joined to its set root row. -#}
{%- set root_raw = source('isams', 'teaching_sets') -%}
{%- set child_raw = source('isams', 'teaching_sets__teachers') -%}
{%- set root_cols = staging_columns_of(root_raw) -%}
{%- set child_cols = staging_columns_of(child_raw) -%}

select
    {{ staging_field(root_cols, 'school_code', table_alias='root') }} as school_code,
    {{ staging_field(root_cols, 'id', 'integer', table_alias='root') }} as set_id,
    {{ staging_field(child_cols, 'staff_id', 'integer', table_alias='child') }} as staff_id,
    {#- @PrimaryTeacher="True" marks the primary teacher; absent means not primary -#}
    coalesce({{ staging_field(child_cols, 'primary_teacher', 'boolean', table_alias='child') }}, false) as is_primary_teacher,
    {{ staging_scd2_columns(root_cols, table_alias='root') }},
    {{ staging_loaded_at(root_cols, table_alias='root') }} as loaded_at
from {{ staging_from(child_raw, child_cols) }} as child
inner join {{ staging_from(root_raw, root_cols) }} as root
    on {{ staging_nested_join(child_cols, root_cols) }}
