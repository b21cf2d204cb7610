{#-
  unique_combination_of_columns(combination_of_columns)

  What is wrong: more than one row has the same values in `combination_of_columns` (the model's grain).
  Why it matters: joins on this key multiply rows, so counts, sessions and rates downstream are inflated.
  How to fix: find the duplicated keys in the failing rows (each row is one key with its row count);
  usually a source sent the same record twice, or a join upstream fans out (a pupil with two enrolments
  in one school, an overlapping validity window). Deduplicate in staging or fix the join.
  Nulls count as values: two rows with the same key and a null in the same column are duplicates.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- if combination_of_columns is string -%}
    {%- set combination_of_columns = [combination_of_columns] -%}
{%- endif -%}
{%- set columns_csv = combination_of_columns | join(', ') %}

select
    {{ columns_csv }},
    count(*) as n_rows
from {{ model }}
group by {{ columns_csv }}
having count(*) > 1

{% endtest %}
