{#-
  Schema naming for schoolwh.

  A custom schema (`+schema: staging|canonical|marts|seeds` in dbt_project.yml) is used literally, so the
  warehouse always has the same four schemas whatever the target: analysts' tools (Power BI, Metabase)
  point at `marts`, not at `main_marts`. Nodes without a custom schema go to the target's schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
