{#-
  MetricFlow time spine: one row per day from 2000-01-01 to 2059-12-31 (day grain), portable SQL. Lives in
  `marts` beside the facts so the semantic layer and BI tools read one schema.
-#}
{{ config(materialized='table', schema='marts') }}

with spine as (
    {{ integer_series(366 * 60) }}
)

select cast({{ dbt.dateadd('day', 'generated_number - 1', "cast('2000-01-01' as date)") }} as date) as date_day
from spine
where {{ dbt.dateadd('day', 'generated_number - 1', "cast('2000-01-01' as date)") }} <= cast('2059-12-31' as date)
