{#-
  One row per register mark (merge on (school_code, id), not scd2).

  THE ONE PLACE that interprets iSAMS RegistrationStatus (see ingestion/isams/datasets.py). If a live
  iSAMS disagrees, change it here and nowhere else:
    no Code, Registered '1'  -> present (no code)
    no Code, Registered '0'  -> register not yet taken               (is_register_taken = false)
    a Code                   -> the id of a code in one of the SCHOOL'S OWN code lists; the list it belongs
                                to decides present or absence (code_list), not the Registered flag:
        the school's REST present/absence code lists, for an id found there;
        else the school's rows of seed isams_code_map (which name the list);
        an id in BOTH lists (the two id ranges may collide) -> Registered decides ('1' present, '0' absence);
        an id in NEITHER list -> Registered decides, flagged (code_list_source = 'registered_flag').
    Registered is only a cross-check for a coded mark (iSAMS does not document its meaning; some schools
    send '1' for every taken register): registered_agrees_with_code_list, counted per school in
    monitoring_register_code_lists.
    session = 'AM' when the register time of day is before 12:00, else 'PM'.
-#}
{%- set raw = source('isams', 'registration_statuses') -%}
{%- set cols = staging_columns_of(raw) -%}

with marks as (
    select
        {{ staging_field(cols, 'school_code') }} as school_code,
        {{ staging_field(cols, 'id', 'bigint') }} as registration_status_id,
        {{ staging_field(cols, 'pupil_id') }} as mis_pupil_id,
        {{ staging_field(cols, 'registration_date_time', 'timestamp') }} as registered_at,
        {{ staging_field(cols, 'registered', 'boolean') }} as is_registered,
        {{ staging_field(cols, 'code', 'integer') }} as isams_code_id,
        {{ staging_loaded_at(cols) }} as loaded_at
    from {{ staging_from(raw, cols) }} as source_rows
),

rest_lists as (
    select school_code, code_id, 'present' as code_list from {{ ref('stg_isams__present_codes') }}
    union all
    select school_code, code_id, 'absence' as code_list from {{ ref('stg_isams__absence_codes') }}
),

seed_lists as (
    select school_code, isams_code_id as code_id, code_list from {{ ref('isams_code_map') }}
),

-- per school x code id: which of the school's lists hold it; REST lists win over seed rows for an id
lists as (
    select school_code, code_id, code_list, 'rest_code_list' as list_source from rest_lists
    union all
    select s.school_code, s.code_id, s.code_list, 'seed_code_map' as list_source
    from seed_lists as s
    left join (select distinct school_code, code_id from rest_lists) as r
        on r.school_code = s.school_code and r.code_id = s.code_id
    where r.code_id is null
),

membership as (
    select
        school_code,
        code_id,
        max(case when code_list = 'present' then 1 else 0 end) = 1 as in_present_list,
        max(case when code_list = 'absence' then 1 else 0 end) = 1 as in_absence_list,
        max(list_source) as list_source
    from lists
    group by school_code, code_id
),

interpreted as (
    select
        m.*,
        case
            when m.isams_code_id is null then null
            when l.in_present_list and l.in_absence_list
                then case when m.is_registered then 'present' when not m.is_registered then 'absence' end
            when l.in_present_list then 'present'
            when l.in_absence_list then 'absence'
            when m.is_registered then 'present'
            when not m.is_registered then 'absence'
        end as code_list,
        case
            when m.isams_code_id is null then null
            when l.in_present_list and l.in_absence_list then 'registered_flag_both_lists'
            when l.code_id is not null then l.list_source
            else 'registered_flag'
        end as code_list_source,
        case
            when m.isams_code_id is null or l.code_id is null or (l.in_present_list and l.in_absence_list)
                then cast(null as boolean)
            else m.is_registered = l.in_present_list
        end as registered_agrees_with_code_list
    from marks as m
    left join membership as l
        on l.school_code = m.school_code and l.code_id = m.isams_code_id
)

select
    school_code,
    registration_status_id,
    mis_pupil_id,
    cast(registered_at as date) as session_date,
    case
        when registered_at is null then null
        when extract(hour from registered_at) < 12 then 'AM'
        else 'PM'
    end as session,
    registered_at,
    is_registered,
    isams_code_id,
    code_list,
    code_list_source,
    registered_agrees_with_code_list,
    coalesce(is_registered, false) or isams_code_id is not null as is_register_taken,
    loaded_at
from interpreted
