{#-
  Per-school map from the school's own register codes to the statutory codes of its measurement scheme
  (schools.measurement_scheme: DfE letters in England, SEEMiS numeric codes in Scotland). One row per school x
  code list x code id. Resolution order (first that applies) - a school's own letter is NEVER read as a
  statutory letter:
    0. a code from the jurisdiction's national list (code_list 'national': the MIS sends the statutory code
       itself, as SEEMiS does): that code ('national_code');
    1. the governmentCode of the code in the school's REST list (absence and present codes alike);
    2. the school's row of seed isams_code_map;
    3. a code in the school's REST *present* list with no government code: present ('assumed_present';
       attendance_sessions uses '/' in the morning and '\' in the afternoon), listed once per code in
       monitoring_register_codes;
    4. nothing: unmapped ('none'), also listed when the code is used in registers but is in no list, so that
       the data test assert_every_register_code_is_mapped can name it.
  is_mapped: the statutory code exists in the school's scheme (statutory_attendance_codes).
  Which iSAMS list a mark's code id belongs to is decided in stg_isams__registration_statuses.
-#}
with statutory as (
    select distinct measurement_scheme, statutory_code from {{ ref('statutory_attendance_codes') }}
),

rest_codes as (
    select
        school_code,
        'absence' as code_list,
        cast(code_id as {{ dbt.type_string() }}) as mis_code_id,
        code as mis_code,
        name as mis_code_name,
        nullif(trim(government_code), '') as government_code
    from {{ ref('stg_isams__absence_codes') }}
    union all
    select
        school_code,
        'present' as code_list,
        cast(code_id as {{ dbt.type_string() }}) as mis_code_id,
        code as mis_code,
        name as mis_code_name,
        nullif(trim(government_code), '') as government_code
    from {{ ref('stg_isams__present_codes') }}
),

used_codes as (
    select
        school_code,
        code_list,
        mis_code_id,
        count(*) as register_marks
    from {{ ref('int_mis__register_marks') }}
    where is_register_taken and mis_code_id is not null
    group by school_code, code_list, mis_code_id
),

national_codes as (
    select
        school_code,
        code_list,
        mis_code_id,
        mis_code_id as mis_code,
        cast(null as {{ dbt.type_string() }}) as mis_code_name,
        mis_code_id as statutory_code,
        'national_code' as mapping_source,
        0 as priority
    from used_codes
    where code_list = 'national'
),

rest_government as (
    select
        school_code,
        code_list,
        mis_code_id,
        mis_code,
        mis_code_name,
        government_code as statutory_code,
        'rest_government_code' as mapping_source,
        1 as priority
    from rest_codes
    where government_code is not null
),

seed_rows as (
    select
        school_code,
        code_list,
        cast(isams_code_id as {{ dbt.type_string() }}) as mis_code_id,
        isams_code as mis_code,
        cast(null as {{ dbt.type_string() }}) as mis_code_name,
        nullif(trim(dfe_code), '') as statutory_code,
        'seed' as mapping_source,
        2 as priority
    from {{ ref('isams_code_map') }}
),

rest_without_government as (
    select
        school_code,
        code_list,
        mis_code_id,
        mis_code,
        mis_code_name,
        case when code_list = 'present' then '/' end as statutory_code,
        case when code_list = 'present' then 'assumed_present' else 'none' end as mapping_source,
        3 as priority
    from rest_codes
    where government_code is null
),

unknown_codes as (
    select
        school_code,
        code_list,
        mis_code_id,
        cast(null as {{ dbt.type_string() }}) as mis_code,
        cast(null as {{ dbt.type_string() }}) as mis_code_name,
        cast(null as {{ dbt.type_string() }}) as statutory_code,
        'none' as mapping_source,
        4 as priority
    from used_codes
),

candidates as (
    select * from national_codes
    union all
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
            partition by school_code, code_list, mis_code_id order by priority, statutory_code
        ) as candidate_rank
    from candidates
)

select
    {{ surrogate_key(['r.school_code', 'r.code_list', 'r.mis_code_id']) }} as code_map_key,
    r.school_code,
    r.code_list,
    r.mis_code_id,
    -- the school's own letters and name come from its REST list when it has one
    coalesce(n.mis_code, r.mis_code) as mis_code,
    coalesce(n.mis_code_name, r.mis_code_name) as mis_code_name,
    sc.measurement_scheme,
    r.statutory_code,
    r.mapping_source,
    r.statutory_code is not null and d.statutory_code is not null as is_mapped,
    cast(coalesce(u.register_marks, 0) as bigint) as register_marks
from ranked as r
left join {{ ref('schools') }} as sc on sc.school_code = r.school_code
left join rest_codes as n
    on n.school_code = r.school_code and n.code_list = r.code_list and n.mis_code_id = r.mis_code_id
left join statutory as d on d.measurement_scheme = sc.measurement_scheme and d.statutory_code = r.statutory_code
left join used_codes as u
    on u.school_code = r.school_code and u.code_list = r.code_list and u.mis_code_id = r.mis_code_id
where r.candidate_rank = 1
