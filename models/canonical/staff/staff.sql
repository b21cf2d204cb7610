-- One row per staff member per school (latest version; is_current_version false = left the feed).
with staff as (
    {{ latest_version(ref('stg_isams__staff'), ['school_code', 'staff_id']) }}
)

select
    {{ surrogate_key(['school_code', 'staff_id']) }} as staff_key,
    school_code,
    staff_id,
    person_id,
    person_guid,
    user_code,
    title,
    forename,
    middle_names,
    surname,
    preferred_name,
    gender,
    date_of_birth,
    school_email_address,
    is_teaching_staff,
    leaving_date,
    is_current_version as is_current
from staff
