{#- One row per enrolment version per school (dlt scd2) from the SEEMiS enrolments export: a pupil's start
    and leaving dates at the school (two rows when a pupil left and came back). -#}
{%- set raw = source('seemis', 'enrolments') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'pupil_id') }} as mis_pupil_id,
    {{ staging_field(cols, 'start_date', 'date') }} as start_date,
    {{ staging_field(cols, 'leaving_date', 'date') }} as leaving_date,
    {{ staging_field(cols, 'leaving_reason') }} as leaving_reason,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols, key='record_id') }} as source_rows
