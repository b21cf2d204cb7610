{#-
  Attendance rules for schoolwh: the one place where thresholds, rates and "today" are turned into SQL.
  Every macro returns a SQL expression and works on DuckDB and PostgreSQL.
  Methodology: /work/shared/reference/attendance-methodology.md (DfE "A guide to absence statistics").
-#}


{#-
  is_absentee(absence_sessions, possible_sessions, threshold) -> SQL boolean expression.

  True when the enrolment missed at least `threshold` per cent of its OWN possible sessions (inclusive,
  as DfE: "miss 10 per cent or more"). Compared on integer counts, never on a rounded rate:
      possible > 0 and absence * 100 >= possible * threshold
  so exactly 10% (38 of 380) is a persistent absentee and 37 of 380 (9.74%) is not.
  Enrolments with zero possible sessions are never absentees (DfE excludes them). A null count gives null.
  `threshold` is a number (or a SQL expression); a literal outside 0..100 is a compile error.
-#}
{% macro is_absentee(absence_sessions, possible_sessions, threshold) -%}
    {%- if threshold is none or threshold == '' -%}
        {{ exceptions.raise_compiler_error("is_absentee(): threshold is required") }}
    {%- endif -%}
    {%- if threshold is number and (threshold < 0 or threshold > 100) -%}
        {{ exceptions.raise_compiler_error("is_absentee(): threshold must be a percentage between 0 and 100, got " ~ threshold) }}
    {%- endif -%}
    ({{ possible_sessions }} > 0 and {{ absence_sessions }} * 100 >= {{ possible_sessions }} * {{ threshold }})
{%- endmacro %}


{#- Persistent absentee: missed >= var('persistent_absence_threshold') % (default 10) of possible sessions. -#}
{% macro is_persistent_absentee(absence_sessions, possible_sessions) -%}
    {{ is_absentee(absence_sessions, possible_sessions, var('persistent_absence_threshold')) }}
{%- endmacro %}


{#- Severe absentee: missed >= var('severe_absence_threshold') % (default 50) of possible sessions. -#}
{% macro is_severe_absentee(absence_sessions, possible_sessions) -%}
    {{ is_absentee(absence_sessions, possible_sessions, var('severe_absence_threshold')) }}
{%- endmacro %}


{#-
  rate_pct(numerator, denominator, dp=2) -> SQL numeric expression: 100 * numerator / denominator,
  rounded half-up to `dp` decimal places (DfE publishes with round_five_up), typed numeric(18, dp).
  Null when the denominator is 0 or null. Rate of sums, not mean of rates: pass sum(...) / sum(...).

      {{ rate_pct('sum(absence_sessions)', 'sum(possible_sessions)') }}  -- 38 / 380 -> 10.00

  The rounding is exact for non-negative rates on both databases: DuckDB divides decimals in double
  precision, so round(1.005, 2) would give 1.00 there; floor(x * 10^dp + 0.5) does not have that problem.
-#}
{% macro rate_pct(numerator, denominator, dp=2) -%}
    {%- if dp is not number or dp < 0 or dp > 6 or dp != dp | int -%}
        {{ exceptions.raise_compiler_error("rate_pct(): dp must be an integer between 0 and 6, got " ~ dp) }}
    {%- endif -%}
    {%- set scale = 10 ** (dp | int) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast(
            floor(cast({{ numerator }} as numeric(38, 6)) * {{ 100 * scale }} / {{ denominator }} + 0.5) / {{ scale }}
            as numeric(18, {{ dp | int }})
        )
    end
{%- endmacro %}


{#-
  as_of_date() -> SQL date expression: the date the warehouse is "as of".

  var('as_of_date') as an ISO date ('2025-07-18'), or current_date when the var is null/empty/'today'.
  Use it instead of a bare current_date so tests and rebuilds can pin time:
      dbt build --vars '{as_of_date: "2025-07-18"}'
  A value that is not a real ISO date is a compile error.
-#}
{% macro as_of_date() -%}
    {%- set raw = var('as_of_date', none) -%}
    {%- if raw is none or (raw | string | trim | lower) in ['', 'none', 'null', 'today', 'current_date'] -%}
        current_date
    {%- else -%}
        cast('{{ schoolwh_iso_date(raw, "as_of_date") }}' as date)
    {%- endif -%}
{%- endmacro %}


{#- Helper: validate a var holding an ISO date (string or YAML date) and return it as 'YYYY-MM-DD'. -#}
{% macro schoolwh_iso_date(value, name) -%}
    {%- set text = value | string | trim -%}
    {%- set ns = namespace(parsed=none) -%}
    {%- if modules.re.match('^\d{4}-\d{2}-\d{2}$', text) -%}
        {%- set ns.parsed = modules.datetime.datetime.strptime(text, '%Y-%m-%d') -%}
    {%- endif -%}
    {%- if ns.parsed is none -%}
        {{ exceptions.raise_compiler_error("var('" ~ name ~ "') must be an ISO date 'YYYY-MM-DD', got: " ~ value) }}
    {%- endif -%}
    {{- ns.parsed.strftime('%Y-%m-%d') -}}
{%- endmacro %}


{#-
  attendance_lookback_start() -> SQL date: where an incremental build of the attendance models starts
  rebuilding: as_of_date() minus var('attendance_lookback_days') (default 14), or earlier when ingestion has
  re-read older registers since the last build (ops.register_reloads, written by the pipeline: after a gap of a
  few days, a failed night or a backfill it re-reads further back than this window). Marks on or after this
  date may have been amended, so the incremental models delete and rebuild them; an incremental build then
  equals a full refresh of the same raw data.
-#}
{% macro attendance_lookback_start() -%}
    {%- set by_days -%}({{ as_of_date() }} - {{ var('attendance_lookback_days', 14) | int }}){%- endset -%}
    least({{ by_days }}, coalesce(
        (select min(from_date) from ops.register_reloads where built_at is null), {{ by_days }}))
{%- endmacro %}


{#-
  attendance_lookback_delete() -> SQL statement (the pre-hook of the incremental attendance models
  attendance_sessions and fct_attendance_session): on an incremental run, delete from the model every row
  dated on or after attendance_lookback_start(), the window the run then inserts again; nothing on a full
  build. int_attendance__enrolment_months passes its month column and whole_months=true: its window starts
  on the first of the look-back's month. The two models must delete the same window (the fact's incremental run reads only that window of
  attendance_sessions), hence one macro.
-#}
{% macro attendance_lookback_delete(date_column='session_date', whole_months=false) -%}
    {#- Spark's Parquet tables have no DELETE: there the run overwrites whole academic-year partitions instead
        (attendance_spark_years_filter) -#}
    {%- if is_incremental() and target.type != 'spark' -%}
        delete from {{ this }} where {{ date_column }} >= {{ attendance_lookback_month_start() if whole_months else attendance_lookback_start() }}
    {%- endif -%}
{%- endmacro %}


{#-
  attendance_lookback_month_start() -> SQL date: the first day of the month holding attendance_lookback_start():
  where int_attendance__enrolment_months' incremental run starts (its rows are whole calendar months).
-#}
{% macro attendance_lookback_month_start() -%}
    cast({{ dbt.date_trunc('month', attendance_lookback_start()) }} as date)
{%- endmacro %}


{#-
  attendance_years_to_rebuild(date_column) -> a SQL subquery: the academic years an incremental run of a
  per-enrolment x academic-year aggregate (int_attendance__enrolment_weeks) rebuilds whole, with
  incremental_strategy delete+insert on unique_key academic_year: every year with a session inside the
  look-back window (attendance_lookback_start(), the window attendance_sessions has just rebuilt), plus every
  year of {{ this }} with a row dated in it (`date_column`), so a year whose window sessions all vanished is
  rebuilt from what is left. A year is the unit because its numbering (school weeks), year-to-date sums and
  carried attributes run across it (months are self-contained: they rebuild from the look-back's month); years that ended before the window are left as they were, as attendance_sessions leaves
  their sessions. Call it only inside is_incremental().
-#}
{% macro attendance_years_to_rebuild(date_column, from_calendar=false) -%}
    (
        {%- if from_calendar %}
        {#- attendance_sessions itself: the years of the window's dates in each school's calendar, and the date
            rule's years (both jurisdictions) of the window's first and last day, for sessions outside terms -#}
        select academic_year from {{ ref('academic_calendar') }}
        where calendar_date >= {{ attendance_lookback_start() }} and calendar_date <= {{ as_of_date() }}
        {%- for day in [attendance_lookback_start(), as_of_date()] %}
        {%- for first_month in [8, 9] %}
        union
        select {{ academic_year_label(academic_year_start(day, first_month)) }}
        {%- endfor %}
        {%- endfor %}
        {%- else %}
        select academic_year from {{ ref('attendance_sessions') }}
        where session_date >= {{ attendance_lookback_start() }}
        {%- endif %}
        union
        select academic_year from {{ this }}
        where {{ date_column }} >= {{ attendance_lookback_start() }}
    )
{%- endmacro %}


{#-
  attendance_spark_years_filter(academic_year_column, date_column, from_calendar=false) -> SQL condition, on
  Spark only (empty elsewhere, and on a full build): the incremental attendance models on Spark are Parquet
  tables partitioned by academic_year and built with incremental_strategy insert_overwrite (Spark has no
  DELETE without Delta or Iceberg), so an incremental run must produce whole academic years: those of
  attendance_years_to_rebuild(date_column). Every partition it writes replaces the stored one; the others are
  kept. (A year none of whose sessions is left would keep its stored rows: only possible when every session of
  a year lies in the look-back window and all of them disappear.) Starts with `and`.
-#}
{% macro attendance_spark_years_filter(academic_year_column, date_column, from_calendar=false) -%}
    {%- if is_incremental() and target.type == 'spark' -%}
        and {{ academic_year_column }} in {{ attendance_years_to_rebuild(date_column, from_calendar) }}
    {%- endif -%}
{%- endmacro %}


{#-
  attendance_incremental_since(date_column, since, this_date_column='session_date', from_calendar=false) -> SQL
  condition starting with `and`, or nothing on a full build: an incremental run's rows have `date_column` on or
  after `since` (the look-back window the pre-hook deleted). On Spark the run rebuilds whole academic years
  (attendance_spark_years_filter, with the same this_date_column and from_calendar), so the date bound there is
  the 1 January before the earliest year to rebuild starts (a bound safely before any of its sessions).
-#}
{% macro attendance_incremental_since(date_column, since, this_date_column='session_date', from_calendar=false) -%}
    {%- if is_incremental() -%}
        {%- if target.type == 'spark' -%}
        and {{ date_column }} >= (
            select make_date(cast(substring(min(academic_year), 1, 4) as integer), 1, 1)
            from {{ attendance_years_to_rebuild(this_date_column, from_calendar) }} as years
        )
        {%- else -%}
        and {{ date_column }} >= {{ since }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#-
  national_framework_threshold(sessions) -> a SQL query (use it as a model's whole body or a CTE): the national
  framework's threshold ("Working together to improve school attendance", 2024; methodology notes section 4):
  10 sessions of unauthorised absence within a rolling period of 10 school weeks.

  `sessions` is a relation with one row per enrolment x date x session: school_code, enrolment_key, pupil_key,
  academic_year, session_date, is_possible_session, dfe_code, measurement_scheme (canonical attendance_sessions).
  Only schools measured by DfE rules are in it: the framework is England's.
  - A school week is a Monday-to-Sunday week with at least one possible session for that school (any pupil's);
    weeks without one (half terms, holidays, the summer) are skipped, so the window crosses half terms, terms
    and academic years. School weeks are numbered per school (school_week_number 1, 2, ... over all its data).
  - An enrolment has a row for every school week from the first to the last week in which it has a possible
    session (a joiner starts at its first week, a leaver stops at its last).
  - Unauthorised sessions are possible sessions whose DfE code is in var('national_framework_codes') (default
    G, N, O, U; never another code, however it is categorised).
  - The window of a week is the 10 (var('national_framework_weeks')) school weeks ending with it, of which the
    enrolment was on roll for school_weeks_in_window (fewer for a joiner: only those weeks count).
  - is_over_threshold: unauthorised_sessions_in_window >= var('national_framework_sessions') (default 10:
    exactly 10 is over). first_reached_week_start: the earliest week of the same academic year, up to this one,
    whose window was over the threshold; is_newly_over_threshold: over this week and not the school week before.
-#}
{% macro national_framework_threshold(sessions) -%}
    {%- set weeks = var('national_framework_weeks', 10) | int -%}
    {%- set limit = var('national_framework_sessions', 10) | int -%}
    {%- set codes = var('national_framework_codes', ['G', 'N', 'O', 'U']) -%}
    {%- if weeks < 1 or limit < 1 or codes | length == 0 -%}
        {{ exceptions.raise_compiler_error("national_framework_threshold(): national_framework_weeks and national_framework_sessions must be >= 1 and national_framework_codes not empty") }}
    {%- endif -%}
with nft_sessions as (
    select
        school_code,
        enrolment_key,
        pupil_key,
        academic_year,
        is_possible_session,
        cast({{ dbt.date_trunc('week', 'session_date') }} as date) as week_start,
        case
            when is_possible_session and dfe_code in ({% for c in codes %}'{{ c }}'{{ ", " if not loop.last }}{% endfor %})
                then 1 else 0
        end as is_unauthorised
    from {{ sessions }}
    where session_date <= {{ as_of_date() }}
        -- England's framework: only schools measured by DfE rules (a Scottish school has no such threshold)
        and coalesce(measurement_scheme, 'dfe_sessions') = 'dfe_sessions'
),

nft_school_weeks as (
    select
        school_code,
        week_start,
        academic_year,
        row_number() over (partition by school_code order by week_start) as school_week_number
    from (
        select school_code, week_start, max(academic_year) as academic_year
        from nft_sessions
        where is_possible_session
        group by school_code, week_start
    ) as w
),

nft_enrolment_weeks as (
    select
        school_code,
        enrolment_key,
        min(pupil_key) as pupil_key,
        min(week_start) as first_week_start,
        max(week_start) as last_week_start
    from nft_sessions
    where is_possible_session
    group by school_code, enrolment_key
),

nft_weekly as (
    select
        enrolment_key,
        week_start,
        sum(case when is_possible_session then 1 else 0 end) as possible_sessions,
        sum(is_unauthorised) as unauthorised_sessions
    from nft_sessions
    group by enrolment_key, week_start
),

nft_grid as (
    select
        e.school_code,
        e.enrolment_key,
        e.pupil_key,
        w.academic_year,
        w.week_start,
        w.school_week_number,
        coalesce(k.possible_sessions, 0) as possible_sessions,
        coalesce(k.unauthorised_sessions, 0) as unauthorised_sessions
    from nft_enrolment_weeks as e
    inner join nft_school_weeks as w
        on w.school_code = e.school_code
        and w.week_start between e.first_week_start and e.last_week_start
    left join nft_weekly as k
        on k.enrolment_key = e.enrolment_key and k.week_start = w.week_start
),

{#- The grid holds every school week of the enrolment's span, so "the N school weeks ending here" is the N rows
    ending here (rows, not range: the same on DuckDB, PostgreSQL and Spark). -#}
nft_windowed as (
    select
        g.*,
        min(g.week_start) over nft_window as window_start_week,
        count(*) over nft_window as school_weeks_in_window,
        sum(g.unauthorised_sessions) over nft_window as unauthorised_sessions_in_window
    from nft_grid as g
    window nft_window as (partition by g.enrolment_key order by g.school_week_number rows between {{ weeks - 1 }} preceding and current row)
),

nft_flagged as (
    select
        w.*,
        w.unauthorised_sessions_in_window >= {{ limit }} as is_over_threshold
    from nft_windowed as w
)

select
    f.*,
    min(case when f.is_over_threshold then f.week_start end) over (
        partition by f.enrolment_key, f.academic_year order by f.school_week_number
        rows between unbounded preceding and current row
    ) as first_reached_week_start,
    f.is_over_threshold and not coalesce(
        lag(f.is_over_threshold) over (partition by f.enrolment_key order by f.school_week_number), false
    ) as is_newly_over_threshold
from nft_flagged as f
{%- endmacro %}


{#-
  measurement_scheme(jurisdiction) -> SQL text expression: how a school's attendance is measured, from its
  jurisdiction (canonical schools.jurisdiction). THE one place that ties a jurisdiction to its rules:
    'dfe_sessions'       England (DfE): sessions, persistent absence per enrolment, severe absence at 50%;
    'scottish_openings'  Scotland (Scottish Government): openings (half days), persistent absence per pupil,
                         no severe-absence measure.
  An unknown jurisdiction gets null (the school's marks then map to no code and count in no rate).
-#}
{% macro measurement_scheme(jurisdiction) -%}
    case {{ jurisdiction }}
        when 'england' then 'dfe_sessions'
        when 'scotland' then 'scottish_openings'
    end
{%- endmacro %}


{#-
  has_severe_absence_measure(scheme) -> SQL boolean: whether the measurement scheme publishes severe absence
  (DfE does; the Scottish Government has no such measure, so a Scottish severe flag or count is null, not false).
  A row whose scheme is unknown (null) is measured as DfE's.
-#}
{% macro has_severe_absence_measure(scheme) -%}
    coalesce({{ scheme }} <> 'scottish_openings', true)
{%- endmacro %}


{#-
  severe_absentee_flag(absence_sessions, possible_sessions, scheme) -> SQL boolean: is_severe_absentee where
  the scheme has the measure, null where it does not (Scotland).
-#}
{% macro severe_absentee_flag(absence_sessions, possible_sessions, scheme) -%}
    case when {{ has_severe_absence_measure(scheme) }} then {{ is_severe_absentee(absence_sessions, possible_sessions) }} end
{%- endmacro %}


{#-
  severe_absentee_count(absence_sessions, possible_sessions, scheme) -> SQL integer: 1 or 0 for a severe
  absentee where the scheme has the measure, null where it has not; sum() over it is then null for a Scottish
  school and a count for an English one.
-#}
{% macro severe_absentee_count(absence_sessions, possible_sessions, scheme) -%}
    case when {{ has_severe_absence_measure(scheme) }} then
        case when {{ is_severe_absentee(absence_sessions, possible_sessions) }} then 1 else 0 end
    end
{%- endmacro %}


{#-
  attendance_band_applies(scheme, min_absence_pct) -> SQL boolean: whether an attendance band (seed
  attendance_band_edges) exists for a school measured by `scheme`. A band starting at or above the severe
  threshold (var('severe_absence_threshold')) is a severe band, and a scheme without a severe measure
  (Scotland) has none: its pupils there stay in the band below (persistent absence).
-#}
{% macro attendance_band_applies(scheme, min_absence_pct) -%}
    ({{ has_severe_absence_measure(scheme) }} or {{ min_absence_pct }} < {{ var('severe_absence_threshold') }})
{%- endmacro %}
