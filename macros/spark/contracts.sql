{#-
  Model contracts on Spark. The contracts declare PostgreSQL/DuckDB type names; Spark has no bare `varchar`
  (it needs a length) and calls it `string`. The check casts a null to each declared type, so on Spark the
  declared type is translated first (spark_contract_type); the columns' types are then compared as usual.
-#}
{% macro spark_contract_type(data_type) -%}
    {%- set t = data_type | trim | lower -%}
    {{- return('string' if t in ('varchar', 'text', 'character varying') else data_type) -}}
{%- endmacro %}

{% macro spark__get_empty_schema_sql(columns) %}
    {%- set translated = {} -%}
    {%- for name, column in columns.items() -%}
        {%- set copy = dict(column) -%}
        {%- if copy.get('data_type') is not none -%}
            {%- do copy.update({'data_type': spark_contract_type(copy['data_type'])}) -%}
        {%- endif -%}
        {%- do translated.update({name: copy}) -%}
    {%- endfor -%}
    {{ return(default__get_empty_schema_sql(translated)) }}
{% endmacro %}
