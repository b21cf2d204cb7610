-- One row per school (campus) seen in any staging dataset. Names come from the schools file (iSAMS does
-- not send them), falling back to school_code for a school seen only in data.
with school_codes as (
    select school_code from {{ ref('stg_isams__schools') }}
    union
    select school_code from {{ ref('stg_isams__pupils') }}
    union
    select school_code from {{ ref('stg_isams__registration_statuses') }}
    union
    select school_code from {{ ref('stg_isams__terms') }}
),

registers as (
    select
        school_code,
        min(session_date) as first_register_date,
        max(session_date) as last_register_date
    from {{ ref('stg_isams__registration_statuses') }}
    where is_register_taken
    group by school_code
),

rest_code_lists as (
    select distinct school_code from {{ ref('stg_isams__absence_codes') }}
),

seed_code_maps as (
    select distinct school_code from {{ ref('isams_code_map') }}
)

select
    s.school_code,
    {{ surrogate_key(['s.school_code']) }} as school_key,
    coalesce(n.school_name, s.school_code) as school_name,
    n.phase,
    cast('isams' as {{ dbt.type_string() }}) as source_system,
    r.school_code is not null as has_rest_code_lists,
    m.school_code is not null as has_seed_code_map,
    g.first_register_date,
    g.last_register_date
from school_codes as s
left join {{ ref('stg_isams__schools') }} as n on n.school_code = s.school_code
left join registers as g on g.school_code = s.school_code
left join rest_code_lists as r on r.school_code = s.school_code
left join seed_code_maps as m on m.school_code = s.school_code
