{#-
  Spark reads raw data where dlt's filesystem destination lands it: Parquet files under one folder per source
  table, `<SCHOOLWH_LAKE>/<source schema>/<table>/` (a local folder in tests, object storage in production).
  On Spark every run starts (on-run-start) by declaring each source table of the project over its folder, so
  `source()` works unchanged in every model. A table with no folder in the lake (a dataset no school sends, a
  group without SEEMiS schools) is not declared: staging then reads it as missing, an empty typed result, as on
  DuckDB. Which folders exist comes from SCHOOLWH_LAKE_TABLES (`schema/table,...`, listed by
  ingestion/app/spark.py). Renders nothing on DuckDB and PostgreSQL.
-#}
{% macro spark_lake_sources() -%}
    {%- if target.type == 'spark' and execute -%}
        {%- set lake = env_var('SCHOOLWH_LAKE') | replace('\\', '/') -%}
        {%- set present = env_var('SCHOOLWH_LAKE_TABLES').split(',') -%}
        {%- set schemas = [] -%}
        {%- for node in graph.sources.values() -%}
            {%- if node.schema not in schemas -%}
                {%- do schemas.append(node.schema) -%}
                {%- do run_query('create schema if not exists ' ~ node.schema) -%}
            {%- endif -%}
            {#- declared afresh every run (dropping an external table leaves its files), so a column that
                arrived since the last run is seen -#}
            {%- do run_query('drop table if exists ' ~ node.schema ~ '.' ~ node.identifier) -%}
            {%- if (node.schema ~ '/' ~ node.identifier) in present -%}
            {%- do run_query(
                'create table ' ~ node.schema ~ '.' ~ node.identifier
                ~ " using parquet location '" ~ lake ~ '/' ~ node.schema ~ '/' ~ node.identifier ~ "'"
            ) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
