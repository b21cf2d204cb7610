{#-
  Least privilege (PostgreSQL only; on DuckDB, which has no roles, the hooks render empty). Two NOLOGIN
  group roles, each reading one schema and nothing else:

  - `bi_reader` (var `bi_reader_role`): the `marts` schema, pseudonymous aggregates and the star schema, for
    BI tools;
  - `attendance_officer` (var `attendance_officer_role`): the `restricted` schema, the named list of pupils who
    need support (models/restricted). `bi_reader` has no USAGE on it, so a BI tool cannot read it.

  How: on-run-start: group_role_create() creates each role when missing (needs CREATEROLE once; an
  administrator may instead create them beforehand: `create role bi_reader nologin;`); every model of a
  folder: `+grants: {select: [role]}` (dbt_project.yml; `{}` on DuckDB); on-run-end: group_role_grant_schema()
  grants USAGE on the schema and SELECT on every table and view in it (so relations another folder writes
  there, e.g. models/semantic's metricflow_time_spine in marts, are readable too), and revokes PUBLIC's.
  A person or tool logs in as its own user, made a member of the group:
      create role metabase login password '...' in role bi_reader;         -- or: grant bi_reader to metabase;
      create role j_smith login password '...' in role attendance_officer;
-#}

{% macro group_role_create(role) -%}
    {%- if target.type == 'postgres' -%}
        do $$
        begin
            if not exists (select 1 from pg_catalog.pg_roles where rolname = '{{ role }}') then
                create role {{ adapter.quote(role) }} nologin;
            end if;
        end
        $$
    {%- endif -%}
{%- endmacro %}


{#- USAGE on the schema and SELECT on all of its relations for `role`, once the schema exists; none for PUBLIC. -#}
{% macro group_role_grant_schema(schema_name, role) -%}
    {%- if target.type == 'postgres' -%}
        do $$
        begin
            if exists (select 1 from pg_catalog.pg_namespace where nspname = '{{ schema_name }}') then
                revoke all on schema {{ adapter.quote(schema_name) }} from public;
                grant usage on schema {{ adapter.quote(schema_name) }} to {{ adapter.quote(role) }};
                grant select on all tables in schema {{ adapter.quote(schema_name) }} to {{ adapter.quote(role) }};
            end if;
        end
        $$
    {%- endif -%}
{%- endmacro %}
