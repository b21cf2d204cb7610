{#- One row per term version per school (dlt scd2). SchoolYear is the start year (2025 = 2025/26). -#}
{%- set raw = source('isams', 'terms') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as term_id,
    {{ staging_field(cols, 'school_year', 'integer') }} as school_year,
    {{ staging_field(cols, 'name') }} as term_name,
    {{ staging_field(cols, 'start_date', 'date') }} as start_date,
    {{ staging_field(cols, 'finish_date', 'date') }} as finish_date,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
