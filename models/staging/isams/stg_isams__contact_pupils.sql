{#- One row per (contact version, pupil): nested Pupils/Pupil joined to its contact root row. -#}
{%- set root_raw = source('isams', 'contacts') -%}
{%- set child_raw = source('isams', 'contacts__pupils') -%}
{%- set root_cols = staging_columns_of(root_raw) -%}
{%- set child_cols = staging_columns_of(child_raw) -%}

select
    {{ staging_field(root_cols, 'school_code', table_alias='root') }} as school_code,
    {{ staging_field(root_cols, 'person_id', 'integer', table_alias='root') }} as contact_person_id,
    {{ staging_field(child_cols, 'school_id', table_alias='child') }} as mis_pupil_id,
    {{ staging_scd2_columns(root_cols, table_alias='root') }},
    {{ staging_loaded_at(root_cols, table_alias='root') }} as loaded_at
from {{ staging_from(child_raw, child_cols) }} as child
inner join {{ staging_from(root_raw, root_cols) }} as root
    on {{ staging_nested_join(child_cols, root_cols) }}
