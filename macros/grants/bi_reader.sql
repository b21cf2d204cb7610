{#-
  Least privilege for BI tools (PostgreSQL only; on DuckDB, which has no roles, the hooks render empty).

  `bi_reader` is a NOLOGIN group role that can read the `marts` schema and nothing else:
    - on-run-start: bi_reader_create_role() creates the role when missing (needs CREATEROLE once; an
      administrator may instead create it beforehand: `create role bi_reader nologin;`);
    - every mart model: `+grants: {select: [bi_reader]}` (dbt_project.yml; `{}` on DuckDB);
    - on-run-end: bi_reader_grant_marts() grants USAGE on schema marts and SELECT on every table and view
      in it, so relations another folder writes there (e.g. models/semantic's metricflow_time_spine) are
      readable too.
  A BI tool logs in as its own user, made a member of the group:
      create role metabase login password '...' in role bi_reader;   -- or: grant bi_reader to metabase;
-#}

{#- The role's name (var `bi_reader_role`, default 'bi_reader'). -#}
{% macro bi_reader_role() -%}
    {{ return(var('bi_reader_role', 'bi_reader')) }}
{%- endmacro %}


{% macro bi_reader_create_role() -%}
    {%- if target.type == 'postgres' -%}
        do $$
        begin
            if not exists (select 1 from pg_catalog.pg_roles where rolname = '{{ bi_reader_role() }}') then
                create role {{ adapter.quote(bi_reader_role()) }} nologin;
            end if;
        end
        $$
    {%- endif -%}
{%- endmacro %}


{#- USAGE on the marts schema and SELECT on all of its relations, once the schema exists. -#}
{% macro bi_reader_grant_marts(schema_name='marts') -%}
    {%- if target.type == 'postgres' -%}
        do $$
        begin
            if exists (select 1 from pg_catalog.pg_namespace where nspname = '{{ schema_name }}') then
                grant usage on schema {{ adapter.quote(schema_name) }} to {{ adapter.quote(bi_reader_role()) }};
                grant select on all tables in schema {{ adapter.quote(schema_name) }}
                    to {{ adapter.quote(bi_reader_role()) }};
            end if;
        end
        $$
    {%- endif -%}
{%- endmacro %}
