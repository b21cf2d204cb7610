{#- One row per custom group membership item version per school (dlt scd2). PupilID is the numeric pupil @Id. -#}
{%- set raw = source('isams', 'custom_group_memberships') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as membership_id,
    {{ staging_field(cols, 'pupil_id', 'integer') }} as pupil_id,
    {{ staging_field(cols, 'custom_group_id', 'integer') }} as custom_group_id,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
