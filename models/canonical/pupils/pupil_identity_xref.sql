{#-
  Identity cross-reference: one row per source pupil record (school_code x mis_pupil_id), resolved to one
  person across schools and years. Survivorship and matching rules are in the yml (model description).
-#}
with versions as (
    select
        school_code,
        mis_pupil_id,
        pupil_id,
        -- the national pupil number, prefixed by its kind so an English UPN and a Scottish SCN never collide
        case
            when upn is not null and trim(upn) <> '' then 'upn:' || upper(trim(upn))
            when scn is not null and trim(scn) <> '' then 'scn:' || trim(scn)
        end as national_id,
        forename,
        surname,
        date_of_birth,
        is_current_version,
        valid_from
    from {{ ref('int_mis__pupil_versions') }}
    where mis_pupil_id is not null
),

latest_versions as (
    {{ latest_version('versions', ['school_code', 'mis_pupil_id']) }}
),

record_upns as (
    -- The latest non-null national number of the record (UPN or SCN: rarely removed; a blank in the latest
    -- version is not a change of person). Held as 'upn:<UPN>' / 'scn:<SCN>'.
    select school_code, mis_pupil_id, upn
    from (
        select
            school_code,
            mis_pupil_id,
            national_id as upn,
            row_number() over (partition by school_code, mis_pupil_id order by valid_from desc) as upn_rank
        from versions
        where national_id is not null
    ) as u
    where upn_rank = 1
),

batch_records as (
    select
        v.school_code,
        v.mis_pupil_id,
        v.pupil_id,
        u.upn,
        case
            when v.forename is not null and v.surname is not null and v.date_of_birth is not null
                then lower(trim(v.forename)) || '|' || lower(trim(v.surname)) || '|'
                    || cast(v.date_of_birth as {{ dbt.type_string() }})
        end as name_dob_key,
        'batch' as record_source
    from latest_versions as v
    left join record_upns as u
        on u.school_code = v.school_code and u.mis_pupil_id = v.mis_pupil_id
),

register_only_records as (
    select distinct
        r.school_code,
        r.mis_pupil_id,
        cast(null as integer) as pupil_id,
        cast(null as {{ dbt.type_string() }}) as upn,
        cast(null as {{ dbt.type_string() }}) as name_dob_key,
        'registers_only' as record_source
    from {{ ref('int_mis__register_marks') }} as r
    where r.mis_pupil_id is not null
        and not exists (
            select 1 from batch_records as b
            where b.school_code = r.school_code and b.mis_pupil_id = r.mis_pupil_id
        )
),

records as (
    select * from batch_records
    union all
    select * from register_only_records
),

name_dob_upns as (
    select
        name_dob_key,
        count(distinct upn) as distinct_upns,
        max(upn) as only_upn
    from records
    where name_dob_key is not null and upn is not null
    group by name_dob_key
),

resolved as (
    select
        r.school_code,
        r.mis_pupil_id,
        r.pupil_id,
        r.record_source,
        case
            when r.upn is not null then r.upn
            when r.name_dob_key is not null and n.distinct_upns = 1 then n.only_upn
            when r.name_dob_key is not null and n.name_dob_key is null then 'name_dob:' || r.name_dob_key
            else 'record:' || r.school_code || ':' || r.mis_pupil_id
        end as person_id,
        case
            when r.upn is not null then 'upn'
            when r.name_dob_key is not null and n.distinct_upns = 1 then 'name_dob_to_upn'
            when r.name_dob_key is not null and n.name_dob_key is null then 'name_dob'
            when r.record_source = 'registers_only' then 'registers_only'
            when r.name_dob_key is not null then 'ambiguous_name_dob'
            else 'incomplete_identity'
        end as match_method
    from records as r
    left join name_dob_upns as n on n.name_dob_key = r.name_dob_key
)

select
    school_code,
    mis_pupil_id,
    pupil_id,
    record_source,
    person_id,
    -- Keyed hashes (secret SCHOOLWH_PUPIL_KEY_SECRET): person ids are guessable (UPN, name and date of birth),
    -- so a plain md5 of one could be reversed by anyone holding a list of pupils.
    {{ keyed_hash(['person_id']) }} as pupil_key,
    {{ keyed_hash(['school_code', 'person_id']) }} as enrolment_key,
    match_method,
    count(*) over (partition by person_id) as person_source_records,
    count(*) over (partition by person_id, school_code) as enrolment_source_records
from resolved
