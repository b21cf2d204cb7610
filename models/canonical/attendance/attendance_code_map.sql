{#-
  Per-school map from iSAMS register codes to DfE codes. One row per school x code list x iSAMS code id.
  Priority: a row of seed isams_code_map > the REST code list > nothing (unmapped, but listed when the code
  is used in registers so that the data test can name it).
  - REST absence codes map to their governmentCode.
  - REST present codes have no government code: a present code whose letter is itself a DfE attendance code
    (present or approved educational activity, e.g. 'L') maps to it; any other needs a seed row.
-#}
with dfe_attendance_letters as (
    select distinct dfe_code from {{ ref('dfe_attendance_codes') }} where is_attendance
),

dfe_letters as (
    select distinct dfe_code from {{ ref('dfe_attendance_codes') }}
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
        1 as priority
    from {{ ref('isams_code_map') }}
),

rest_absence as (
    select
        school_code,
        'absence' as code_list,
        code_id as isams_code_id,
        code as isams_code,
        name as isams_code_name,
        nullif(trim(government_code), '') as dfe_code,
        'rest_government_code' as mapping_source,
        2 as priority
    from {{ ref('stg_isams__absence_codes') }}
),

rest_present as (
    select
        p.school_code,
        'present' as code_list,
        p.code_id as isams_code_id,
        p.code as isams_code,
        p.name as isams_code_name,
        d.dfe_code,
        'rest_present_letter' as mapping_source,
        2 as priority
    from {{ ref('stg_isams__present_codes') }} as p
    left join dfe_attendance_letters as d on d.dfe_code = trim(p.code)
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
        3 as priority
    from used_codes
),

candidates as (
    select * from seed_rows
    union all
    select * from rest_absence
    union all
    select * from rest_present
    union all
    select * from unknown_codes
),

ranked as (
    select
        candidates.*,
        row_number() over (
            partition by school_code, code_list, isams_code_id order by priority
        ) as candidate_rank
    from candidates
),

-- REST names are kept when a seed row overrides the mapping.
rest_names as (
    select school_code, code_list, isams_code_id, isams_code, isams_code_name
    from ranked
    where priority = 2
)

select
    {{ surrogate_key(['r.school_code', 'r.code_list', 'r.isams_code_id']) }} as code_map_key,
    r.school_code,
    r.code_list,
    r.isams_code_id,
    coalesce(r.isams_code, n.isams_code) as isams_code,
    coalesce(r.isams_code_name, n.isams_code_name) as isams_code_name,
    r.dfe_code,
    r.mapping_source,
    r.dfe_code is not null and d.dfe_code is not null as is_mapped,
    cast(coalesce(u.register_marks, 0) as bigint) as register_marks
from ranked as r
left join rest_names as n
    on n.school_code = r.school_code and n.code_list = r.code_list and n.isams_code_id = r.isams_code_id
left join dfe_letters as d on d.dfe_code = r.dfe_code
left join used_codes as u
    on u.school_code = r.school_code and u.code_list = r.code_list and u.isams_code_id = r.isams_code_id
where r.candidate_rank = 1
