{#-
  expression_is_true(expression, column_name=none)

  What is wrong: the failing rows are the rows for which `expression` is false (a row-level rule,
  e.g. `attended_sessions <= possible_sessions`). Used on a column, the expression is appended to the
  column name (`column_name ~ ' ' ~ expression`, e.g. expression `>= 0`).
  Why it matters: the rule is a business invariant; rows breaking it give wrong figures in the marts.
  How to fix: look at the failing rows (all their columns are returned), find the source record, and fix
  it at source or in the model that builds the column.
  A null result passes (SQL three-valued logic, as dbt_utils): add not_null tests where nulls are wrong.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not (
    {%- if column_name is not none %} {{ column_name }} {{ expression }}
    {%- else %} {{ expression }}
    {%- endif %}
)

{% endtest %}
