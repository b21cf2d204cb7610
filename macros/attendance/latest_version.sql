{#-
  latest_version(relation, key_columns) -> SQL select: the latest stored version (by valid_from) of every
  natural key of a dlt SCD2 staging model, keeping its is_current_version flag (false = the record has left
  the MIS feed: a leaver, a deleted group, an ended membership). Canonical entities keep such records so
  history (who was in which set) survives; filter on is_current_version for "now". `relation` may also be the
  name of a CTE (e.g. the versions left after a filter), as long as it has the key columns and valid_from.
  (Lives under macros/attendance/ because that is the folder this issue owns; it is not attendance-specific.)
-#}
{% macro latest_version(relation, key_columns) -%}
    select *
    from (
        select
            v.*,
            row_number() over (partition by {{ key_columns | join(', ') }} order by v.valid_from desc) as _version_rank
        from {{ relation }} as v
    ) as ranked
    where _version_rank = 1
{%- endmacro %}
