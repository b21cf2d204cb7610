{#-
  Fails with one row per leak: a column of a published model (schema marts, models/marts, or read by an
  exposure) that is classified pii/special_category, or whose name is an identifying name
  (privacy_identifying_names), or a marts model without an enforced contract (its columns are unknown).
-#}
{%- set leaks = privacy_published_leaks() %}
{%- if leaks | length > 0 %}
{%- for leak in leaks %}
select cast('{{ leak | replace("'", "''") }}' as {{ dbt.type_string() }}) as leak
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{%- else %}
select cast(null as {{ dbt.type_string() }}) as leak
where 1 = 0
{%- endif %}
