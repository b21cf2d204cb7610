{#-
  Punctuality: L (late, arrived before the register closed: present) and U (arrived after it closed:
  unauthorised absence) by school, cohort and calendar month. DfE "late sessions" = L + U.
  One row per school x academic year x month x cohort type x cohort value. An enrolment belongs to the
  cohort of its last session in the month. Rates are ratios of sums over possible sessions.
  var('min_cohort_size') suppresses as in cohort_attendance (figures null, is_suppressed true; complementary
  suppression within school x year x month x cohort type).
-#}
with months as (
    select * from {{ ref('int_attendance__enrolment_months') }}
),

enrolment_months as (
    select
        school_code,
        academic_year,
        month_start,
        enrolment_key,
        sum(possible_sessions) as possible_sessions,
        sum(attended_sessions) as attended_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions,
        sum(late_before_close_sessions) as late_before_close_sessions,
        sum(late_after_close_sessions) as late_after_close_sessions,
        sum(late_sessions) as late_sessions
    from months
    group by school_code, academic_year, month_start, enrolment_key
),

month_attributes as (
    select
        enrolment_key,
        academic_year,
        month_start,
        year_group,
        form_code,
        academic_house,
        boarding_house,
        gender,
        row_number() over (
            partition by enrolment_key, academic_year, month_start order by last_session_date desc
        ) as slice_rank
    from months
),

enrolment_cohorts as (
    select e.*, a.year_group, a.form_code, a.academic_house, a.boarding_house, a.gender
    from enrolment_months as e
    inner join month_attributes as a
        on a.enrolment_key = e.enrolment_key
        and a.academic_year = e.academic_year
        and a.month_start = e.month_start
        and a.slice_rank = 1
    where e.possible_sessions > 0
),

cohorts as (
    {%- for cohort_type, expression in attendance_cohort_types() %}
    select
        school_code,
        academic_year,
        month_start,
        '{{ cohort_type }}' as cohort_type,
        {{ expression }} as cohort_value,
        count(*) as enrolments,
        sum(possible_sessions) as possible_sessions,
        sum(attended_sessions) as attended_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions,
        sum(late_before_close_sessions) as late_before_close_sessions,
        sum(late_after_close_sessions) as late_after_close_sessions,
        sum(late_sessions) as late_sessions
    from enrolment_cohorts
    group by school_code, academic_year, month_start{% if cohort_type != 'whole_school' %}, {{ expression }}{% endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

flagged as (
    select
        cohorts.*,
        {{ small_cohort_suppressed('enrolments', partition_by=['school_code', 'academic_year', 'month_start', 'cohort_type'], tiebreak='cohort_value') }} as is_suppressed
    from cohorts
)

{%- set figure = "case when is_suppressed then null else %s end" %}

select
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(month_start as date) as month_start,
    cast(cohort_type as {{ dbt.type_string() }}) as cohort_type,
    cast(cohort_value as {{ dbt.type_string() }}) as cohort_value,
    cast({{ figure % 'enrolments' }} as integer) as enrolments,
    cast({{ figure % 'possible_sessions' }} as integer) as possible_sessions,
    cast({{ figure % 'attended_sessions' }} as integer) as attended_sessions,
    cast({{ figure % 'authorised_absence_sessions' }} as integer) as authorised_absence_sessions,
    cast({{ figure % 'unauthorised_absence_sessions' }} as integer) as unauthorised_absence_sessions,
    cast({{ figure % 'late_before_close_sessions' }} as integer) as late_before_close_sessions,
    cast({{ figure % 'late_after_close_sessions' }} as integer) as late_after_close_sessions,
    cast({{ figure % 'late_sessions' }} as integer) as late_sessions,
    {{ figure % rate_pct('late_before_close_sessions', 'possible_sessions') }} as late_before_close_rate,
    {{ figure % rate_pct('late_after_close_sessions', 'possible_sessions') }} as late_after_close_rate,
    {{ figure % rate_pct('late_sessions', 'possible_sessions') }} as late_rate,
    is_suppressed
from flagged
