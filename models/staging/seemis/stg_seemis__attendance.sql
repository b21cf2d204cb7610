{#-
  One row per pupil per half-day opening with a SEEMiS attendance code (merge on (school_code, record_id),
  not scd2). The code is kept as the school sent it, two digits ('02'); what it means is decided by seed
  seemis_attendance_codes through canonical attendance_code_map, never here. An opening that is not 'AM' or
  'PM' has been quarantined at landing (ingestion/seemis), so it does not reach this table.
-#}
{%- set raw = source('seemis', 'attendance') -%}
{%- set cols = staging_columns_of(raw) -%}

with marks as (
    select
        {{ staging_field(cols, 'school_code') }} as school_code,
        {{ staging_field(cols, 'record_id') }} as attendance_mark_id,
        {{ staging_field(cols, 'pupil_id') }} as mis_pupil_id,
        {{ staging_field(cols, 'attendance_date', 'date') }} as session_date,
        upper({{ staging_field(cols, 'opening') }}) as session,
        {{ staging_field(cols, 'attendance_code') }} as attendance_code,
        {{ staging_field(cols, 'source_file') }} as source_file,
        {{ staging_field(cols, 'source_line', 'integer') }} as source_line,
        {{ staging_field(cols, 'source_modified_at', 'timestamp') }} as source_modified_at,
        {{ staging_loaded_at(cols) }} as loaded_at
    from {{ staging_from(raw, cols, key='record_id') }} as source_rows
)

select
    school_code,
    attendance_mark_id,
    mis_pupil_id,
    session_date,
    session,
    case when length(attendance_code) = 1 then '0' || attendance_code else attendance_code end as attendance_code,
    source_file,
    source_line,
    source_modified_at,
    loaded_at
from marks
