{#- One row per form (tutor group) version per school (dlt scd2). The iSAMS @Id of a Form is its code. -#}
{%- set raw = source('isams', 'forms') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id') }} as form_code,
    coalesce({{ staging_field(cols, 'form') }}, {{ staging_field(cols, 'id') }}) as form_name,
    {#- @YearId is the NC year; the NationalCurriculumYear element (legacy) is the fallback -#}
    coalesce(
        {{ staging_field(cols, 'year_id', 'integer') }},
        {{ staging_field(cols, 'national_curriculum_year', 'integer') }},
        {{ staging_field(cols, 'national_curriculum_year_legacy', 'integer') }}
    ) as nc_year,
    {{ staging_field(cols, 'tutor_id', 'integer') }} as tutor_staff_id,
    {{ staging_field(cols, 'assistant_tutor_id', 'integer') }} as assistant_tutor_staff_id,
    coalesce(
        {{ staging_field(cols, 'room_id') }},
        {{ staging_field(cols, 'room_id_element') }},
        {{ staging_field(cols, 'room_id_legacy') }}
    ) as room_id,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
