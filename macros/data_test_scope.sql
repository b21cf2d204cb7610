{#-
  get_where_subquery(relation) -> the relation a generic data test reads: dbt's own macro (it applies the test's
  `where` config), overridden here so that a nightly can test only the rows it rebuilt on the largest models.

  A model opts in with `config: meta: {data_tests_on_touched_rows: <date column>}` (the register-sized models:
  stg_isams__registration_statuses, attendance_sessions, fct_attendance_session). When the build passes var
  `data_tests_scope: touched`, every generic test of such a model reads only its rows dated on or after
  attendance_lookback_start(): exactly the window the incremental models deleted and rebuilt this run. With the
  default scope (`all`), on `--full-refresh`, and for singular tests (the reconciliation of canonical with raw,
  for one) every row is tested.

  Who asks for `touched` is ingestion/app/pipeline.py (build): only on an incremental night whose previous build
  recorded no failed or skipped node, so every row outside the window was tested clean when it was last
  written, and an incremental run does not rewrite it. A test that failed stays failing until it passes on all
  rows: the night after a failure tests everything again. The weekly `--full-refresh` tests everything.
-#}
{% macro get_where_subquery(relation) -%}
    {#- the touched-rows condition first: Spark (ANSI off) parses `from t where (c)` as t aliased "where" with
        a column list, so `where` must never be followed by "(" (measured: ASSIGNMENT_ARITY_MISMATCH) -#}
    {%- set conditions = [] -%}
    {%- set column = data_test_touched_rows_column() -%}
    {%- if column -%}
        {%- do conditions.append(adapter.quote(column) ~ ' >= ' ~ attendance_lookback_start()) -%}
    {%- endif -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do conditions.append(('(' ~ where ~ ')') if conditions else where) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}


{#-
  data_test_touched_rows_column() -> the date column the current generic test is limited to (see
  get_where_subquery), or none: none unless var data_tests_scope is 'touched', the run is not a full refresh and
  the tested model declares meta data_tests_on_touched_rows.
-#}
{% macro data_test_touched_rows_column() -%}
    {%- set scope = var('data_tests_scope', 'all') -%}
    {%- if scope not in ('all', 'touched') -%}
        {{ exceptions.raise_compiler_error("var data_tests_scope must be 'all' or 'touched', not '" ~ scope ~ "'") }}
    {%- endif -%}
    {%- if scope != 'touched' or flags.FULL_REFRESH or not execute -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- set attached = model.get('attached_node') if model is mapping else none -%}
    {%- set tested = graph.nodes.get(attached) if attached else none -%}
    {%- if tested is none -%}
        {%- do return(none) -%}
    {%- endif -%}
    {%- do return((tested.config.meta or {}).get('data_tests_on_touched_rows')) -%}
{%- endmacro %}
