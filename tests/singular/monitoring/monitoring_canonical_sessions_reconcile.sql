-- Per school: every register taken in any MIS feed (int_mis__register_marks, up to the as-of date) is exactly one canonical attendance
-- session per enrolment x date x session, and nothing else is. Fails naming the school and both counts.
with staged as (
    select
        r.school_code,
        count(distinct {{ surrogate_key(["coalesce(x.enrolment_key, 'no-identity:' || r.mis_pupil_id)",
                                          'r.session_date', 'r.session']) }}) as sessions
    from {{ ref('int_mis__register_marks') }} as r
    left join {{ ref('pupil_identity_xref') }} as x
        on x.school_code = r.school_code and x.mis_pupil_id = r.mis_pupil_id
    where r.is_register_taken and r.session_date <= {{ as_of_date() }}
    group by r.school_code
),
canonical as (
    select school_code, count(*) as sessions
    from {{ ref('attendance_sessions') }}
    group by school_code
)
select
    coalesce(s.school_code, c.school_code) as school_code,
    coalesce(s.sessions, 0) as staging_sessions,
    coalesce(c.sessions, 0) as canonical_sessions,
    'School ' || coalesce(s.school_code, c.school_code) || ': staging has '
        || cast(coalesce(s.sessions, 0) as {{ dbt.type_string() }}) || ' taken register sessions but canonical has '
        || cast(coalesce(c.sessions, 0) as {{ dbt.type_string() }}) as problem
from staged as s
full outer join canonical as c on c.school_code = s.school_code
where coalesce(s.sessions, 0) <> coalesce(c.sessions, 0)
