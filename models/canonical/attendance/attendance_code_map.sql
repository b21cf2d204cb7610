{#-
  Per-school map from iSAMS register codes to DfE codes. One row per school x code list x iSAMS code id.
  Resolution order (first that applies) - a school's own letter is NEVER read as a DfE letter:
    1. the governmentCode of the code in the school's REST list (absence and present codes alike);
    2. the school's row of seed isams_code_map;
    3. a code in the school's REST *present* list with no government code: present ('assumed_present';
       attendance_sessions uses '/' in the morning and '\' in the afternoon), listed once per code in
       monitoring_register_codes;
    4. nothing: unmapped ('none'), also listed when the code is used in registers but is in no list, so that
       the data test assert_every_register_code_is_mapped can name it.
  Which list a mark's code id belongs to is decided in stg_isams__registration_statuses.
-#}
with dfe_letters as (
    select distinct dfe_code from {{ ref('dfe_attendance_codes') }}
),

rest_codes as (
    select
        school_code,
        'absence' as code_list,
        code_id as isams_code_id,
        code as isams_code,
        name as isams_code_name,
        nullif(trim(government_code), '') as government_code
    from {{ ref('stg_isams__absence_codes') }}
    union all
    select
        school_code,
        'present' as code_list,
        code_id as isams_code_id,
        code as isams_code,
        name as isams_code_name,
        nullif(trim(government_code), '') as government_code
    from {{ ref('stg_isams__present_codes') }}
),

rest_government as (
    select
        school_code,
        code_list,
        isams_code_id,
        isams_code,
        isams_code_name,
        government_code as dfe_code,
        'rest_government_code' as mapping_source,
        1 as priority
    from rest_codes
    where government_code is not null
),

seed_rows as (
    select
        school_code,
        code_list,
        isams_code_id,
        isams_code,
        cast(null as {{ dbt.type_string() }}) as isams_code_name,
        nullif(trim(dfe_code), '') as dfe_code,
        'seed' as mapping_source,
        2 as priority
    from {{ ref('isams_code_map') }}
),

rest_without_government as (
    select
        school_code,
        code_list,
        isams_code_id,
        isams_code,
        isams_code_name,
        case when code_list = 'present' then '/' end as dfe_code,
        case when code_list = 'present' then 'assumed_present' else 'none' end as mapping_source,
        3 as priority
    from rest_codes
    where government_code is null
),

used_codes as (
    select
        school_code,
        code_list,
        isams_code_id,
        count(*) as register_marks
    from {{ ref('stg_isams__registration_statuses') }}
    where is_register_taken and isams_code_id is not null
    group by school_code, code_list, isams_code_id
),

unknown_codes as (
    select
        school_code,
        code_list,
        isams_code_id,
        cast(null as {{ dbt.type_string() }}) as isams_code,
        cast(null as {{ dbt.type_string() }}) as isams_code_name,
        cast(null as {{ dbt.type_string() }}) as dfe_code,
        'none' as mapping_source,
        4 as priority
    from used_codes
),

candidates as (
    select * from rest_government
    union all
    select * from seed_rows
    union all
    select * from rest_without_government
    union all
    select * from unknown_codes
),

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by school_code, code_list, isams_code_id order by priority, dfe_code
        ) as candidate_rank
    from candidates
)

select
    {{ surrogate_key(['r.school_code', 'r.code_list', 'r.isams_code_id']) }} as code_map_key,
    r.school_code,
    r.code_list,
    r.isams_code_id,
    -- the school's own letters and name come from its REST list when it has one
    coalesce(n.isams_code, r.isams_code) as isams_code,
    coalesce(n.isams_code_name, r.isams_code_name) as isams_code_name,
    r.dfe_code,
    r.mapping_source,
    r.dfe_code is not null and d.dfe_code is not null as is_mapped,
    cast(coalesce(u.register_marks, 0) as bigint) as register_marks
from ranked as r
left join rest_codes as n
    on n.school_code = r.school_code and n.code_list = r.code_list and n.isams_code_id = r.isams_code_id
left join dfe_letters as d on d.dfe_code = r.dfe_code
left join used_codes as u
    on u.school_code = r.school_code and u.code_list = r.code_list and u.isams_code_id = r.isams_code_id
where r.candidate_rank = 1
