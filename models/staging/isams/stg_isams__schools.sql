{#- One row per configured school (the schools file), written by ingestion; the only source of names. -#}
{%- set raw = source('isams', 'schools') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'school_name') }} as school_name,
    {{ staging_field(cols, 'base_url') }} as isams_base_url,
    {#- absent from a raw table loaded before the schools file had a phase: null then -#}
    lower({{ staging_field(cols, 'phase') }}) as phase,
    {#- the schools file's jurisdiction (ingestion defaults it to england); null in a table loaded before it existed -#}
    lower({{ staging_field(cols, 'jurisdiction') }}) as jurisdiction,
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
