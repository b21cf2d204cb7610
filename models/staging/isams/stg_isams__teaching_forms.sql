{#- One row per teaching form version per school (dlt scd2). -#}
{%- set raw = source('isams', 'teaching_forms') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as teaching_form_id,
    {{ staging_field(cols, 'form_code') }} as form_code,
    {{ staging_field(cols, 'timetable_code') }} as timetable_code,
    {{ staging_field(cols, 'subject_id', 'integer') }} as subject_id,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
