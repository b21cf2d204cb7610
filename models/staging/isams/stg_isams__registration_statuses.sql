{#-
  One row per register mark (merge on (school_code, id), not scd2).

  THE ONE PLACE that interprets iSAMS RegistrationStatus (see ingestion/isams/datasets.py). If a live
  iSAMS disagrees, change it here and nowhere else:
    Registered '1', no Code  -> present (no code)
    Registered '1', Code     -> Code is the id of a PRESENT code     (code_list = 'present')
    Registered '0', Code     -> Code is the id of an ABSENCE code    (code_list = 'absence')
    Registered '0', no Code  -> register not yet taken               (is_register_taken = false)
    session = 'AM' when the register time of day is before 12:00, else 'PM'.
-#}
{%- set raw = source('isams', 'registration_statuses') -%}
{%- set cols = staging_columns_of(raw) -%}

with marks as (
    select
        {{ staging_field(cols, 'school_code') }} as school_code,
        {{ staging_field(cols, 'id', 'bigint') }} as registration_status_id,
        {{ staging_field(cols, 'pupil_id') }} as mis_pupil_id,
        {{ staging_field(cols, 'registration_date_time', 'timestamp') }} as registered_at,
        {{ staging_field(cols, 'registered', 'boolean') }} as is_registered,
        {{ staging_field(cols, 'code', 'integer') }} as isams_code_id,
        {{ staging_loaded_at(cols) }} as loaded_at
    from {{ staging_from(raw, cols) }} as source_rows
)

select
    school_code,
    registration_status_id,
    mis_pupil_id,
    cast(registered_at as date) as session_date,
    case
        when registered_at is null then null
        when cast(registered_at as time) < cast('12:00:00' as time) then 'AM'
        else 'PM'
    end as session,
    registered_at,
    is_registered,
    isams_code_id,
    case
        when isams_code_id is null then null
        when is_registered then 'present'
        when not is_registered then 'absence'
    end as code_list,
    coalesce(is_registered, false) or isams_code_id is not null as is_register_taken,
    loaded_at
from marks
