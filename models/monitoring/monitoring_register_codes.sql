{#-
  One row per school x code list x register code id used in attendance sessions (up to as_of_date()): how
  the code was resolved (attendance_code_map), how many sessions use it, how many of those are unmapped
  (excluded from every rate) and their dates. Lists every unmapped code and every code assumed present.
-#}
with sessions as (
    select
        school_code,
        code_list,
        mis_code_id,
        max(mis_code) as mis_code,
        max(mapping_source) as mapping_source,
        max(case when not is_code_mapped then mapped_statutory_code end) as unmapped_statutory_code,
        count(*) as sessions,
        sum(case when is_code_mapped then 0 else 1 end) as unmapped_sessions,
        min(session_date) as first_session_date,
        max(session_date) as last_session_date,
        min(case when not is_code_mapped then session_date end) as first_unmapped_date,
        max(case when not is_code_mapped then session_date end) as last_unmapped_date
    from {{ ref('attendance_sessions') }}
    where mis_code_id is not null
    group by school_code, code_list, mis_code_id
)

select
    {{ surrogate_key(['s.school_code', 's.code_list', 's.mis_code_id']) }} as register_code_key,
    s.school_code,
    s.code_list,
    s.mis_code_id,
    coalesce(m.mis_code, s.mis_code) as mis_code,
    m.mis_code_name,
    s.mapping_source,
    m.statutory_code as mapped_statutory_code,
    s.unmapped_statutory_code,
    s.mapping_source = 'assumed_present' as is_assumed_present,
    s.unmapped_sessions > 0 as has_unmapped_sessions,
    cast(s.sessions as bigint) as sessions,
    cast(s.unmapped_sessions as bigint) as unmapped_sessions,
    s.first_session_date,
    s.last_session_date,
    s.first_unmapped_date,
    s.last_unmapped_date
from sessions as s
left join {{ ref('attendance_code_map') }} as m
    on m.school_code = s.school_code and m.code_list = s.code_list and m.mis_code_id = s.mis_code_id
