{#-
  School x date x session calendar. Rules (also in the yml):
  - Terms: the latest stored version of every term of the school (a term that later drops out of the
    Batch feed is kept).
  - Date range per school: from the earliest term start (or first register) to the latest term finish
    (or last register).
  - School day: a date inside a term on which the school took registers (weekdays; a Saturday with
    registers is a school day too, for Saturday schools).
  - Half-term break: a run of >= 3 consecutive weekdays inside a term without registers (and any weekend
    inside it), before the school's last register date. Shorter runs (bank holidays, INSET, closures) are 'no_registers' days.
  - Half terms (HT1..HTn within the academic year) are the blocks of term time between half-term breaks
    and term boundaries, read from the data only: a break is known once its registers are missing, so
    only dates up to the school's last register date, in terms with registers, get a half-term label. A
    term with no half-term information (no registers yet: a future term) is one term with no half-term
    label, and in-term dates after the last register ('not_yet_registered') have none either: nothing is
    invented. Labels of past dates never change as later registers arrive.
  - Academic year: the term's school_year inside a term; outside terms the date rule (1 Sep - 31 Aug).
-#}
{%- set max_days = 366 * 30 %}

with dated_term_versions as (
    select school_code, term_id, school_year, term_name, start_date, finish_date, valid_from
    from {{ ref('int_mis__terms') }}
    where start_date is not null and finish_date is not null
),

terms as (
    select school_code, term_id, school_year, term_name, start_date, finish_date
    from ({{ latest_version('dated_term_versions', ['school_code', 'term_id']) }}) as latest
),

register_sessions as (
    select
        school_code,
        session_date,
        session,
        count(*) as marks
    from {{ ref('int_mis__register_marks') }}
    where is_register_taken
    group by school_code, session_date, session
),

register_days as (
    select school_code, session_date, max(marks) as marks
    from register_sessions
    group by school_code, session_date
),

school_bounds as (
    select
        school_code,
        min(first_date) as first_date,
        max(last_date) as last_date,
        max(last_register_date) as last_register_date
    from (
        select school_code, start_date as first_date, finish_date as last_date, cast(null as date) as last_register_date
        from terms
        union all
        select school_code, min(session_date), max(session_date), max(session_date)
        from register_days
        group by school_code
    ) as b
    group by school_code
),

spine as (
    {{ integer_series(max_days) }}
),

dates as (
    select
        b.school_code,
        cast({{ dbt.dateadd('day', 'spine.generated_number - 1', 'b.first_date') }} as date) as calendar_date,
        b.last_register_date
    from school_bounds as b
    cross join spine
    where spine.generated_number - 1 <= {{ dbt.datediff('b.first_date', 'b.last_date', 'day') }}
),

dated_terms as (
    select
        d.school_code,
        d.calendar_date,
        d.last_register_date,
        t.term_id,
        t.school_year,
        t.term_name,
        t.start_date as term_start_date,
        t.finish_date as term_finish_date,
        row_number() over (
            partition by d.school_code, d.calendar_date order by t.start_date desc, t.term_id
        ) as term_rank
    from dates as d
    left join terms as t
        on t.school_code = d.school_code
        and d.calendar_date between t.start_date and t.finish_date
),

days as (
    select
        t.school_code,
        t.calendar_date,
        t.term_id,
        t.school_year,
        t.term_name,
        t.term_start_date,
        t.term_finish_date,
        {{ iso_day_of_week('t.calendar_date') }} between 1 and 5 as is_weekday,
        t.term_id is not null as is_in_term,
        r.session_date is not null as has_registers,
        t.last_register_date is null or t.calendar_date > t.last_register_date as is_after_last_register
    from dated_terms as t
    left join register_days as r
        on r.school_code = t.school_code and r.session_date = t.calendar_date
    where t.term_rank = 1
),

-- Islands of in-term weekdays (up to the last register) by whether registers were taken.
term_weekdays as (
    select
        school_code,
        calendar_date,
        term_id,
        has_registers,
        row_number() over (partition by school_code, term_id order by calendar_date)
        - row_number() over (partition by school_code, term_id, has_registers order by calendar_date) as island
    from days
    where is_in_term and is_weekday and not is_after_last_register
),

breaks as (
    -- Half-term breaks: islands of >= 3 in-term weekdays without registers; the break spans from its first
    -- to its last weekday, so a weekend inside it is part of the break.
    select
        school_code,
        term_id,
        min(calendar_date) as break_start_date,
        max(calendar_date) as break_end_date
    from term_weekdays
    where not has_registers
    group by school_code, term_id, island
    having count(*) >= 3
),

typed as (
    select
        d.*,
        case
            when d.is_in_term and d.has_registers then 'school_day'
            when not d.is_in_term then 'holiday'
            when b.break_start_date is not null then 'half_term_break'
            when not d.is_weekday then 'weekend'
            when d.is_after_last_register then 'not_yet_registered'
            else 'no_registers'
        end as day_type,
        b.break_start_date is not null and not d.has_registers as is_half_term_break,
        case when d.calendar_date = b.break_start_date then 1 else 0 end as break_start
    from days as d
    left join breaks as b
        on b.school_code = d.school_code
        and b.term_id = d.term_id
        and d.calendar_date between b.break_start_date and b.break_end_date
),

blocks as (
    select
        typed.*,
        1 + sum(break_start) over (
            partition by school_code, term_id order by calendar_date rows between unbounded preceding and current row
        ) as block_in_term
    from typed
),

yeared as (
    select
        blocks.*,
        coalesce(school_year, {{ academic_year_start('calendar_date', academic_year_first_month('sc.jurisdiction')) }}) as academic_year_start,
        -- half-term information exists only where registers were taken in the term, up to the last register
        coalesce(bool_or(has_registers) over (partition by blocks.school_code, blocks.term_id), false)
            and not is_after_last_register as has_half_term_data
    from blocks
    left join {{ ref('schools') }} as sc on sc.school_code = blocks.school_code
),

half_terms as (
    select
        school_code,
        term_id,
        block_in_term,
        cast(row_number() over (
            partition by school_code, academic_year_start order by min(calendar_date)
        ) as integer) as half_term_number
    from yeared
    where is_in_term and not is_half_term_break and has_half_term_data
    group by school_code, academic_year_start, term_id, block_in_term
),

sessions as (
    select 'AM' as session
    union all
    select 'PM' as session
)

select
    y.school_code,
    y.calendar_date,
    s.session,
    {{ academic_year_label('y.academic_year_start') }} as academic_year,
    y.academic_year_start,
    y.term_id,
    y.term_name,
    y.term_start_date,
    y.term_finish_date,
    case when h.half_term_number is not null then 'HT' || cast(h.half_term_number as {{ dbt.type_string() }}) end as half_term,
    h.half_term_number,
    y.day_type,
    y.is_weekday,
    y.is_in_term,
    y.day_type = 'school_day' as is_school_day,
    rs.session_date is not null as is_register_taken
from yeared as y
cross join sessions as s
left join half_terms as h
    on h.school_code = y.school_code
    and h.term_id = y.term_id
    and h.block_in_term = y.block_in_term
    and not y.is_half_term_break
    and y.has_half_term_data
left join register_sessions as rs
    on rs.school_code = y.school_code
    and rs.session_date = y.calendar_date
    and rs.session = s.session
