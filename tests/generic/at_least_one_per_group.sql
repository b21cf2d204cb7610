{#-
  at_least_one_per_group(group_by_columns, condition=none, groups_from=none)

  What is wrong: a group (e.g. a school, or a school and academic year) has no row in the model that
  satisfies `condition` (any row at all when no condition is given). Groups are taken from
  `groups_from` (a relation, e.g. ref('dim_school'), with the same column names) or, by default, from
  the model itself (then a condition is what makes the test meaningful: e.g. every school has at least
  one row with `is_current`).
  Why it matters: a school silently missing from a fact or mart disappears from every total and
  comparison, and nobody notices until a head teacher asks.
  How to fix: each failing row is one group; check that school's latest load and the joins/filters
  that drop it.
-#}
{% test at_least_one_per_group(model, group_by_columns, condition=none, groups_from=none) %}
{%- if group_by_columns is string -%}
    {%- set group_by_columns = [group_by_columns] -%}
{%- endif -%}
{%- set columns_csv = group_by_columns | join(', ') %}

with groups_expected as (
    select distinct {{ columns_csv }}
    from {{ groups_from if groups_from is not none else model }}
),

groups_found as (
    select {{ columns_csv }}, count(*) as n_rows
    from {{ model }}
    {%- if condition is not none %}
    where {{ condition }}
    {%- endif %}
    group by {{ columns_csv }}
)

select groups_expected.*
from groups_expected
left join groups_found
    on {% for column in group_by_columns -%}
        {%- if not loop.first %} and {% endif -%}
        groups_expected.{{ column }} is not distinct from groups_found.{{ column }}
    {%- endfor %}
where groups_found.n_rows is null

{% endtest %}
