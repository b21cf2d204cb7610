{#-
  The few SQL spellings that differ between DuckDB, PostgreSQL and Spark, each in one macro (the measured
  differences are in docs/spark.md). Everything else in the project is written in the intersection of the
  three dialects.
-#}

{#- True when `text` matches the regular expression literal `pattern` (anchor it with ^...$ for a whole
    match; write [.] rather than a backslash escape, which Spark's string literals would swallow). -#}
{% macro regex_matches(text, pattern) -%}
    {{ return(adapter.dispatch('regex_matches', 'schoolwh')(text, pattern)) }}
{%- endmacro %}

{% macro default__regex_matches(text, pattern) -%}
    ({{ text }} ~ {{ pattern }})
{%- endmacro %}

{% macro spark__regex_matches(text, pattern) -%}
    ({{ text }} rlike {{ pattern }})
{%- endmacro %}


{#- A unix time in seconds (a number, or text such as dlt's `_dlt_load_id`) as a UTC timestamp without time
    zone. -#}
{% macro epoch_seconds_to_timestamp(seconds) -%}
    {{ return(adapter.dispatch('epoch_seconds_to_timestamp', 'schoolwh')(seconds)) }}
{%- endmacro %}

{% macro default__epoch_seconds_to_timestamp(seconds) -%}
    {{ utc_timestamp('to_timestamp(cast(' ~ seconds ~ ' as double precision))') }}
{%- endmacro %}

{% macro spark__epoch_seconds_to_timestamp(seconds) -%}
    timestamp_seconds(cast({{ seconds }} as double))
{%- endmacro %}


{#- A time-zone-aware timestamp (dlt's timestamptz columns) as a UTC timestamp without time zone. Spark's
    session time zone is UTC (profiles.yml), so there a timestamp already reads as UTC. -#}
{% macro utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('utc_timestamp', 'schoolwh')(expression)) }}
{%- endmacro %}

{% macro default__utc_timestamp(expression) -%}
    cast(({{ expression }}) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro spark__utc_timestamp(expression) -%}
    cast({{ expression }} as timestamp)
{%- endmacro %}


{#- ISO day of the week of a date: 1 = Monday ... 7 = Sunday. -#}
{% macro iso_day_of_week(date_expression) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'schoolwh')(date_expression)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(date_expression) -%}
    cast(extract(isodow from {{ date_expression }}) as integer)
{%- endmacro %}

{% macro spark__iso_day_of_week(date_expression) -%}
    cast(extract(dayofweek_iso from {{ date_expression }}) as integer)
{%- endmacro %}


{#- The type contracts call `varchar`: plain varchar on DuckDB and PostgreSQL (dbt.type_string() is `text` on
    PostgreSQL, which an incremental run there compares as another type), `string` on Spark. -#}
{% macro varchar_type() -%}
    {{ return('string' if target.type == 'spark' else 'varchar') }}
{%- endmacro %}


{#- The integers 1..upper_bound as column `generated_number` (dbt's generate_series). On Spark it is cast to
    an integer: there dbt builds it from powers of two as a double, and 'S' || 2.0 would read 'S2.0'. DuckDB and
    PostgreSQL keep dbt's own type, so tables built by earlier versions keep their column types (an incremental
    model with on_schema_change: fail would otherwise need a full refresh after the upgrade). -#}
{% macro integer_series(upper_bound) -%}
    {%- if target.type == 'spark' -%}
    select cast(generated_number as integer) as generated_number
    from ({{ dbt.generate_series(upper_bound) }}) as series
    {%- else -%}
    {{ dbt.generate_series(upper_bound) }}
    {%- endif -%}
{%- endmacro %}
