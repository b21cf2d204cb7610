-- One row per school (campus) seen in any MIS feed (int_mis__*). Names, phase, jurisdiction and the MIS come
-- from the schools file (no MIS sends them), falling back to school_code and 'england' for a school seen only
-- in data. The jurisdiction decides the measurement scheme (macro measurement_scheme).
with school_codes as (
    select school_code from {{ ref('int_mis__schools') }}
    union
    select school_code from {{ ref('int_mis__pupil_versions') }}
    union
    select school_code from {{ ref('int_mis__register_marks') }}
    union
    select school_code from {{ ref('int_mis__terms') }}
),

configured as (
    select
        school_code,
        max(school_name) as school_name,
        max(phase) as phase,
        max(jurisdiction) as jurisdiction,
        max(source_system) as source_system
    from {{ ref('int_mis__schools') }}
    group by school_code
),

registers as (
    select
        school_code,
        min(session_date) as first_register_date,
        max(session_date) as last_register_date,
        max(source_system) as source_system
    from {{ ref('int_mis__register_marks') }}
    where is_register_taken
    group by school_code
),

rest_code_lists as (
    select distinct school_code from {{ ref('stg_isams__absence_codes') }}
),

seed_code_maps as (
    select distinct school_code from {{ ref('isams_code_map') }}
),

described as (
    select
        s.school_code,
        coalesce(n.school_name, s.school_code) as school_name,
        n.phase,
        coalesce(n.jurisdiction, 'england') as jurisdiction,
        coalesce(n.source_system, g.source_system, 'isams') as source_system,
        r.school_code is not null as has_rest_code_lists,
        m.school_code is not null as has_seed_code_map,
        g.first_register_date,
        g.last_register_date
    from school_codes as s
    left join configured as n on n.school_code = s.school_code
    left join registers as g on g.school_code = s.school_code
    left join rest_code_lists as r on r.school_code = s.school_code
    left join seed_code_maps as m on m.school_code = s.school_code
)

select
    school_code,
    {{ surrogate_key(['school_code']) }} as school_key,
    school_name,
    phase,
    cast(jurisdiction as {{ dbt.type_string() }}) as jurisdiction,
    cast({{ measurement_scheme('jurisdiction') }} as {{ dbt.type_string() }}) as measurement_scheme,
    cast(source_system as {{ dbt.type_string() }}) as source_system,
    has_rest_code_lists,
    has_seed_code_map,
    first_register_date,
    last_register_date
from described
