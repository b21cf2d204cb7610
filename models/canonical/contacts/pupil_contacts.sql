-- One row per pupil x contact per school (latest version of each pair), keyed to the resolved pupil.
-- The relationship and parental responsibility are recorded on the contact in iSAMS (see contacts).
with links as (
    {{ latest_version(ref('stg_isams__contact_pupils'), ['school_code', 'contact_person_id', 'mis_pupil_id']) }}
)

select
    {{ surrogate_key(['l.school_code', 'l.contact_person_id', 'l.mis_pupil_id']) }} as pupil_contact_key,
    {{ surrogate_key(['l.school_code', 'l.contact_person_id']) }} as contact_key,
    x.pupil_key,
    x.enrolment_key,
    l.school_code,
    l.contact_person_id,
    l.mis_pupil_id,
    l.is_current_version as is_current
from links as l
left join {{ ref('pupil_identity_xref') }} as x
    on x.school_code = l.school_code and x.mis_pupil_id = l.mis_pupil_id
