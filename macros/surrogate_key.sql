{#-
  surrogate_key(columns) -> SQL expression: the md5 hex digest (32 lowercase characters) of a natural key.

  THE one macro that builds keys in schoolwh (CONVENTIONS.md "Keys and identity"). Keep the natural key
  columns beside the surrogate key, and always include the school (campus) code in `columns`.

    {{ surrogate_key(['school_code', 'pupil_id']) }} as pupil_key

  - `columns`: a list of column names or SQL expressions (a single string is accepted as a one-item list).
    Order matters: ['a', 'b'] and ['b', 'a'] give different keys.
  - Each value is cast to the warehouse string type; a null becomes a sentinel that no real value uses,
    so null and '' hash differently and a null never nulls the whole key.
  - Values are joined with '-' so ('ab', 'c') and ('a', 'bc') give different keys.
  - Works on DuckDB and PostgreSQL (both have md5(varchar) and ||) and gives the same key on both,
    provided the values cast to the same text (integers, varchar and dates do).
-#}
{% macro surrogate_key(columns) -%}
    {%- if columns is string -%}
        {%- set columns = [columns] -%}
    {%- endif -%}
    {%- if columns is not iterable or columns | length == 0 -%}
        {{ exceptions.raise_compiler_error("surrogate_key() needs a non-empty list of columns, got: " ~ columns) }}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for column in columns -%}
        {%- do parts.append("coalesce(cast(" ~ column ~ " as " ~ dbt.type_string() ~ "), '_schoolwh_null_')") -%}
    {%- endfor -%}
    md5({{ parts | join(" || '-' || ") }})
{%- endmacro %}
