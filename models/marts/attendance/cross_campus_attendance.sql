{#-
  Each school beside the group, per academic year and calendar month (sessions up to as_of_date()).
  One row per academic year x month x school, plus school_code 'ALL' for the whole group. Rates are ratios
  of sums; the group's rates are computed from the group's sums (a large school weighs more), never as an
  average of school rates. Differences are school rate minus group rate, in percentage points, of the
  published (rounded) rates. Rank 1 = the lowest absence rate (ties share a rank); null on the group rows.
  A group whose schools are in more than one jurisdiction (England and Scotland) also gets one total per
  jurisdiction (group_scope 'jurisdiction', school_code 'ALL:england' / 'ALL:scotland'); 'ALL' stays the
  all-schools total. Only sessions and their rates add up across jurisdictions (a half day is a half day);
  this mart has no persistent-absence figure, and no mart adds English persistent-absence enrolments to
  Scottish pupils (those are counted per school, by each school's own rules).
  var('min_cohort_size') > 0 (small-number suppression, macro small_cohort_suppressed):
  - a school x month with fewer enrolments keeps its row with every figure null, is_suppressed true and no rank
    (ranks are among the shown schools);
  - the 'ALL' row is also suppressed when it is small itself, or when the suppressed schools of the month
    together have fewer enrolments (ALL minus the shown schools would reveal them); the group_* and *_diff_pp
    figures of every row are then null too.
-#}
{#- The session counts summed per school, per group and per jurisdiction (in this order in every row). #}
{%- set measures = [
    'possible_sessions',
    'attended_sessions',
    'absence_sessions',
    'authorised_absence_sessions',
    'unauthorised_absence_sessions',
    'temporary_exclusion_sessions',
    'late_sessions',
] %}

with months as (
    select * from {{ ref('int_attendance__enrolment_periods') }}
    where period_type = 'month'
),

school_months as (
    select
        m.school_code,
        'school' as group_scope,
        coalesce(max(sc.jurisdiction), 'england') as jurisdiction,
        academic_year,
        month_start,
        count(distinct case when possible_sessions > 0 then enrolment_key end) as enrolments,
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from months as m
    left join {{ ref('schools') }} as sc on sc.school_code = m.school_code
    group by m.school_code, academic_year, month_start
),

-- a group whose schools are measured in more than one jurisdiction also gets one total per jurisdiction
jurisdictions as (
    select count(distinct jurisdiction) as jurisdictions from school_months
),

group_months as (
    select
        'ALL' as school_code,
        'all_schools' as group_scope,
        cast(null as {{ dbt.type_string() }}) as jurisdiction,
        academic_year,
        month_start,
        sum(enrolments) as enrolments,
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from school_months
    group by academic_year, month_start
    union all
    select
        'ALL:' || jurisdiction as school_code,
        'jurisdiction' as group_scope,
        jurisdiction,
        academic_year,
        month_start,
        sum(enrolments) as enrolments,
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from school_months
    where (select jurisdictions from jurisdictions) > 1
    group by academic_year, month_start, jurisdiction
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

-- Primary suppression per row; the residual (suppressed schools together) protects the group row.
flagged as (
    select
        rated.*,
        {{ small_cohort_suppressed('enrolments') }} as is_small,
        sum(case when group_scope = 'school' and {{ small_cohort_suppressed('enrolments') }} then enrolments else 0 end)
            over (partition by academic_year, month_start) as suppressed_enrolments,
        count(case when group_scope = 'school' and {{ small_cohort_suppressed('enrolments') }} then 1 end)
            over (partition by academic_year, month_start) as suppressed_schools,
        sum(case when group_scope = 'school' and {{ small_cohort_suppressed('enrolments') }} then enrolments else 0 end)
            over (partition by academic_year, month_start, jurisdiction) as suppressed_enrolments_in_jurisdiction,
        count(case when group_scope = 'school' and {{ small_cohort_suppressed('enrolments') }} then 1 end)
            over (partition by academic_year, month_start, jurisdiction) as suppressed_schools_in_jurisdiction
    from rated
),

suppressed as (
    select
        flagged.*,
        case
            when group_scope = 'school' then is_small
            when group_scope = 'jurisdiction' then is_small or (suppressed_schools_in_jurisdiction > 0
                and {{ small_cohort_suppressed('suppressed_enrolments_in_jurisdiction') }})
            else is_small or (suppressed_schools > 0 and {{ small_cohort_suppressed('suppressed_enrolments') }})
        end as is_suppressed
    from flagged
),

with_group as (
    select
        r.*,
        g.is_suppressed as is_group_suppressed,
        g.attendance_rate as group_attendance_rate,
        g.absence_rate as group_absence_rate,
        g.authorised_absence_rate as group_authorised_absence_rate,
        g.unauthorised_absence_rate as group_unauthorised_absence_rate,
        g.late_rate as group_late_rate,
        count(case when r.group_scope = 'school' then 1 end) over (
            partition by r.academic_year, r.month_start
        ) as schools_in_group
    from suppressed as r
    inner join suppressed as g
        on g.school_code = 'ALL' and g.academic_year = r.academic_year and g.month_start = r.month_start
)

{%- set figure = "case when is_suppressed then null else %s end" %}
{%- set group_figure = "case when is_suppressed or is_group_suppressed then null else %s end" %}

, figures as (
select
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(month_start as date) as month_start,
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    group_scope <> 'school' as is_group_total,
    cast(group_scope as {{ dbt.type_string() }}) as group_scope,
    cast(jurisdiction as {{ dbt.type_string() }}) as jurisdiction,
    cast(schools_in_group as integer) as schools_in_group,
    cast({{ figure % 'enrolments' }} as integer) as enrolments,
    {%- for measure in measures %}
    cast({{ figure % measure }} as integer) as {{ measure }},
    {%- endfor %}
    {{ figure % 'attendance_rate' }} as attendance_rate,
    {{ figure % 'absence_rate' }} as absence_rate,
    {{ figure % 'authorised_absence_rate' }} as authorised_absence_rate,
    {{ figure % 'unauthorised_absence_rate' }} as unauthorised_absence_rate,
    {{ figure % 'late_rate' }} as late_rate,
    {{ group_figure % 'group_attendance_rate' }} as group_attendance_rate,
    {{ group_figure % 'group_absence_rate' }} as group_absence_rate,
    {{ group_figure % 'group_authorised_absence_rate' }} as group_authorised_absence_rate,
    {{ group_figure % 'group_unauthorised_absence_rate' }} as group_unauthorised_absence_rate,
    {{ group_figure % 'group_late_rate' }} as group_late_rate,
    cast({{ group_figure % '(attendance_rate - group_attendance_rate)' }} as numeric(18, 2)) as attendance_rate_diff_pp,
    cast({{ group_figure % '(absence_rate - group_absence_rate)' }} as numeric(18, 2)) as absence_rate_diff_pp,
    cast({{ group_figure % '(authorised_absence_rate - group_authorised_absence_rate)' }} as numeric(18, 2)) as authorised_absence_rate_diff_pp,
    cast({{ group_figure % '(unauthorised_absence_rate - group_unauthorised_absence_rate)' }} as numeric(18, 2)) as unauthorised_absence_rate_diff_pp,
    cast({{ group_figure % '(late_rate - group_late_rate)' }} as numeric(18, 2)) as late_rate_diff_pp,
    cast(case
        when group_scope = 'school' and not is_suppressed then rank() over (
            partition by academic_year, month_start, case when group_scope <> 'school' or is_suppressed then 1 else 0 end
            order by absence_rate
        )
    end as integer) as absence_rate_rank,
    is_suppressed
from with_group
)

{#-
  The month the row's academic year starts in: its school's or jurisdiction's own (macro academic_year_first_month);
  the all-schools row's year starts with its earliest school's (1 August when any school is Scottish).
-#}
{%- set own_first_month = academic_year_first_month('f.jurisdiction') %}
{%- set first_month = "case when f.group_scope = 'all_schools' then min(case when f.group_scope = 'school' then "
    ~ own_first_month ~ " end) over (partition by f.academic_year) else " ~ own_first_month ~ " end" %}

select
    f.*,
    cast(case
        when f.group_scope = 'all_schools' then {{ group_school_name() }}
        when f.group_scope = 'jurisdiction' then {{ group_school_name() }} || ' in ' || case f.jurisdiction
            when 'england' then 'England' when 'scotland' then 'Scotland' else f.jurisdiction end
        else s.school_name
    end as {{ dbt.type_string() }}) as school_name,
    cast(s.phase as {{ dbt.type_string() }}) as phase,
    {{ academic_year_start_date('substring(f.academic_year, 1, 4)', first_month) }} as academic_year_start_date,
    {{ is_current_academic_year('f.academic_year') }} as is_current_academic_year,
    {{ academic_month_number('f.month_start') }} as academic_month_number,
    {{ month_end_date('f.month_start') }} as month_end_date,
    {{ is_partial_period(month_end_date('f.month_start')) }} as is_partial_period
from figures as f
left join {{ ref('schools') }} as s on s.school_code = f.school_code and not f.is_group_total
