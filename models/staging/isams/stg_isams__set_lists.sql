{#- One row per set list item (a pupil in a teaching set) version per school (dlt scd2). -#}
{%- set raw = source('isams', 'set_lists') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as set_list_id,
    coalesce(
        {{ staging_field(cols, 'set_id', 'integer') }},
        {{ staging_field(cols, 'set_id_element', 'integer') }},
        {{ staging_field(cols, 'set_id_legacy', 'integer') }}
    ) as set_id,
    {{ staging_field(cols, 'pupil_id', 'integer') }} as pupil_id,
    coalesce({{ staging_field(cols, 'school_id') }}, {{ staging_field(cols, 'school_id_legacy') }}) as mis_pupil_id,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
