{#-
  The weekly trend: one row per school x academic year x school week x year group (the cohort). Every
  enrolment is in exactly one year group each week (the one on its last session up to the week's end), so a
  plain SUM of the counts over year groups gives the school's week, and over weeks the year's sessions.
  - The week's figures count that week's sessions; *_to_date figures the academic year up to the week's end.
  - persistent_absentees_to_date: enrolments on roll that week whose year to date meets the DfE rule
    (macro is_persistent_absentee, each judged on its own possible sessions).
  - Changes are against the school's previous school week of the same year group (null in its first week).
  - is_partial_week: the school had fewer school days than in its normal week (the most common number of
    school days per week in its academic year so far, the larger on a tie), or the week is not over by
    as_of_date (the as-of week: week_start > as_of_date - 7).
  - var('min_cohort_size') > 0: a small year group's week keeps its row with null figures (macro
    small_cohort_suppressed, with complementary suppression within the school's week).
-#}
with weeks as (
    select * from {{ ref('int_attendance__enrolment_weeks') }}
),

cohort_weeks as (
    select
        school_code,
        academic_year,
        week_start,
        academic_week,
        school_week_of_year,
        school_days,
        coalesce(year_group, {{ unknown_label() }}) as year_group,
        min({{ year_group_order('year_of_schooling', 'year_group') }}) as year_group_order,
        count(*) as pupils_on_roll,
        sum(case when possible_sessions > 0 then 1 else 0 end) as pupils,
        sum(possible_sessions) as possible_sessions,
        sum(attended_sessions) as attended_sessions,
        sum(absence_sessions) as absence_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions,
        sum(temporary_exclusion_sessions) as temporary_exclusion_sessions,
        sum(late_sessions) as late_sessions,
        sum(ytd_possible_sessions) as possible_sessions_to_date,
        sum(ytd_absence_sessions) as absence_sessions_to_date,
        sum(case when {{ is_persistent_absentee('ytd_absence_sessions', 'ytd_possible_sessions') }} then 1 else 0 end) as persistent_absentees_to_date,
        sum({{ severe_absentee_count('ytd_absence_sessions', 'ytd_possible_sessions', 'measurement_scheme') }}) as severe_absentees_to_date
    from weeks
    group by school_code, academic_year, week_start, academic_week, school_week_of_year, school_days,
        coalesce(year_group, {{ unknown_label() }})
),

school_week_days as (
    select distinct school_code, academic_year, week_start, school_days
    from cohort_weeks
),

normal_weeks as (
    select school_code, academic_year, school_days as normal_school_days
    from (
        select
            school_code,
            academic_year,
            school_days,
            row_number() over (partition by school_code, academic_year order by count(*) desc, school_days desc) as mode_rank
        from school_week_days
        group by school_code, academic_year, school_days
    ) as m
    where mode_rank = 1
),

rated as (
    select
        c.*,
        n.normal_school_days,
        {{ rate_pct('c.attended_sessions', 'c.possible_sessions') }} as attendance_rate,
        {{ rate_pct('c.absence_sessions', 'c.possible_sessions') }} as absence_rate,
        {{ rate_pct('c.unauthorised_absence_sessions', 'c.possible_sessions') }} as unauthorised_absence_rate,
        {{ rate_pct('c.possible_sessions_to_date - c.absence_sessions_to_date', 'c.possible_sessions_to_date') }} as attendance_rate_to_date,
        {{ rate_pct('c.persistent_absentees_to_date', 'c.pupils_on_roll') }} as persistent_absence_rate_to_date
    from cohort_weeks as c
    inner join normal_weeks as n on n.school_code = c.school_code and n.academic_year = c.academic_year
),

flagged as (
    select
        rated.*,
        {{ small_cohort_suppressed('pupils_on_roll', partition_by=['school_code', 'academic_year', 'week_start'], tiebreak='year_group') }} as is_suppressed
    from rated
),

changes as (
    select
        f.*,
        lag(case when f.is_suppressed then null else f.attendance_rate end) over cohort_weeks_in_order as previous_attendance_rate,
        lag(case when f.is_suppressed then null else f.persistent_absentees_to_date end) over cohort_weeks_in_order as previous_persistent_absentees_to_date
    from flagged as f
    window cohort_weeks_in_order as (partition by f.school_code, f.academic_year, f.year_group order by f.week_start)
)

{%- set figure = "case when is_suppressed then null else %s end" %}

, figures as (
select
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(week_start as date) as week_start,
    cast(academic_week as integer) as academic_week,
    cast(school_week_of_year as integer) as school_week_of_year,
    cast(year_group as {{ dbt.type_string() }}) as year_group,
    cast(school_days as integer) as school_days,
    cast(normal_school_days as integer) as normal_school_days,
    (school_days < normal_school_days or week_start > {{ as_of_date() }} - 7) as is_partial_week,
    cast({{ figure % 'pupils_on_roll' }} as integer) as pupils_on_roll,
    cast({{ figure % 'pupils' }} as integer) as pupils,
    cast({{ figure % 'possible_sessions' }} as integer) as possible_sessions,
    cast({{ figure % 'attended_sessions' }} as integer) as attended_sessions,
    cast({{ figure % 'absence_sessions' }} as integer) as absence_sessions,
    cast({{ figure % 'authorised_absence_sessions' }} as integer) as authorised_absence_sessions,
    cast({{ figure % 'unauthorised_absence_sessions' }} as integer) as unauthorised_absence_sessions,
    cast({{ figure % 'temporary_exclusion_sessions' }} as integer) as temporary_exclusion_sessions,
    cast({{ figure % 'late_sessions' }} as integer) as late_sessions,
    {{ figure % 'attendance_rate' }} as attendance_rate,
    {{ figure % 'absence_rate' }} as absence_rate,
    {{ figure % 'unauthorised_absence_rate' }} as unauthorised_absence_rate,
    cast({{ figure % 'possible_sessions_to_date' }} as integer) as possible_sessions_to_date,
    cast({{ figure % 'absence_sessions_to_date' }} as integer) as absence_sessions_to_date,
    {{ figure % 'attendance_rate_to_date' }} as attendance_rate_to_date,
    cast({{ figure % 'persistent_absentees_to_date' }} as integer) as persistent_absentees_to_date,
    {{ figure % 'persistent_absence_rate_to_date' }} as persistent_absence_rate_to_date,
    cast({{ figure % 'severe_absentees_to_date' }} as integer) as severe_absentees_to_date,
    cast({{ figure % '(attendance_rate - previous_attendance_rate)' }} as numeric(18, 2)) as attendance_rate_change_pp,
    cast({{ figure % '(persistent_absentees_to_date - previous_persistent_absentees_to_date)' }} as integer) as persistent_absentees_change,
    is_suppressed,
    {{ as_of_date() }} as as_of_date,
    cast(year_group_order as integer) as year_group_order
from changes
)

select
    f.*,
    cast(sc.school_name as {{ dbt.type_string() }}) as school_name,
    cast(sc.phase as {{ dbt.type_string() }}) as phase,
    {{ academic_year_start_date('substring(f.academic_year, 1, 4)', academic_year_first_month('sc.jurisdiction')) }} as academic_year_start_date,
    {{ is_current_academic_year('f.academic_year') }} as is_current_academic_year
from figures as f
left join {{ ref('schools') }} as sc on sc.school_code = f.school_code
