{#- One row per former pupil (leaver) per school: the school's current REST alumni list (replaced on each load), with the attributes the pupil had on leaving. Empty when no school has REST access. -#}
{%- set raw = source('isams', 'former_pupils') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_typed_field(cols, 'school_code', 'varchar') }} as school_code,
    {{ staging_typed_field(cols, 'id', 'integer') }} as pupil_id,
    {{ staging_typed_field(cols, 'school_id', 'varchar') }} as mis_pupil_id,
    case upper({{ staging_typed_field(cols, 'gender', 'varchar') }})
        when 'M' then 'M'
        when 'F' then 'F'
    end as gender,
    {{ staging_typed_field(cols, 'year_group', 'integer') }} as nc_year,
    {{ staging_typed_field(cols, 'form_group', 'varchar') }} as form_code,
    {{ staging_typed_field(cols, 'academic_house', 'varchar') }} as academic_house_name,
    {{ staging_typed_field(cols, 'boarding_house', 'varchar') }} as boarding_house_name,
    {{ staging_typed_field(cols, 'boarding_status', 'varchar') }} as boarding_status,
    case
        when lower({{ staging_typed_field(cols, 'boarding_status', 'varchar') }}) = 'boarder' then true
        when {{ staging_typed_field(cols, 'boarding_status', 'varchar') }} is not null then false
    end as is_boarder,
    {{ staging_typed_field(cols, 'enrolment_date', 'date') }} as enrolment_date,
    {{ staging_typed_field(cols, 'leaving_date', 'date') }} as leaving_date,
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
