{#- One row per term per school from the SEEMiS terms export (merge, not scd2). The session '2025/26' gives
    school_year 2025 (its start year), as iSAMS's SchoolYear. -#}
{%- set raw = source('seemis', 'terms') -%}
{%- set cols = staging_columns_of(raw) -%}

with terms as (
    select
        {{ staging_field(cols, 'school_code') }} as school_code,
        {{ staging_field(cols, 'record_id') }} as term_id,
        {{ staging_field(cols, 'session') }} as session,
        {{ staging_field(cols, 'term') }} as term,
        {{ staging_field(cols, 'start_date', 'date') }} as start_date,
        {{ staging_field(cols, 'end_date', 'date') }} as finish_date,
        {{ staging_loaded_at(cols) }} as loaded_at
    from {{ staging_from(raw, cols, key='record_id') }} as source_rows
)

select
    school_code,
    term_id,
    session,
    {{ staging_try_cast('substring(session, 1, 4)', 'integer') }} as school_year,
    -- a term numbered only ('1') is named 'Term 1', as a person reads it
    case when {{ regex_matches('term', "'^[0-9]+$'") }} then 'Term ' || term else term end as term_name,
    start_date,
    finish_date,
    loaded_at
from terms
