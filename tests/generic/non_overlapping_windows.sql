{#-
  non_overlapping_windows(partition_by, lower_bound_column, upper_bound_column)

  What is wrong: two rows of the same `partition_by` key (e.g. one attendance code, one pupil's
  enrolments in one school) have validity windows [lower, upper] that overlap. Bounds are inclusive
  dates; a null upper bound means "open" (still valid). Each failing row is one overlapping pair, and a
  row whose upper bound is before its lower bound fails on its own.
  Why it matters: a lookup on (key, date) then matches two rows, so sessions are counted twice or a
  mark gets two categories.
  How to fix: end the older window the day before the newer one starts (valid_to = next valid_from - 1).
-#}
{% test non_overlapping_windows(model, partition_by, lower_bound_column, upper_bound_column) %}
{%- if partition_by is string -%}
    {%- set partition_by = [partition_by] -%}
{%- endif -%}
{%- set far_future = "cast('9999-12-31' as date)" %}

with windows as (
    select
        {{ partition_by | join(', ') }},
        {{ lower_bound_column }} as window_lower,
        coalesce({{ upper_bound_column }}, {{ far_future }}) as window_upper,
        row_number() over (order by {{ partition_by | join(', ') }}, {{ lower_bound_column }}) as window_id
    from {{ model }}
)

select
    {% for column in partition_by -%}
    a.{{ column }},
    {% endfor -%}
    a.window_lower,
    a.window_upper,
    b.window_lower as other_window_lower,
    b.window_upper as other_window_upper,
    case when a.window_upper < a.window_lower then 'window ends before it starts' else 'windows overlap' end as failure
from windows as a
left join windows as b
    on {% for column in partition_by -%}
        {%- if not loop.first %} and {% endif -%}
        a.{{ column }} = b.{{ column }}
    {%- endfor %}
    and a.window_id < b.window_id
    and a.window_lower <= b.window_upper
    and b.window_lower <= a.window_upper
where b.window_id is not null
   or a.window_upper < a.window_lower

{% endtest %}
