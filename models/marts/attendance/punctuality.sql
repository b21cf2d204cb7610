{#-
  Punctuality: L (late, arrived before the register closed: present) and U (arrived after it closed:
  unauthorised absence) by school, cohort and calendar month. DfE "late sessions" = L + U.
  One row per school x academic year x month x cohort type x cohort value. An enrolment belongs to the
  cohort of its last session in the month. Rates are ratios of sums over possible sessions.
  var('min_cohort_size') suppresses as in cohort_attendance (figures null, is_suppressed true; complementary
  suppression within school x year x month x cohort type).
-#}
with enrolment_cohorts as (
    select * from {{ ref('int_attendance__enrolment_periods') }}
    where period_type = 'month' and possible_sessions > 0
),

cohorts as (
    {{- attendance_cohorts('enrolment_cohorts', ['school_code', 'academic_year', 'month_start'], [
        'possible_sessions', 'attended_sessions', 'authorised_absence_sessions', 'unauthorised_absence_sessions',
        'temporary_exclusion_sessions',
        'late_before_close_sessions', 'late_after_close_sessions', 'late_sessions',
    ]) }}
),

flagged as (
    select
        cohorts.*,
        {{ small_cohort_suppressed('enrolments', partition_by=['school_code', 'academic_year', 'month_start', 'cohort_type'], tiebreak='cohort_value') }} as is_suppressed
    from cohorts
)

{%- set figure = "case when is_suppressed then null else %s end" %}

, figures as (
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
    cast({{ figure % 'temporary_exclusion_sessions' }} as integer) as temporary_exclusion_sessions,
    cast({{ figure % 'late_before_close_sessions' }} as integer) as late_before_close_sessions,
    cast({{ figure % 'late_after_close_sessions' }} as integer) as late_after_close_sessions,
    cast({{ figure % 'late_sessions' }} as integer) as late_sessions,
    {{ figure % rate_pct('late_before_close_sessions', 'possible_sessions') }} as late_before_close_rate,
    {{ figure % rate_pct('late_after_close_sessions', 'possible_sessions') }} as late_after_close_rate,
    {{ figure % rate_pct('late_sessions', 'possible_sessions') }} as late_rate,
    is_suppressed
from flagged
)

select
    f.*,
    cast(sc.school_name as {{ dbt.type_string() }}) as school_name,
    cast(sc.phase as {{ dbt.type_string() }}) as phase,
    {{ academic_year_start_date('substring(f.academic_year, 1, 4)', academic_year_first_month('sc.jurisdiction')) }} as academic_year_start_date,
    {{ is_current_academic_year('f.academic_year') }} as is_current_academic_year,
    {{ academic_month_number('f.month_start') }} as academic_month_number,
    {{ is_partial_period(month_end_date('f.month_start')) }} as is_partial_period
from figures as f
left join {{ ref('schools') }} as sc on sc.school_code = f.school_code
