{#-
  Attendance by cohort, DfE method (rates are ratios of sums). One row per school x academic year x term
  ('all' = the whole year to date) x cohort type x cohort value.
  - An enrolment belongs, for a period, to the cohort of its last session in that period (a pupil who
    changes form mid-year counts once, in the new form, with all the period's sessions).
  - Persistent/severe absentees are judged on each enrolment's own possible sessions in the period;
    enrolments with zero possible sessions in the period are left out.
  - var('min_cohort_size') > 0: cohorts with fewer enrolments keep their row but every figure is null and
    is_suppressed is true (the row still tells a reader the cohort exists). Complementary suppression: when
    the small cohorts of one breakdown (school x year x term x cohort type) together have fewer enrolments, the
    next smallest cohorts are suppressed too, so whole_school minus the shown cohorts reveals no small group.
-#}
with months as (
    select * from {{ ref('int_attendance__enrolment_months') }}
),

slices as (
    select months.*, term as period from months
    union all
    select months.*, 'all' as period from months
),

period_totals as (
    select
        school_code,
        academic_year,
        period,
        enrolment_key,
        sum(possible_sessions) as possible_sessions,
        sum(attended_sessions) as attended_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions,
        sum(absence_sessions) as absence_sessions,
        sum(late_sessions) as late_sessions
    from slices
    group by school_code, academic_year, period, enrolment_key
),

period_attributes as (
    select
        enrolment_key,
        academic_year,
        period,
        year_group,
        form_code,
        academic_house,
        boarding_house,
        gender,
        row_number() over (
            partition by enrolment_key, academic_year, period order by last_session_date desc, month_start desc
        ) as slice_rank
    from slices
),

enrolment_periods as (
    select
        t.*,
        a.year_group,
        a.form_code,
        a.academic_house,
        a.boarding_house,
        a.gender,
        case when {{ is_persistent_absentee('t.absence_sessions', 't.possible_sessions') }} then 1 else 0 end as is_pa,
        case when {{ is_severe_absentee('t.absence_sessions', 't.possible_sessions') }} then 1 else 0 end as is_sa
    from period_totals as t
    inner join period_attributes as a
        on a.enrolment_key = t.enrolment_key
        and a.academic_year = t.academic_year
        and a.period = t.period
        and a.slice_rank = 1
    where t.possible_sessions > 0
),

cohorts as (
    {%- for cohort_type, expression in attendance_cohort_types() %}
    select
        school_code,
        academic_year,
        period as term,
        '{{ cohort_type }}' as cohort_type,
        {{ expression }} as cohort_value,
        count(*) as enrolments,
        sum(possible_sessions) as possible_sessions,
        sum(attended_sessions) as attended_sessions,
        sum(absence_sessions) as absence_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions,
        sum(late_sessions) as late_sessions,
        sum(is_pa) as persistent_absentees,
        sum(is_sa) as severe_absentees
    from enrolment_periods
    group by school_code, academic_year, period{% if cohort_type != 'whole_school' %}, {{ expression }}{% endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

flagged as (
    select
        cohorts.*,
        {{ small_cohort_suppressed('enrolments', partition_by=['school_code', 'academic_year', 'term', 'cohort_type'], tiebreak='cohort_value') }} as is_suppressed
    from cohorts
)

{%- set figure = "case when is_suppressed then null else %s end" %}

select
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(term as {{ dbt.type_string() }}) as term,
    cast(cohort_type as {{ dbt.type_string() }}) as cohort_type,
    cast(cohort_value as {{ dbt.type_string() }}) as cohort_value,
    cast({{ figure % 'enrolments' }} as integer) as enrolments,
    cast({{ figure % 'possible_sessions' }} as integer) as possible_sessions,
    cast({{ figure % 'attended_sessions' }} as integer) as attended_sessions,
    cast({{ figure % 'absence_sessions' }} as integer) as absence_sessions,
    cast({{ figure % 'authorised_absence_sessions' }} as integer) as authorised_absence_sessions,
    cast({{ figure % 'unauthorised_absence_sessions' }} as integer) as unauthorised_absence_sessions,
    cast({{ figure % 'late_sessions' }} as integer) as late_sessions,
    {{ figure % rate_pct('attended_sessions', 'possible_sessions') }} as attendance_rate,
    {{ figure % rate_pct('absence_sessions', 'possible_sessions') }} as absence_rate,
    {{ figure % rate_pct('authorised_absence_sessions', 'possible_sessions') }} as authorised_absence_rate,
    {{ figure % rate_pct('unauthorised_absence_sessions', 'possible_sessions') }} as unauthorised_absence_rate,
    cast({{ figure % 'persistent_absentees' }} as integer) as persistent_absentees,
    {{ figure % rate_pct('persistent_absentees', 'enrolments') }} as persistent_absence_rate,
    cast({{ figure % 'severe_absentees' }} as integer) as severe_absentees,
    {{ figure % rate_pct('severe_absentees', 'enrolments') }} as severe_absence_rate,
    is_suppressed
from flagged
