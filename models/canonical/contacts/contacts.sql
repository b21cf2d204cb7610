-- One row per contact (parent, carer, guardian) per school (latest version).
with contacts as (
    {{ latest_version(ref('stg_isams__contacts'), ['school_code', 'contact_person_id']) }}
)

select
    {{ surrogate_key(['school_code', 'contact_person_id']) }} as contact_key,
    school_code,
    contact_person_id,
    forename,
    surname,
    relationship,
    email_address,
    telephone,
    mobile_number,
    parental_responsibility,
    has_parental_responsibility,
    address_town,
    address_postcode,
    is_current_version as is_current
from contacts
