-- One row per pupil x teaching set per school (latest version of each set-list entry), keyed to the resolved pupil.
with lists as (
    {{ latest_version(ref('stg_isams__set_lists'), ['school_code', 'set_list_id']) }}
)

select
    {{ surrogate_key(['l.school_code', 'l.set_list_id']) }} as teaching_set_membership_key,
    {{ surrogate_key(['l.school_code', 'l.set_id']) }} as teaching_set_key,
    x.pupil_key,
    x.enrolment_key,
    l.school_code,
    l.set_list_id,
    l.set_id,
    l.mis_pupil_id,
    cast(l.valid_from as date) as first_seen_date,
    cast(l.valid_to as date) as left_date,
    l.is_current_version as is_current
from lists as l
left join {{ ref('pupil_identity_xref') }} as x
    on x.school_code = l.school_code and x.mis_pupil_id = l.mis_pupil_id
