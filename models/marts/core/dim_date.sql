{#-
  One row per calendar date of every academic year any school's calendar touches (1 Sep - 31 Aug; from the
  first of an earlier month when a calendar starts before 1 Sep, e.g. a Scottish August), school-agnostic. academic_year by the date rule (1 Sep - 31 Aug); academic_week 1 = the week of 1 Sep; term and
  half_term are the group's predominant ones (the value most schools have on that date; ties: the
  alphabetically first); per-school terms are on fct_attendance_session. schools_open = schools for which
  the date is a school day.
-#}
with days as (
    select distinct school_code, calendar_date, term_name, half_term, is_school_day
    from {{ ref('academic_calendar') }}
),

term_votes as (
    select
        calendar_date,
        term_name,
        half_term,
        row_number() over (
            partition by calendar_date order by count(*) desc, term_name, half_term
        ) as vote_rank
    from days
    where term_name is not null
    group by calendar_date, term_name, half_term
),

open_counts as (
    select
        calendar_date,
        count(distinct case when is_school_day then school_code end) as schools_open
    from days
    group by calendar_date
),

-- Whole academic years (1 September to 31 August) around every school's calendar, starting earlier when a
-- calendar does (a Scottish session opens in August): from the first of that month.
bounds as (
    select
        min(academic_year_start) as first_year,
        max(academic_year_start) as last_year,
        cast({{ dbt.date_trunc('month', 'min(calendar_date)') }} as date) as first_month
    from {{ ref('academic_calendar') }}
),

spine as (
    {{ integer_series(366 * 40) }}
),

dates as (
    select
        s.calendar_date,
        coalesce(o.schools_open, 0) as schools_open
    from (
        select cast({{ dbt.dateadd('day', 'spine.generated_number - 1',
                'least(' ~ academic_year_start_date('b.first_year') ~ ', b.first_month)') }} as date) as calendar_date,
            b.last_year
        from bounds as b
        cross join spine
    ) as s
    left join open_counts as o on o.calendar_date = s.calendar_date
    where s.calendar_date <= {{ academic_year_end_date('s.last_year') }}
)

select
    cast(d.calendar_date as date) as date_day,
    cast({{ academic_year_label(academic_year_start('d.calendar_date')) }} as {{ dbt.type_string() }}) as academic_year,
    cast(t.term_name as {{ dbt.type_string() }}) as term,
    cast(t.half_term as {{ dbt.type_string() }}) as half_term,
    cast({{ dbt.date_trunc('week', 'd.calendar_date') }} as date) as week_start,
    -- Week of the academic year: 1 = the (Monday-to-Sunday) week holding 1 September.
    cast(
        {{ dbt.datediff(
            dbt.date_trunc('week', academic_year_start_date(academic_year_start('d.calendar_date'))),
            dbt.date_trunc('week', 'd.calendar_date'),
            'day'
        ) }} / 7.0 + 1
    as integer) as academic_week,
    cast({{ dbt.date_trunc('month', 'd.calendar_date') }} as date) as month_start,
    cast(extract(year from d.calendar_date) as integer) as calendar_year,
    cast(extract(month from d.calendar_date) as integer) as month_number,
    {{ iso_day_of_week('d.calendar_date') }} as iso_day_of_week,
    {{ iso_day_of_week('d.calendar_date') }} between 1 and 5 as is_weekday,
    cast(d.schools_open as integer) as schools_open,
    d.schools_open > 0 as is_school_day_anywhere
from dates as d
left join term_votes as t on t.calendar_date = d.calendar_date and t.vote_rank = 1
