{#-
  Each school beside the group, per academic year and calendar month (sessions up to as_of_date()).
  One row per academic year x month x school, plus school_code 'ALL' for the whole group. Rates are ratios
  of sums; the group's rates are computed from the group's sums (a large school weighs more), never as an
  average of school rates. Differences are school rate minus group rate, in percentage points, of the
  published (rounded) rates. Rank 1 = the lowest absence rate (ties share a rank); null on the 'ALL' row.
-#}
with months as (
    select * from {{ ref('int_attendance__enrolment_months') }}
),

school_months as (
    select
        school_code,
        academic_year,
        month_start,
        count(distinct case when possible_sessions > 0 then enrolment_key end) as enrolments,
        sum(possible_sessions) as possible_sessions,
        sum(attended_sessions) as attended_sessions,
        sum(absence_sessions) as absence_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions,
        sum(late_sessions) as late_sessions
    from months
    group by school_code, academic_year, month_start
),

group_months as (
    select
        'ALL' as school_code,
        academic_year,
        month_start,
        sum(enrolments) as enrolments,
        sum(possible_sessions) as possible_sessions,
        sum(attended_sessions) as attended_sessions,
        sum(absence_sessions) as absence_sessions,
        sum(authorised_absence_sessions) as authorised_absence_sessions,
        sum(unauthorised_absence_sessions) as unauthorised_absence_sessions,
        sum(late_sessions) as late_sessions
    from school_months
    group by academic_year, month_start
),

all_rows as (
    select * from school_months
    union all
    select * from group_months
),

rated as (
    select
        all_rows.*,
        {{ rate_pct('attended_sessions', 'possible_sessions') }} as attendance_rate,
        {{ rate_pct('absence_sessions', 'possible_sessions') }} as absence_rate,
        {{ rate_pct('authorised_absence_sessions', 'possible_sessions') }} as authorised_absence_rate,
        {{ rate_pct('unauthorised_absence_sessions', 'possible_sessions') }} as unauthorised_absence_rate,
        {{ rate_pct('late_sessions', 'possible_sessions') }} as late_rate
    from all_rows
),

with_group as (
    select
        r.*,
        g.attendance_rate as group_attendance_rate,
        g.absence_rate as group_absence_rate,
        g.authorised_absence_rate as group_authorised_absence_rate,
        g.unauthorised_absence_rate as group_unauthorised_absence_rate,
        g.late_rate as group_late_rate,
        count(case when r.school_code <> 'ALL' then 1 end) over (
            partition by r.academic_year, r.month_start
        ) as schools_in_group
    from rated as r
    inner join rated as g
        on g.school_code = 'ALL' and g.academic_year = r.academic_year and g.month_start = r.month_start
)

select
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(month_start as date) as month_start,
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    school_code = 'ALL' as is_group_total,
    cast(schools_in_group as integer) as schools_in_group,
    cast(enrolments as integer) as enrolments,
    cast(possible_sessions as integer) as possible_sessions,
    cast(attended_sessions as integer) as attended_sessions,
    cast(absence_sessions as integer) as absence_sessions,
    cast(authorised_absence_sessions as integer) as authorised_absence_sessions,
    cast(unauthorised_absence_sessions as integer) as unauthorised_absence_sessions,
    cast(late_sessions as integer) as late_sessions,
    attendance_rate,
    absence_rate,
    authorised_absence_rate,
    unauthorised_absence_rate,
    late_rate,
    group_attendance_rate,
    group_absence_rate,
    group_authorised_absence_rate,
    group_unauthorised_absence_rate,
    group_late_rate,
    cast(attendance_rate - group_attendance_rate as numeric(18, 2)) as attendance_rate_diff_pp,
    cast(absence_rate - group_absence_rate as numeric(18, 2)) as absence_rate_diff_pp,
    cast(authorised_absence_rate - group_authorised_absence_rate as numeric(18, 2)) as authorised_absence_rate_diff_pp,
    cast(unauthorised_absence_rate - group_unauthorised_absence_rate as numeric(18, 2)) as unauthorised_absence_rate_diff_pp,
    cast(late_rate - group_late_rate as numeric(18, 2)) as late_rate_diff_pp,
    cast(case
        when school_code <> 'ALL' then rank() over (
            partition by academic_year, month_start, case when school_code = 'ALL' then 1 else 0 end
            order by absence_rate
        )
    end as integer) as absence_rate_rank
from with_group
