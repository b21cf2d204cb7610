{#-
  Staging helpers: the small, source-agnostic building blocks of every models/staging/<source> model.

  Raw tables loaded by dlt are all-VARCHAR (iSAMS sends strings), may be missing altogether on a given
  warehouse (a dataset no school has, REST code lists when no school has REST access) and may lack a
  column (an element no school ever sent). Staging must still build, so a model reads its raw table like
  this:

      {%- set raw = source('isams', 'staff') -%}
      {%- set cols = staging_columns_of(raw) -%}
      select
          {{ staging_field(cols, 'school_code') }} as school_code,
          {{ staging_field(cols, 'id', 'integer') }} as staff_id,
          {{ staging_field(cols, 'leaving_date', 'date') }} as leaving_date,
          {{ staging_scd2_columns(cols) }},
          {{ staging_loaded_at(cols) }} as loaded_at
      from {{ staging_from(raw, cols) }} as source_rows

  - A missing column becomes a typed null; a missing table becomes an empty, typed result.
  - Blank strings ('' or whitespace) become null; values are trimmed; then cast to the asked type.
  - While dbt parses (execute = false) the database is not read and every column is assumed present.
  Works on DuckDB and PostgreSQL.
-#}


{#-
  The lowercase column names of `relation`; [] when the table does not exist; none (= assume every column
  exists) while parsing and in dbt unit tests (there source() is a fixture CTE without a schema; give the
  fixture every column the model reads, e.g. with `format: sql`).
-#}
{% macro staging_columns_of(relation) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- if relation.schema is none -%}
        {#- a dbt unit-test fixture CTE: the fixture decides the columns (give them all, e.g. format: sql) -#}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier
    ) -%}
    {%- if found is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for column in adapter.get_columns_in_relation(found) -%}
        {%- do names.append(column.name | lower) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}


{#- True when `column` can be selected from the raw table (always true while parsing). -#}
{% macro staging_has_column(cols, column) -%}
    {{ return(cols is none or (column | lower) in cols) }}
{%- endmacro %}


{#-
  The FROM target for a raw table: the relation itself, or an empty row source when the table is missing
  (every column of such a model is then a typed null, see staging_field). Always give it an alias.

  Records that failed validation at landing (ingestion/validation: ops.quarantined_records, written by
  the nightly job between dlt and dbt) are left out here, once for every staging model: `key` is the
  dataset's record id column (`id`; `person_id` for contacts); a record whose key is null is quarantined
  as `_dlt_id=<its _dlt_id>`. Until validation has run once, or for a table without that column, nothing is
  filtered.
-#}
{% macro staging_from(relation, cols, key='id') -%}
    {%- if cols is not none and cols | length == 0 -%}
        (select 1 as no_raw_table where 1 = 0)
    {%- elif cols is none or (key | lower) not in cols -%}
        {{ relation }}
    {%- else -%}
        {%- set quarantine = adapter.get_relation(
            database=relation.database, schema='ops', identifier='quarantined_records'
        ) -%}
        {%- if quarantine is none -%}
            {{ relation }}
        {%- else -%}
            (
                select kept.* from {{ relation }} as kept
                where not exists (
                    select 1 from {{ quarantine }} as q
                    where q.school_code = kept.school_code
                      and q.dataset = '{{ relation.identifier }}'
                      and q.record_id = {% if '_dlt_id' in cols -%}
                          coalesce(cast(kept.{{ key }} as {{ dbt.type_string() }}), '_dlt_id=' || kept._dlt_id)
                      {%- else -%}
                          cast(kept.{{ key }} as {{ dbt.type_string() }})
                      {%- endif %}
                )
            )
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- Trim a text expression and turn '' into null. -#}
{% macro staging_blank_to_null(expression) -%}
    nullif(trim(cast({{ expression }} as {{ dbt.type_string() }})), '')
{%- endmacro %}


{#-
  Convert a trimmed, non-blank text expression to `data_type`:
  varchar | integer | bigint | date | timestamp | boolean.
  date/timestamp accept ISO 'YYYY-MM-DD' and 'YYYY-MM-DDTHH:MM:SS' (iSAMS sends dates with a time part).
  boolean: '1'/'true'/'yes'/'y' -> true, '0'/'false'/'no'/'n' -> false (any case), anything else -> null.
-#}
{% macro staging_cast_text(expression, data_type='varchar') -%}
    {%- set text = staging_blank_to_null(expression) -%}
    {%- if data_type == 'varchar' -%}
        {{ text }}
    {%- elif data_type in ['integer', 'bigint'] -%}
        cast({{ text }} as {{ data_type }})
    {%- elif data_type == 'date' -%}
        cast(cast({{ text }} as timestamp) as date)
    {%- elif data_type == 'timestamp' -%}
        cast({{ text }} as timestamp)
    {%- elif data_type == 'boolean' -%}
        case
            when lower({{ text }}) in ('1', 'true', 'yes', 'y') then true
            when lower({{ text }}) in ('0', 'false', 'no', 'n') then false
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error("staging_cast_text(): unsupported data_type " ~ data_type) }}
    {%- endif -%}
{%- endmacro %}


{#- SQL type name for a typed null of `data_type`. -#}
{% macro staging_sql_type(data_type) -%}
    {{- dbt.type_string() if data_type == 'varchar' else data_type -}}
{%- endmacro %}


{#-
  One raw text column, cleaned and typed: `column` (raw dlt name) trimmed, blank -> null, cast to
  `data_type`; a typed null when the raw table has no such column. With `table_alias`, the column is
  qualified (for models that join a nested table to its root).
-#}
{% macro staging_field(cols, column, data_type='varchar', table_alias=none) -%}
    {%- if staging_has_column(cols, column) -%}
        {%- set ref = (table_alias ~ '.' if table_alias else '') ~ adapter.quote(column | lower) -%}
        {{ staging_cast_text(ref, data_type) }}
    {%- else -%}
        cast(null as {{ staging_sql_type(data_type) }})
    {%- endif -%}
{%- endmacro %}


{#-
  A column that dlt already typed (REST JSON: bigint, boolean, varchar): cast to `data_type` without
  text cleaning (varchar is still trimmed, blank -> null); typed null when the column is missing.
-#}
{% macro staging_typed_field(cols, column, data_type, table_alias=none) -%}
    {%- if staging_has_column(cols, column) -%}
        {%- set ref = (table_alias ~ '.' if table_alias else '') ~ adapter.quote(column | lower) -%}
        {%- if data_type == 'varchar' -%}
            {{ staging_blank_to_null(ref) }}
        {%- else -%}
            cast({{ ref }} as {{ data_type }})
        {%- endif -%}
    {%- else -%}
        cast(null as {{ staging_sql_type(data_type) }})
    {%- endif -%}
{%- endmacro %}


{#- A dlt timestamptz expression as a UTC timestamp (without time zone), the same on DuckDB and PostgreSQL. -#}
{% macro staging_utc(expression) -%}
    cast(({{ expression }}) at time zone 'UTC' as timestamp)
{%- endmacro %}


{#-
  The SCD2 validity columns of a dlt `scd2` table, in contract order:
      valid_from (timestamp, UTC), valid_to (timestamp, UTC, null = current version), is_current_version (boolean)
  dlt's `_dlt_valid_from` / `_dlt_valid_to` are used; typed nulls when the table is missing.
-#}
{% macro staging_scd2_columns(cols, table_alias=none) -%}
    {%- set prefix = table_alias ~ '.' if table_alias else '' -%}
    {%- if staging_has_column(cols, '_dlt_valid_from') -%}
        {{ staging_utc(prefix ~ '_dlt_valid_from') }} as valid_from,
        {{ staging_utc(prefix ~ '_dlt_valid_to') }} as valid_to,
        ({{ prefix }}_dlt_valid_to is null) as is_current_version
    {%- else -%}
        cast(null as timestamp) as valid_from,
        cast(null as timestamp) as valid_to,
        cast(null as boolean) as is_current_version
    {%- endif -%}
{%- endmacro %}


{#-
  When the row was loaded: dlt's `_dlt_load_id` (a unix timestamp with fractions, as text) as a UTC
  timestamp; a typed null when the table has no `_dlt_load_id` (e.g. Arrow-loaded tables without it).
-#}
{% macro staging_loaded_at(cols, table_alias=none) -%}
    {%- set prefix = table_alias ~ '.' if table_alias else '' -%}
    {%- if staging_has_column(cols, '_dlt_load_id') -%}
        {{ staging_utc('to_timestamp(cast(' ~ prefix ~ '_dlt_load_id as double precision))') }}
    {%- else -%}
        cast(null as timestamp)
    {%- endif -%}
{%- endmacro %}


{#-
  Join condition of a dlt nested table (alias `child`) to its root table (alias `root`), with root_key on:
  child._dlt_root_id = root._dlt_id. `1 = 0` when either table is missing (the model is then empty).
-#}
{% macro staging_nested_join(child_cols, root_cols, child_alias='child', root_alias='root') -%}
    {%- if staging_has_column(child_cols, '_dlt_root_id') and staging_has_column(root_cols, '_dlt_id') -%}
        {{ child_alias }}._dlt_root_id = {{ root_alias }}._dlt_id
    {%- else -%}
        1 = 0
    {%- endif -%}
{%- endmacro %}
