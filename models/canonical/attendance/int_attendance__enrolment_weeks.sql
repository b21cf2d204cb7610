{#-
  Session counts per enrolment x academic year x school week, with the year to date: the building block of the
  weekly monitoring marts (attendance_bands, attendance_band_counts, weekly_attendance).
  - A school week (of a school and academic year) is a Monday-to-Sunday week in which the school has at least
    one possible session up to as_of_date(); school_week_of_year numbers them 1, 2, ... within the year.
  - An enrolment has a row for every school week of the year from its first to its last week with a possible
    session (a week on roll with no mark has zero counts); ytd_* are the sums of the year's weeks up to and
    including this one.
  - Cohort attributes are those of the enrolment's last session up to the end of the week (a week without a
    session keeps the week before's).
  Incremental (config in the yml): a run rebuilds whole academic years, those the attendance look-back window
  touches (macro attendance_years_to_rebuild); earlier years stay as built.
-#}
{%- set counts = [
    'possible_sessions', 'attended_sessions', 'absence_sessions', 'authorised_absence_sessions',
    'unauthorised_absence_sessions', 'temporary_exclusion_sessions', 'late_sessions',
] -%}
{%- set attributes = [
    'measurement_scheme', 'nc_year', 'year_of_schooling', 'year_group', 'form_code', 'academic_house', 'boarding_house', 'is_boarder', 'gender',
] -%}
with sessions as (
    select
        s.*,
        cast({{ dbt.date_trunc('week', 's.session_date') }} as date) as week_start
    from {{ ref('attendance_sessions') }} as s
    where s.session_date <= {{ as_of_date() }}
        {%- if is_incremental() %}
        -- whole academic years, those the look-back window touches (delete+insert on academic_year)
        and s.academic_year in {{ attendance_years_to_rebuild(dbt.dateadd('day', 6, 'week_start')) }}
        {%- endif %}
),

school_weeks as (
    select
        school_code,
        academic_year,
        week_start,
        count(distinct session_date) as school_days,
        row_number() over (partition by school_code, academic_year order by week_start) as school_week_of_year
    from sessions
    where is_possible_session
    group by school_code, academic_year, week_start
),

weekly as (
    select
        enrolment_key,
        academic_year,
        week_start,
        sum(case when is_possible_session then 1 else 0 end) as possible_sessions,
        sum(case when is_attendance then 1 else 0 end) as attended_sessions,
        sum(case when is_absence then 1 else 0 end) as absence_sessions,
        sum(case when category = 'authorised' then 1 else 0 end) as authorised_absence_sessions,
        sum(case when category = 'unauthorised' then 1 else 0 end) as unauthorised_absence_sessions,
        sum(case when category = 'temporary_exclusion' then 1 else 0 end) as temporary_exclusion_sessions,
        sum(case when counts_as_late then 1 else 0 end) as late_sessions
    from sessions
    group by enrolment_key, academic_year, week_start
),

week_attributes as (
    select
        enrolment_key,
        academic_year,
        week_start,
        {%- for column in attributes %}
        {{ column }},
        {%- endfor %}
        row_number() over (
            partition by enrolment_key, academic_year, week_start order by session_date desc, session desc
        ) as session_rank
    from sessions
),

spans as (
    select
        enrolment_key,
        pupil_key,
        school_code,
        academic_year,
        min(week_start) as first_week_start,
        max(week_start) as last_week_start
    from sessions
    where is_possible_session
    group by enrolment_key, pupil_key, school_code, academic_year
),

grid as (
    select
        sp.enrolment_key,
        sp.pupil_key,
        sp.school_code,
        sp.academic_year,
        w.week_start,
        w.school_week_of_year,
        w.school_days,
        {%- for column in counts %}
        coalesce(k.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        -- the latest week up to this one with any session of the enrolment (its first week always has one)
        max(case when k.enrolment_key is not null then w.week_start end) over (
            partition by sp.enrolment_key, sp.academic_year order by w.week_start
            rows between unbounded preceding and current row
        ) as attributes_week_start
    from spans as sp
    inner join school_weeks as w
        on w.school_code = sp.school_code
        and w.academic_year = sp.academic_year
        and w.week_start between sp.first_week_start and sp.last_week_start
    left join weekly as k
        on k.enrolment_key = sp.enrolment_key and k.academic_year = sp.academic_year and k.week_start = w.week_start
)

select
    {{ surrogate_key(['g.enrolment_key', 'g.academic_year', 'g.week_start']) }} as enrolment_week_key,
    g.enrolment_key,
    g.pupil_key,
    g.school_code,
    g.academic_year,
    g.week_start,
    -- week of the academic year: 1 = the Monday-to-Sunday week holding its first day (1 September, as dim_date
    -- counts it; 1 August in Scotland)
    cast({{ dbt.datediff(
        dbt.date_trunc('week', academic_year_start_date('substring(g.academic_year, 1, 4)',
                                                        academic_year_first_month('sc.jurisdiction'))),
        'g.week_start',
        'day'
    ) }} / 7 + 1 as integer) as academic_week,
    cast(g.school_week_of_year as integer) as school_week_of_year,
    cast(g.school_days as integer) as school_days,
    {%- for column in counts %}
    cast(g.{{ column }} as integer) as {{ column }},
    {%- endfor %}
    {%- for column in counts %}
    cast(sum(g.{{ column }}) over (
        partition by g.enrolment_key, g.academic_year order by g.week_start rows between unbounded preceding and current row
    ) as integer) as ytd_{{ column }},
    {%- endfor %}
    {%- for column in attributes %}
    a.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
from grid as g
left join {{ ref('schools') }} as sc
    on sc.school_code = g.school_code
inner join week_attributes as a
    on a.enrolment_key = g.enrolment_key
    and a.academic_year = g.academic_year
    and a.week_start = g.attributes_week_start
    and a.session_rank = 1
