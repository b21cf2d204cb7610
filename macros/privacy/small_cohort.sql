{#-
  Small-number suppression of published aggregates (var('min_cohort_size'); 0 = off -> false).

  small_cohort_suppressed(count_expression, partition_by=none, tiebreak=none) -> SQL boolean.
  - Primary: the cohort has fewer enrolments than min_cohort_size.
  - Complementary (when `partition_by` is given: the columns of one breakdown whose cohorts add up to a
    published total, e.g. school x year x term x cohort_type): when the primary-suppressed cohorts of a breakdown
    together have fewer than min_cohort_size enrolments, the total minus the shown cohorts would reveal them, so
    the next smallest cohorts are suppressed too, in ascending order of size (ties: `tiebreak`), until the
    suppressed cohorts together reach min_cohort_size. A cohort is therefore suppressed when it is small, or when
    its breakdown has a small cohort and the cohorts before it (ascending) total fewer than min_cohort_size.
  Uses window functions: call it in a select over one row per cohort. Published rows keep their keys (a reader
  sees the cohort exists) with every figure null and is_suppressed true.
-#}
{% macro small_cohort_suppressed(count_expression, partition_by=none, tiebreak=none) -%}
    {%- set min_cohort_size = var('min_cohort_size', 0) | int -%}
    {%- if min_cohort_size <= 0 -%}
        false
    {%- else -%}
        {%- set n = 'coalesce(' ~ count_expression ~ ', 0)' -%}
        {%- if partition_by -%}
            {%- set partition = 'partition by ' ~ (partition_by | join(', ')) -%}
            {%- set order = 'order by ' ~ n ~ (', ' ~ tiebreak if tiebreak else '') -%}
            ({{ n }} < {{ min_cohort_size }}
            or (max(case when {{ n }} < {{ min_cohort_size }} then 1 else 0 end) over ({{ partition }}) = 1
                and coalesce(sum({{ n }}) over ({{ partition }} {{ order }} rows between unbounded preceding and 1 preceding), 0)
                    < {{ min_cohort_size }}))
        {%- else -%}
            {{ n }} < {{ min_cohort_size }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
