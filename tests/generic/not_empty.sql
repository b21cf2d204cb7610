{#-
  not_empty()

  What is wrong: the model has no rows at all.
  Why it matters: an empty table passes every row-level test but makes every dashboard blank or zero;
  it usually means an upstream load failed or a filter (as_of_date, school, year) excludes everything.
  How to fix: check the last ingestion run and `dbt source freshness`, then the model's filters and
  var('as_of_date'). Returns one row when the model is empty.
-#}
{% test not_empty(model) %}

select 'model has no rows' as failure
where not exists (select 1 from {{ model }})

{% endtest %}
