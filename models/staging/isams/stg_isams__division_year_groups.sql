{#- One row per (division version, NC year): nested Years/Year joined to its division root row. -#}
{%- set root_raw = source('isams', 'divisions') -%}
{%- set child_raw = source('isams', 'divisions__years') -%}
{%- set root_cols = staging_columns_of(root_raw) -%}
{%- set child_cols = staging_columns_of(child_raw) -%}

select
    {{ staging_field(root_cols, 'school_code', table_alias='root') }} as school_code,
    {{ staging_field(root_cols, 'id', 'integer', table_alias='root') }} as division_id,
    {#- @YearId is the NC year; the NationalCurriculumYear element (legacy) is the fallback -#}
    coalesce(
        {{ staging_field(child_cols, 'year_id', 'integer', table_alias='child') }},
        {{ staging_field(child_cols, 'national_curriculum_year', 'integer', table_alias='child') }},
        {{ staging_field(child_cols, 'national_curriculum_year_legacy', 'integer', table_alias='child') }}
    ) as nc_year,
    {{ staging_scd2_columns(root_cols, table_alias='root') }},
    {{ staging_loaded_at(root_cols, table_alias='root') }} as loaded_at
from {{ staging_from(child_raw, child_cols) }} as child
inner join {{ staging_from(root_raw, root_cols) }} as root
    on {{ staging_nested_join(child_cols, root_cols) }}
