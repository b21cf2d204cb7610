{#-
  One row per person (resolved pupil). Survivorship: the person's attributes come from the latest version
  of its "survivor" source record: a record still in a current Batch feed first, then the record whose
  latest version is most recent. The UPN (England) and the SCN
  (Scotland) are the latest non-null numbers of any of the person's records.
-#}
with latest_versions as (
    {{ latest_version(ref('int_mis__pupil_versions'), ['school_code', 'mis_pupil_id']) }}
),

record_latest as (
    select
        x.person_id,
        x.pupil_key,
        v.school_code,
        v.mis_pupil_id,
        v.upn,
        v.scn,
        v.person_guid,
        v.forename,
        v.middle_names,
        v.surname,
        v.preferred_name,
        v.gender,
        v.date_of_birth,
        v.valid_from,
        v.is_current_version,
        row_number() over (
            partition by x.person_id
            order by case when v.is_current_version then 0 else 1 end, v.valid_from desc, v.school_code, v.mis_pupil_id
        ) as survivor_rank
    from {{ ref('pupil_identity_xref') }} as x
    inner join latest_versions as v
        on v.school_code = x.school_code and v.mis_pupil_id = x.mis_pupil_id
),

upns as (
    select person_id, upn
    from (
        select
            person_id,
            upper(trim(upn)) as upn,
            row_number() over (partition by person_id order by valid_from desc) as upn_rank
        from record_latest
        where upn is not null and trim(upn) <> ''
    ) as u
    where upn_rank = 1
),

scns as (
    select person_id, scn
    from (
        select
            person_id,
            trim(scn) as scn,
            row_number() over (partition by person_id order by valid_from desc) as scn_rank
        from record_latest
        where scn is not null and trim(scn) <> ''
    ) as c
    where scn_rank = 1
),

people as (
    select
        person_id,
        pupil_key,
        count(*) as source_records,
        count(distinct school_code) as schools
    from {{ ref('pupil_identity_xref') }}
    group by person_id, pupil_key
)

select
    p.pupil_key,
    p.person_id,
    u.upn,
    c.scn,
    s.person_guid,
    s.forename,
    s.middle_names,
    s.surname,
    s.preferred_name,
    s.gender,
    s.date_of_birth,
    s.school_code as survivor_school_code,
    s.mis_pupil_id as survivor_mis_pupil_id,
    coalesce(s.is_current_version, false) as is_in_current_feed,
    s.school_code is null as is_registers_only,
    cast(p.source_records as integer) as source_records,
    cast(p.schools as integer) as schools
from people as p
left join record_latest as s on s.person_id = p.person_id and s.survivor_rank = 1
left join upns as u on u.person_id = p.person_id
left join scns as c on c.person_id = p.person_id
