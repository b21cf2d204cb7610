-- One row per pupil x custom group per school (latest version of each membership). Memberships carry the
-- numeric iSAMS pupil id, resolved through pupil_identity_xref.pupil_id.
with memberships as (
    {{ latest_version(ref('stg_isams__custom_group_memberships'), ['school_code', 'membership_id']) }}
),

pupil_ids as (
    select school_code, pupil_id, min(pupil_key) as pupil_key, min(enrolment_key) as enrolment_key
    from {{ ref('pupil_identity_xref') }}
    where pupil_id is not null
    group by school_code, pupil_id
)

select
    {{ surrogate_key(['m.school_code', 'm.membership_id']) }} as custom_group_membership_key,
    {{ surrogate_key(['m.school_code', 'm.custom_group_id']) }} as custom_group_key,
    p.pupil_key,
    p.enrolment_key,
    m.school_code,
    m.membership_id,
    m.custom_group_id,
    m.pupil_id,
    m.is_current_version as is_current
from memberships as m
left join pupil_ids as p on p.school_code = m.school_code and p.pupil_id = m.pupil_id
