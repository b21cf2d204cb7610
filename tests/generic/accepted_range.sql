{#-
  accepted_range(column_name, min_value=none, max_value=none, inclusive=true)

  What is wrong: the failing rows have a value in `column_name` below `min_value` or above `max_value`
  (bounds included when inclusive=true, the default; either bound may be left out).
  Why it matters: an out-of-range count or rate (negative sessions, a rate above 100%) means a broken
  source or calculation, and it would distort every total it is summed into.
  How to fix: check the failing rows against the MIS; fix the register or the model that computes it.
  Nulls pass: pair with not_null where a value is required.
-#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
{%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error("accepted_range: give min_value, max_value or both") }}
{%- endif -%}
{%- set lower_op = '>=' if inclusive else '>' -%}
{%- set upper_op = '<=' if inclusive else '<' %}

select *
from {{ model }}
where {{ column_name }} is not null
  and not (
    {%- if min_value is not none %} {{ column_name }} {{ lower_op }} {{ min_value }}{% endif %}
    {%- if min_value is not none and max_value is not none %} and{% endif %}
    {%- if max_value is not none %} {{ column_name }} {{ upper_op }} {{ max_value }}{% endif %}
  )

{% endtest %}
