{#-
  Session counts and cohort attributes per enrolment x academic year x reporting period: THE one place where
  the attendance marts' per-enrolment sums and "attributes of the last session" are written.
  period_type 'month' (period = the month's first day as ISO text, month_start set), 'term' (period = the
  term, or '(no term)') and 'year' (period = 'all', the academic year to date). Rolled up from the month x
  term slices of int_attendance__enrolment_months, so a month that spans two terms is one month row and each
  term row adds up its months. Attributes are those of the period's last session (the slice with the latest
  session; a later month wins a tie).
-#}
{%- set counts = [
    'possible_sessions', 'attended_sessions', 'present_sessions', 'aea_sessions',
    'authorised_absence_sessions', 'unauthorised_absence_sessions', 'temporary_exclusion_sessions', 'absence_sessions',
    'late_before_close_sessions', 'late_after_close_sessions', 'late_sessions',
    'not_possible_sessions', 'unmapped_sessions',
] -%}
{%- set attributes = [
    'measurement_scheme', 'nc_year', 'year_of_schooling', 'year_group', 'form_code', 'academic_house', 'boarding_house', 'is_boarder', 'gender',
    'is_compulsory_school_age',
] -%}
with months as (
    select * from {{ ref('int_attendance__enrolment_months') }}
),

slices as (
    select months.*, 'month' as period_type, cast(month_start as {{ dbt.type_string() }}) as period from months
    union all
    select months.*, 'term' as period_type, term as period from months
    union all
    select months.*, 'year' as period_type, 'all' as period from months
),

totals as (
    select
        enrolment_key,
        pupil_key,
        school_code,
        academic_year,
        period_type,
        period,
        min(first_session_date) as first_session_date,
        max(last_session_date) as last_session_date,
        max(case when period_type = 'month' then month_start end) as month_start,
        {%- for column in counts %}
        cast(sum({{ column }}) as integer) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from slices
    group by enrolment_key, pupil_key, school_code, academic_year, period_type, period
),

last_attributes as (
    select
        enrolment_key,
        academic_year,
        period_type,
        period,
        {%- for column in attributes %}
        {{ column }},
        {%- endfor %}
        row_number() over (
            partition by enrolment_key, academic_year, period_type, period
            order by last_session_date desc, month_start desc
        ) as slice_rank
    from slices
)

select
    {{ surrogate_key(['t.enrolment_key', 't.academic_year', 't.period_type', 't.period']) }} as enrolment_period_key,
    t.enrolment_key,
    t.pupil_key,
    t.school_code,
    t.academic_year,
    t.period_type,
    t.period,
    t.month_start,
    t.first_session_date,
    t.last_session_date,
    {%- for column in counts %}
    t.{{ column }},
    {%- endfor %}
    {%- for column in attributes %}
    a.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from totals as t
inner join last_attributes as a
    on a.enrolment_key = t.enrolment_key
    and a.academic_year = t.academic_year
    and a.period_type = t.period_type
    and a.period = t.period
    and a.slice_rank = 1
