{#- One row per contact version per school (dlt scd2). Address is flattened by dlt to address__* columns. -#}
{%- set raw = source('isams', 'contacts') -%}
{%- set cols = staging_columns_of(raw) -%}

select
    {{ staging_field(cols, 'school_code') }} as school_code,
    {{ staging_field(cols, 'person_id', 'integer') }} as contact_person_id,
    {{ staging_field(cols, 'forename') }} as forename,
    {{ staging_field(cols, 'surname') }} as surname,
    {#- iSAMS sends RelationshipRaw; a plain Relationship element is used when RelationshipRaw is absent -#}
    coalesce({{ staging_field(cols, 'relationship_raw') }}, {{ staging_field(cols, 'relationship') }}) as relationship,
    {{ staging_field(cols, 'email_address') }} as email_address,
    {{ staging_field(cols, 'telephone') }} as telephone,
    coalesce({{ staging_field(cols, 'mobile') }}, {{ staging_field(cols, 'mobile_number') }}) as mobile_number,
    {{ staging_field(cols, 'parental_responsibility') }} as parental_responsibility,
    {#- 'Yes' -> true, 'No' -> false; 'Default' (iSAMS decides from the relationship) and null -> null -#}
    case lower({{ staging_field(cols, 'parental_responsibility') }})
        when 'yes' then true
        when 'no' then false
    end as has_parental_responsibility,
    {{ staging_field(cols, 'address__town') }} as address_town,
    {{ staging_field(cols, 'address__postcode') }} as address_postcode,
    {{ staging_scd2_columns(cols) }},
    {{ staging_loaded_at(cols) }} as loaded_at
from {{ staging_from(raw, cols, key='person_id') }} as source_rows
