{#- One row per configured SEEMiS school (the schools file), written by ingestion. -#}
{%- set raw = source('seemis', 'schools') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'school_name') }} as school_name,
    lower({{ staging_field(cols, 'phase') }}) as phase,
    coalesce(lower({{ staging_field(cols, 'jurisdiction') }}), 'scotland') as jurisdiction,
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols, key='school_code') }} as source_rows
