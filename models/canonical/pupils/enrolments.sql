{#-
  One row per enrolment = person x school. Rules (also in the yml):
  - start_date = the earlier of the earliest enrolment_date of any version and the first register date;
  - end_date = the last register date when the person is no longer in the school's current Batch feed
    (every version of every record has valid_to set, or the person is known only from registers);
    null while on roll. A re-enrolment at the same school (a second record, or the same record returning)
    is the same enrolment: DfE counts a pupil's sessions at one school as one enrolment.
-#}
with versions as (
    select
        x.enrolment_key,
        bool_or(p.is_current_version) as is_in_current_feed,
        min(p.enrolment_date) as first_enrolment_date,
        max(p.valid_to) as last_valid_to
    from {{ ref('pupil_identity_xref') }} as x
    inner join {{ ref('int_mis__pupil_versions') }} as p
        on p.school_code = x.school_code and p.mis_pupil_id = x.mis_pupil_id
    group by x.enrolment_key
),

registers as (
    select
        x.enrolment_key,
        min(r.session_date) as first_register_date,
        max(r.session_date) as last_register_date
    from {{ ref('pupil_identity_xref') }} as x
    inner join {{ ref('int_mis__register_marks') }} as r
        on r.school_code = x.school_code and r.mis_pupil_id = x.mis_pupil_id
    where r.is_register_taken
    group by x.enrolment_key
),

enrolments as (
    select
        x.enrolment_key,
        x.school_code,
        x.pupil_key,
        x.person_id,
        count(*) as source_records,
        -- attributes from a Batch version, or (a leaver before our first load) from the leavers list
        max(case when x.record_source = 'batch' or f.mis_pupil_id is not null then 1 else 0 end) = 1
            as has_known_attributes
    from {{ ref('pupil_identity_xref') }} as x
    left join {{ ref('stg_isams__former_pupils') }} as f
        on f.school_code = x.school_code and f.mis_pupil_id = x.mis_pupil_id and x.record_source = 'registers_only'
    group by x.enrolment_key, x.school_code, x.pupil_key, x.person_id
)

select
    e.enrolment_key,
    e.school_code,
    e.pupil_key,
    e.person_id,
    coalesce(
        case
            when v.first_enrolment_date <= r.first_register_date then v.first_enrolment_date
            else r.first_register_date
        end,
        v.first_enrolment_date,
        r.first_register_date
    ) as start_date,
    case
        when coalesce(v.is_in_current_feed, false) then cast(null as date)
        else coalesce(r.last_register_date, cast(v.last_valid_to as date))
    end as end_date,
    coalesce(v.is_in_current_feed, false) as is_on_roll,
    not coalesce(v.is_in_current_feed, false) as is_leaver,
    e.has_known_attributes,
    v.first_enrolment_date as mis_enrolment_date,
    r.first_register_date,
    r.last_register_date,
    cast(e.source_records as integer) as source_records
from enrolments as e
left join versions as v on v.enrolment_key = e.enrolment_key
left join registers as r on r.enrolment_key = e.enrolment_key
