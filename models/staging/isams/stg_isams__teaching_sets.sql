{#- One row per teaching set version per school (dlt scd2). Attributes (@SubjectId, @YearId) win over their legacy elements. -#}
{%- set raw = source('isams', 'teaching_sets') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as set_id,
    coalesce(
        {{ staging_field(cols, 'subject_id', 'integer') }},
        {{ staging_field(cols, 'subject_id_element', 'integer') }},
        {{ staging_field(cols, 'subject_id_legacy', 'integer') }}
    ) as subject_id,
    coalesce(
        {{ staging_field(cols, 'year_id', 'integer') }},
        {{ staging_field(cols, 'year_id_element', 'integer') }},
        {{ staging_field(cols, 'year_id_legacy', 'integer') }}
    ) as nc_year,
    {{ staging_field(cols, 'set_code') }} as set_code,
    {{ staging_field(cols, 'name') }} as set_name,
    {{ staging_field(cols, 'set_number', 'integer') }} as set_number,
    {{ staging_field(cols, 'block') }} as block,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
