-- One row per teaching set per school (latest version), with its subject, department and main teacher.
with sets as (
    {{ latest_version(ref('stg_isams__teaching_sets'), ['school_code', 'set_id']) }}
),

subjects as (
    {{ latest_version(ref('stg_isams__subjects'), ['school_code', 'subject_id']) }}
),

departments as (
    {{ latest_version(ref('stg_isams__departments'), ['school_code', 'department_id']) }}
),

teachers as (
    select school_code, set_id, staff_id
    from (
        select
            t.*,
            row_number() over (
                partition by t.school_code, t.set_id
                order by case when t.is_primary_teacher then 0 else 1 end, t.staff_id
            ) as teacher_rank
        from {{ ref('stg_isams__teaching_set_teachers') }} as t
        where t.is_current_version
    ) as ranked
    where teacher_rank = 1
)

select
    {{ surrogate_key(['s.school_code', 's.set_id']) }} as teaching_set_key,
    s.school_code,
    s.set_id,
    s.set_code,
    s.set_name,
    s.set_number,
    s.block,
    s.nc_year,
    s.subject_id,
    sub.subject_code,
    sub.subject_name,
    sub.department_id,
    d.department_name,
    case when t.staff_id is not null then {{ surrogate_key(['t.school_code', 't.staff_id']) }} end as main_teacher_staff_key,
    s.is_current_version as is_current
from sets as s
left join subjects as sub on sub.school_code = s.school_code and sub.subject_id = s.subject_id
left join departments as d on d.school_code = sub.school_code and d.department_id = sub.department_id
left join teachers as t on t.school_code = s.school_code and t.set_id = s.set_id
