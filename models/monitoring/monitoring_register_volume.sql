{#-
  Register volume, one row per school x session date with registers: how many marks were taken that day
  against the school's own recent norm, the median of its previous N register days
  (var('register_volume_norm_days', 10)). A day far below the norm usually means a register was not taken
  or not loaded (one year group, one session, one campus). Days without any register (weekends, holidays)
  have no row, so the check is quiet there; days outside term (canonical academic_calendar) are never flagged either.
  Flag: in term, at least var('register_volume_min_history_days', 5) previous register days, and marks
  taken below var('register_volume_min_pct_of_norm', 50) % of the norm.
-#}
{%- set norm_days = var('register_volume_norm_days', 10) -%}
{%- set min_history_days = var('register_volume_min_history_days', 5) -%}
{%- set min_pct = var('register_volume_min_pct_of_norm', 50) -%}

with

daily as (
    select
        school_code,
        session_date,
        cast(count(*) as bigint) as marks,
        cast(sum(case when is_register_taken then 1 else 0 end) as bigint) as marks_taken,
        cast(sum(case when session = 'AM' and is_register_taken then 1 else 0 end) as bigint) as am_marks_taken,
        cast(sum(case when session = 'PM' and is_register_taken then 1 else 0 end) as bigint) as pm_marks_taken
    from {{ ref('int_mis__register_marks') }}
    where session_date is not null
    group by school_code, session_date
),

numbered as (
    select
        daily.*,
        row_number() over (partition by school_code order by session_date) as register_day_number
    from daily
),

norms as (
    select
        today.school_code,
        today.session_date,
        count(previous.session_date) as norm_days,
        percentile_cont(0.5) within group (order by previous.marks_taken) as norm_marks_taken
    from numbered as today
    inner join numbered as previous
        on previous.school_code = today.school_code
        and previous.register_day_number between today.register_day_number - {{ norm_days }}
            and today.register_day_number - 1
    group by today.school_code, today.session_date
),

-- In term: the canonical calendar's rule (the latest version of every term of the school), as the marts.
term_dates as (
    select distinct school_code, calendar_date
    from {{ ref('academic_calendar') }}
    where is_in_term
),

measured as (
    select
        numbered.school_code,
        numbered.session_date,
        numbered.marks,
        numbered.marks_taken,
        numbered.am_marks_taken,
        numbered.pm_marks_taken,
        coalesce(norms.norm_days, 0) as norm_days,
        norms.norm_marks_taken,
        exists (
            select 1 from term_dates
            where term_dates.school_code = numbered.school_code
              and term_dates.calendar_date = numbered.session_date
        ) as is_in_term
    from numbered
    left join norms
        on norms.school_code = numbered.school_code
        and norms.session_date = numbered.session_date
)

select
    school_code,
    session_date,
    marks,
    marks_taken,
    am_marks_taken,
    pm_marks_taken,
    norm_days,
    norm_marks_taken,
    case
        when norm_marks_taken > 0
            then cast(round(cast(100.0 * marks_taken / norm_marks_taken as numeric(18, 6)), 1) as numeric(18, 1))
    end as pct_of_norm,
    is_in_term,
    (
        is_in_term
        and norm_days >= {{ min_history_days }}
        and norm_marks_taken > 0
        and marks_taken * 100 < norm_marks_taken * {{ min_pct }}
    ) as is_below_norm
from measured
