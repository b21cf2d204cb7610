{#- One row per year group version per school (dlt scd2). The iSAMS @Id of a Year is the NC year. -#}
{%- set raw = source('isams', 'year_groups') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'id', 'integer') }} as nc_year,
    {{ staging_field(cols, 'name') }} as year_group_name,
    {{ staging_field(cols, 'code') }} as year_group_code,
    {{ staging_field(cols, 'tutor_id', 'integer') }} as tutor_staff_id,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols) }} as source_rows
