{#- One row per staff member version per school (dlt scd2). Staff-cased iSAMS fields: MiddleNames, PreferredName. -#}
{%- set raw = source('isams', 'staff') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as staff_id,
    {{ staging_field(cols, 'person_id', 'integer') }} as person_id,
    {{ staging_field(cols, 'person_guid') }} as person_guid,
    {{ staging_field(cols, 'user_code') }} as user_code,
    {{ staging_field(cols, 'title') }} as title,
    {{ staging_field(cols, 'forename') }} as forename,
    {{ staging_field(cols, 'middle_names') }} as middle_names,
    {{ staging_field(cols, 'surname') }} as surname,
    {{ staging_field(cols, 'preferred_name') }} as preferred_name,
    {{ staging_field(cols, 'gender') }} as gender,
    {{ staging_field(cols, 'dob', 'date') }} as date_of_birth,
    {{ staging_field(cols, 'school_email_address') }} as school_email_address,
    {{ staging_field(cols, 'teaching_staff', 'boolean') }} as is_teaching_staff,
    {{ staging_field(cols, 'leaving_date', 'date') }} as leaving_date,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
