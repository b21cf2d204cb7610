{#-
  The one-grain marts add up: a plain SUM over any of them counts each session (and each enrolment) once.
  Each check compares the sums of one mart with those of another model over the same scope; a returned row names
  the check, the scope and the figures on both sides. Scopes holding a suppressed row (var min_cohort_size) are
  skipped: their figures are nulled on purpose.
-#}
{%- set checks = [
    {
        'name': 'school_attendance_by_year equals persistent_absence (per school and year)',
        'keys': ['school_code', 'academic_year'],
        'left': "select school_code, academic_year, enrolments, possible_sessions, absence_sessions, persistent_absentees, severe_absentees, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('school_attendance_by_year'),
        'right': "select school_code, academic_year, 1 as enrolments, possible_sessions, absence_sessions, case when is_persistent_absentee then 1 else 0 end as persistent_absentees, case when is_severe_absentee then 1 when not is_severe_absentee then 0 end as severe_absentees, 0 as suppressed from " ~ ref('persistent_absence'),
        'measures': ['enrolments', 'possible_sessions', 'absence_sessions', 'persistent_absentees', 'severe_absentees'],
    },
    {
        'name': 'school_attendance_by_year equals fct_attendance_session (possible and attended sessions per school and year)',
        'keys': ['school_code', 'academic_year'],
        'left': "select school_code, academic_year, possible_sessions, attended_sessions, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('school_attendance_by_year'),
        'right': "select school_code, academic_year, case when is_possible_session then 1 else 0 end as possible_sessions, case when is_possible_session and is_attendance then 1 else 0 end as attended_sessions, 0 as suppressed from " ~ ref('fct_attendance_session') ~ " where session_date <= " ~ as_of_date(),
        'measures': ['possible_sessions', 'attended_sessions'],
    },
    {
        'name': 'school_attendance_by_term summed over terms equals school_attendance_by_year (sessions)',
        'keys': ['school_code', 'academic_year'],
        'left': "select school_code, academic_year, possible_sessions, attended_sessions, absence_sessions, late_sessions, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('school_attendance_by_term'),
        'right': "select school_code, academic_year, possible_sessions, attended_sessions, absence_sessions, late_sessions, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('school_attendance_by_year'),
        'measures': ['possible_sessions', 'attended_sessions', 'absence_sessions', 'late_sessions'],
    },
    {
        'name': 'year_group_attendance summed over year groups equals school_attendance_by_term',
        'keys': ['school_code', 'academic_year', 'term'],
        'left': "select school_code, academic_year, term, enrolments, possible_sessions, absence_sessions, persistent_absentees, severe_absentees, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('year_group_attendance'),
        'right': "select school_code, academic_year, term, enrolments, possible_sessions, absence_sessions, persistent_absentees, severe_absentees, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('school_attendance_by_term'),
        'measures': ['enrolments', 'possible_sessions', 'absence_sessions', 'persistent_absentees', 'severe_absentees'],
    },
    {
        'name': 'school_attendance_by_month summed over months equals school_attendance_by_year (sessions)',
        'keys': ['school_code', 'academic_year'],
        'left': "select school_code, academic_year, possible_sessions, attended_sessions, absence_sessions, late_sessions, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('school_attendance_by_month'),
        'right': "select school_code, academic_year, possible_sessions, attended_sessions, absence_sessions, late_sessions, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('school_attendance_by_year'),
        'measures': ['possible_sessions', 'attended_sessions', 'absence_sessions', 'late_sessions'],
    },
    {
        'name': 'group_attendance_by_month equals school_attendance_by_month summed over schools',
        'keys': ['academic_year', 'month_start'],
        'left': "select academic_year, month_start, enrolments, possible_sessions, absence_sessions, late_sessions, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('group_attendance_by_month'),
        'right': "select academic_year, month_start, enrolments, possible_sessions, absence_sessions, late_sessions, case when is_suppressed then 1 else 0 end as suppressed from " ~ ref('school_attendance_by_month'),
        'measures': ['enrolments', 'possible_sessions', 'absence_sessions', 'late_sessions'],
    },
] -%}

{%- for check in checks %}
{%- set k = check['keys'] %}
select
    '{{ check['name'] }}' as check_name,
    {% for key in k %}cast(coalesce(l.{{ key }}, r.{{ key }}) as {{ dbt.type_string() }}) as scope_{{ loop.index }}, {% endfor %}
    {%- for _ in range(3 - k | length) %}cast(null as {{ dbt.type_string() }}) as scope_{{ k | length + loop.index }}, {% endfor %}
    cast(l.possible_sessions as bigint) as left_possible_sessions,
    cast(r.possible_sessions as bigint) as right_possible_sessions,
    'the first model counts ' || coalesce(cast(l.possible_sessions as {{ dbt.type_string() }}), 'nothing')
        || ' possible sessions here and the second ' || coalesce(cast(r.possible_sessions as {{ dbt.type_string() }}), 'nothing')
        || ': a mart double counts or drops rows (check its grain and filters)' as problem
from (
    select {{ k | join(', ') }}, {% for m in check['measures'] %}sum({{ m }}) as {{ m }}, {% endfor %}max(suppressed) as suppressed
    from ({{ check['left'] }}) as x group by {{ k | join(', ') }}
) as l
full outer join (
    select {{ k | join(', ') }}, {% for m in check['measures'] %}sum({{ m }}) as {{ m }}, {% endfor %}max(suppressed) as suppressed
    from ({{ check['right'] }}) as x group by {{ k | join(', ') }}
) as r
    on {% for key in k %}l.{{ key }} = r.{{ key }}{{ ' and ' if not loop.last }}{% endfor %}
where coalesce(l.suppressed, 0) = 0 and coalesce(r.suppressed, 0) = 0
    and (l.{{ k[0] }} is null or r.{{ k[0] }} is null
    {%- for m in check['measures'] %}
        or coalesce(l.{{ m }}, -1) <> coalesce(r.{{ m }}, -1)
    {%- endfor %})
{% if not loop.last %}union all{% endif %}
{%- endfor %}
