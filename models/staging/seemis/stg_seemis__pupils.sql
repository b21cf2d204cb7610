{#-
  One row per pupil version per school (dlt scd2) from the SEEMiS pupils export.
  THE ONE PLACE that reads SEEMiS stages: 'P1'..'P7' and 'S1'..'S6' (any case, spaces ignored) become
  stage_order 1..13 (P1 = 1, S1 = 8), the order a year group sorts in; any other stage keeps its label
  with a null order.
-#}
{%- set raw = source('seemis', 'pupils') -%}
{%- set cols = staging_columns_of(raw) -%}

with pupils as (
    select
        {{ staging_field(cols, 'school_code') }} as school_code,
        {{ staging_field(cols, 'pupil_id') }} as mis_pupil_id,
        {{ staging_field(cols, 'scn') }} as scn,
        {{ staging_field(cols, 'forename') }} as forename,
        {{ staging_field(cols, 'surname') }} as surname,
        {{ staging_field(cols, 'preferred_name') }} as preferred_name,
        case upper({{ staging_field(cols, 'gender') }})
            when 'M' then 'M'
            when 'F' then 'F'
        end as gender,
        {{ staging_field(cols, 'date_of_birth', 'date') }} as date_of_birth,
        upper(replace({{ staging_field(cols, 'stage') }}, ' ', '')) as stage,
        {{ staging_field(cols, 'reg_class') }} as reg_class,
        {{ staging_field(cols, 'house') }} as house,
        {{ staging_scd2_columns(cols) }},
        {{ staging_loaded_at(cols) }} as loaded_at
    from {{ staging_from(raw, cols, key='record_id') }} as source_rows
)

select
    school_code,
    mis_pupil_id,
    scn,
    forename,
    surname,
    preferred_name,
    gender,
    date_of_birth,
    stage,
    case
        when stage in ('P1', 'P2', 'P3', 'P4', 'P5', 'P6', 'P7') then cast(substring(stage, 2, 1) as integer)
        when stage in ('S1', 'S2', 'S3', 'S4', 'S5', 'S6') then 7 + cast(substring(stage, 2, 1) as integer)
    end as stage_order,
    reg_class,
    house,
    valid_from,
    valid_to,
    is_current_version,
    stale_since,
    loaded_at
from pupils
