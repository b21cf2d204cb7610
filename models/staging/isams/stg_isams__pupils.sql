{#- One row per pupil version per school (dlt scd2). Pupil-cased iSAMS fields: Middlename, Preferredname. -#}
{%- set raw = source('isams', 'pupils') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as pupil_id,
    {{ staging_field(cols, 'school_id') }} as mis_pupil_id,
    {{ staging_field(cols, 'person_guid') }} as person_guid,
    {{ staging_field(cols, 'upn') }} as upn,
    {{ staging_field(cols, 'forename') }} as forename,
    {{ staging_field(cols, 'middlename') }} as middle_names,
    {{ staging_field(cols, 'surname') }} as surname,
    {{ staging_field(cols, 'preferredname') }} as preferred_name,
    case upper({{ staging_field(cols, 'gender') }})
        when 'M' then 'M'
        when 'F' then 'F'
    end as gender,
    {{ staging_field(cols, 'dob', 'date') }} as date_of_birth,
    {{ staging_field(cols, 'nc_year', 'integer') }} as nc_year,
    {{ staging_field(cols, 'form') }} as form_code,
    {{ staging_field(cols, 'academic_house_id', 'integer') }} as academic_house_id,
    {{ staging_field(cols, 'academic_house') }} as academic_house_name,
    {{ staging_field(cols, 'boarding_house_id', 'integer') }} as boarding_house_id,
    {{ staging_field(cols, 'boarding_house') }} as boarding_house_name,
    {{ staging_field(cols, 'division_id', 'integer') }} as division_id,
    {{ staging_field(cols, 'division_name') }} as division_name,
    {{ staging_field(cols, 'pupil_type') }} as pupil_type,
    coalesce(lower({{ staging_field(cols, 'pupil_type') }}) = 'boarder', false) as is_boarder,
    {{ staging_field(cols, 'enrolment_date', 'date') }} as enrolment_date,
    {{ staging_field(cols, 'family_id') }} as family_id,
    {#- Tutor is the tutor's staff UserCode; a Legacy="True" duplicate lands as tutor_legacy -#}
    coalesce({{ staging_field(cols, 'tutor') }}, {{ staging_field(cols, 'tutor_legacy') }}) as tutor_user_code,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
