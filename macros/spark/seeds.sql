{#-
  Seeds on Spark. dbt-spark's session mode binds seed values into the INSERT without escaping them, so a
  value with a quote or a backslash (the DfE present mark `\`) breaks the statement. This override writes each
  value as an escaped Spark string literal and casts it to the column's type. Spark only.
-#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set types = [] -%}
    {%- for col_name in agate_table.column_names -%}
        {%- do types.append(column_override.get(col_name, adapter.convert_type(agate_table, loop.index0))) -%}
    {%- endfor -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for value in row -%}
                    {%- if value is none -%}
                        cast(null as {{ types[loop.index0] }})
                    {%- else -%}
                        cast('{{ spark__escape_single_quotes(value | string) }}' as {{ types[loop.index0] }})
                    {%- endif -%}
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do run_query(sql) -%}
        {%- if loop.first -%}{%- do statements.append(sql) -%}{%- endif -%}
    {%- endfor -%}
    {{ return(statements[0] if statements else '') }}
{% endmacro %}


{#- A value inside a Spark string literal: Spark reads a backslash as an escape, so it is doubled as well as the
    quote escaped (dbt-spark escapes only the quote, which breaks unit-test fixtures holding the PM mark `\`). -#}
{% macro spark__escape_single_quotes(expression) -%}
{{ expression | replace("\\", "\\\\") | replace("'", "\\'") }}
{%- endmacro %}
