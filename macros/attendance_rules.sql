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
  build. The two models must delete the same window (the fact's incremental run reads only that window of
  attendance_sessions), hence one macro.
-#}
{% macro attendance_lookback_delete() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where session_date >= {{ attendance_lookback_start() }}
    {%- endif -%}
{%- endmacro %}
