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
  quarantine_record_id(alias, key, has_key, has_dlt_id) -> SQL text expression: the `record_id` of a raw row
  `alias` as ops.quarantine stores it, THE one dbt spelling of the rule (staging_from skips quarantined
  records with it; monitoring_reconciliation counts them with it):
  - the dataset's key cast to text, or `'_dlt_id=' || _dlt_id` when the key is null (a keyless row still
    needs a stable id), when the raw table has both columns;
  - the key cast to text when there is no `_dlt_id` column;
  - null when the table has no key column.
  The other implementation, which must agree with this one, is Python: ingestion/ops/quarantine.py
  `_current_sql()` (the ops.quarantined_records view) and ingestion/validation/gx_validate.py `_record_id()`
  (the ids written to ops.quarantine). Change the three together.
-#}
{% macro quarantine_record_id(alias, key, has_key=true, has_dlt_id=true) -%}
    {%- if has_key and has_dlt_id -%}
        coalesce(cast({{ alias }}.{{ key }} as {{ dbt.type_string() }}), '_dlt_id=' || {{ alias }}._dlt_id)
    {%- elif has_key -%}
        cast({{ alias }}.{{ key }} as {{ dbt.type_string() }})
    {%- else -%}
        cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}


{#-
  The FROM target for a raw table: the relation itself, or an empty row source when the table is missing
  (every column of such a model is then a typed null, see staging_field). Always give it an alias.

  Raw rows that failed validation at landing (ingestion/validation: ops.quarantine, written by the nightly
  job between dlt and dbt) are left out here, once for every staging model: a raw row is left out when
  ops.quarantine holds its record (`key` is the dataset's record id column: `id`; `person_id` for contacts;
  `record_id` for every SEEMiS table, validated in raw_seemis like raw_isams;
  a record whose key is null is quarantined as `_dlt_id=<its _dlt_id>`) for the load that wrote the row
  (`_dlt_load_id`). Only that version goes: the record's earlier, good versions stay.

  dlt scd2 tables (with `_dlt_valid_from`): the last good version stands in for the quarantined versions
  that followed it. It stays valid until the next good version (`_stitched_valid_to`; null while the source
  still sends the bad version, so it is the current version), and `_stale_since` says since when the source
  has been sending versions that failed validation (null when it is not stale). staging_scd2_columns reads
  both. A record whose every version failed is left out altogether. When the source sends a good version
  again, that version takes over by itself: nothing to clean up.

  Until validation has run once, or for a table without the key column, nothing is filtered.
-#}
{% macro staging_from(relation, cols, key='id') -%}
    {%- if cols is not none and cols | length == 0 -%}
        (select 1 as no_raw_table where 1 = 0)
    {%- elif cols is none -%}
        {{ relation }}
    {%- else -%}
        {%- set quarantine = adapter.get_relation(
            database=relation.database, schema='ops', identifier='quarantine'
        ) -%}
        {%- set has_key = (key | lower) in cols -%}
        {%- set scd2 = '_dlt_valid_from' in cols and '_dlt_valid_to' in cols -%}
        {%- set record_id = quarantine_record_id('kept', key, has_key, '_dlt_id' in cols) -%}
        {%- if quarantine is none or not has_key -%}
            {%- if scd2 -%}
            (select kept.*, kept._dlt_valid_to as _stitched_valid_to, cast(null as timestamp) as _stale_since
             from {{ relation }} as kept)
            {%- else -%}
            {{ relation }}
            {%- endif -%}
        {%- else -%}
            {%- set failed -%}
                exists (
                    select 1 from {{ quarantine }} as q
                    where q.school_code = kept.school_code
                      and q.dataset = '{{ relation.identifier }}'
                      and q.record_id = {{ record_id }}
                      {%- if '_dlt_load_id' in cols %}
                      and q.load_id = kept._dlt_load_id
                      {%- endif %}
                )
            {%- endset -%}
            {%- if not scd2 -%}
            (select kept.* from {{ relation }} as kept where not {{ failed }})
            {%- else -%}
            (select stitched.* from (
                select grouped.*,
                    -- the last row of the good version's group: its validity (null = still current) ...
                    last_value(grouped._dlt_valid_to) over (
                        partition by grouped.school_code, grouped._record_id, grouped._good_group
                        order by grouped._dlt_valid_from
                        rows between unbounded preceding and unbounded following
                    ) as _stitched_valid_to,
                    -- ... and, while that last row is a failed one still current, when failing began
                    case when last_value(grouped._dlt_valid_to) over (
                            partition by grouped.school_code, grouped._record_id, grouped._good_group
                            order by grouped._dlt_valid_from
                            rows between unbounded preceding and unbounded following
                        ) is null
                        then min(case when grouped._failed then {{ utc_timestamp('grouped._dlt_valid_from') }} end) over (
                            partition by grouped.school_code, grouped._record_id, grouped._good_group
                        )
                    end as _stale_since
                from (
                    select marked.*,
                        -- a good version and the failed versions right after it share a group
                        sum(case when marked._failed then 0 else 1 end) over (
                            partition by marked.school_code, marked._record_id
                            order by marked._dlt_valid_from
                            rows between unbounded preceding and current row
                        ) as _good_group
                    from (
                        select kept.*, {{ record_id }} as _record_id, {{ failed }} as _failed
                        from {{ relation }} as kept
                    ) as marked
                ) as grouped
            ) as stitched where not stitched._failed)
            {%- endif -%}
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
  Every conversion is guarded (staging_try_cast): a value that does not parse becomes null, never an error;
  `monitoring_cast_failures` lists each such value (school, dataset, record, column, value).
-#}
{% macro staging_cast_text(expression, data_type='varchar') -%}
    {%- set text = staging_blank_to_null(expression) -%}
    {%- if data_type == 'varchar' -%}
        {{ text }}
    {%- else -%}
        {{ staging_try_cast(text, data_type) }}
    {%- endif -%}
{%- endmacro %}


{#-
  THE guarded cast of a source value (text, already trimmed; blank = null) to `data_type`
  (integer | bigint | date | timestamp | boolean): null when the value does not parse, never a runtime error.
  - integer/bigint: an optional sign and digits only ('10'; not '10.0', '1e2' or 'Year 10'), within range
    (at most 9 / 18 digits, so no overflow on any backend).
  - date/timestamp: DuckDB try_cast; PostgreSQL (no try_cast before 16) checks the ISO shape with a regular
    expression and the day against the month's length before casting.
  - boolean: the accepted spellings above; anything else is null.
  Works on DuckDB and PostgreSQL. `monitoring_cast_failures` re-applies this macro to the raw values and
  lists every non-blank value it turned into null.
-#}
{% macro staging_try_cast(text, data_type) -%}
    {%- if data_type in ['integer', 'bigint'] -%}
        {%- set digits = '9' if data_type == 'integer' else '18' -%}
        case when {{ regex_matches(text, "'^[-+]?[0-9]{1," ~ digits ~ "}$'") }} then
            {%- if target.type in ('duckdb', 'spark') %} try_cast({{ text }} as {{ data_type }})
            {%- else %} cast({{ text }} as {{ data_type }})
            {%- endif %} end
    {%- elif data_type in ['date', 'timestamp'] -%}
        {%- if target.type == 'duckdb' -%}
            {%- if data_type == 'date' -%}
                cast(try_cast({{ text }} as timestamp) as date)
            {%- else -%}
                try_cast({{ text }} as timestamp)
            {%- endif -%}
        {%- else -%}
            {%- set iso = "'^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])([T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,6})?)?)?$'" -%}
            case when {{ regex_matches(text, iso) }} then
                case when extract(month from cast(substring({{ text }}, 1, 7) || '-01' as date)
                        + (cast(substring({{ text }}, 9, 2) as integer) - 1))
                        = cast(substring({{ text }}, 6, 2) as integer)
                    then {% if data_type == 'date' -%}
                        cast(cast({{ text }} as timestamp) as date)
                    {%- else -%}
                        cast({{ text }} as timestamp)
                    {%- endif %}
                end
            end
        {%- endif -%}
    {%- elif data_type == 'boolean' -%}
        case
            when lower({{ text }}) in ('1', 'true', 'yes', 'y') then true
            when lower({{ text }}) in ('0', 'false', 'no', 'n') then false
        end
    {%- else -%}
        {{ exceptions.raise_compiler_error("staging_try_cast(): unsupported data_type " ~ data_type) }}
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
            {#- through text, so a value of another type (a JSON string where a number was) is guarded too -#}
            {{ staging_try_cast(staging_blank_to_null(ref), data_type) }}
        {%- endif -%}
    {%- else -%}
        cast(null as {{ staging_sql_type(data_type) }})
    {%- endif -%}
{%- endmacro %}


{#-
  The SCD2 validity columns of a dlt `scd2` table, in contract order:
      valid_from (timestamp, UTC), valid_to (timestamp, UTC, null = current version), is_current_version
      (boolean), stale_since (timestamp, UTC: set on the current version while the source sends versions of
      the record that failed validation, i.e. since when this last good version has stood in for them)
  dlt's `_dlt_valid_from` / `_dlt_valid_to`, as stitched over quarantined versions by staging_from; typed
  nulls when the table is missing.
-#}
{% macro staging_scd2_columns(cols, table_alias=none) -%}
    {%- set prefix = table_alias ~ '.' if table_alias else '' -%}
    {%- if cols is not none and '_dlt_valid_from' in cols and '_dlt_valid_to' in cols -%}
        {{ utc_timestamp(prefix ~ '_dlt_valid_from') }} as valid_from,
        {{ utc_timestamp(prefix ~ '_stitched_valid_to') }} as valid_to,
        ({{ prefix }}_stitched_valid_to is null) as is_current_version,
        {{ prefix }}_stale_since as stale_since
    {%- elif staging_has_column(cols, '_dlt_valid_from') -%}
        {#- parsing, or a dbt unit-test fixture (the fixture gives _dlt_valid_from/_dlt_valid_to) -#}
        {{ utc_timestamp(prefix ~ '_dlt_valid_from') }} as valid_from,
        {{ utc_timestamp(prefix ~ '_dlt_valid_to') }} as valid_to,
        ({{ prefix }}_dlt_valid_to is null) as is_current_version,
        cast(null as timestamp) as stale_since
    {%- else -%}
        cast(null as timestamp) as valid_from,
        cast(null as timestamp) as valid_to,
        cast(null as boolean) as is_current_version,
        cast(null as timestamp) as stale_since
    {%- endif -%}
{%- endmacro %}


{#-
  When the row was loaded: dlt's `_dlt_load_id` (a unix timestamp with fractions, as text) as a UTC
  timestamp; a typed null when the table has no `_dlt_load_id` (e.g. Arrow-loaded tables without it).
-#}
{% macro staging_loaded_at(cols, table_alias=none) -%}
    {%- set prefix = table_alias ~ '.' if table_alias else '' -%}
    {%- if staging_has_column(cols, '_dlt_load_id') -%}
        {{ epoch_seconds_to_timestamp(prefix ~ '_dlt_load_id') }}
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
