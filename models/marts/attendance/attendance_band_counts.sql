{#-
  How many pupils are in each attendance band, per school x academic year x school week x year group x band
  (every band of the seed, zero included, so a chart's series never has gaps; a Scottish school has no severe
  band, macro attendance_band_applies). Summing pupils over year groups
  gives the school; summing over bands gives the year group: one grain, no double counting.
  var('min_cohort_size') > 0: a year group (that week) with fewer pupils keeps its rows with null figures, and
  the next smallest year groups of the week are suppressed too when the small ones together are fewer
  (macro small_cohort_suppressed), so the school total minus the shown year groups reveals no small group.
-#}
with bands as (
    select * from {{ ref('attendance_bands') }}
),

year_group_orders as (
    select school_code, academic_year, year_group, min(year_group_order) as year_group_order
    from bands
    group by school_code, academic_year, year_group
),

cohorts as (
    select
        school_code, academic_year, week_start, academic_week, year_group,
        max(measurement_scheme) as measurement_scheme,
        count(*) as year_group_pupils
    from bands
    group by school_code, academic_year, week_start, academic_week, year_group
),

counted as (
    select
        school_code,
        academic_year,
        week_start,
        year_group,
        band_code,
        count(*) as pupils,
        sum(case when is_band_worsened then 1 else 0 end) as pupils_worsened_into_band
    from bands
    group by school_code, academic_year, week_start, year_group, band_code
),

grid as (
    select
        c.*,
        e.band_order,
        e.band_code,
        e.band_label,
        coalesce(n.pupils, 0) as pupils,
        coalesce(n.pupils_worsened_into_band, 0) as pupils_worsened_into_band
    from cohorts as c
    inner join {{ ref('attendance_band_edges') }} as e
        on {{ attendance_band_applies('c.measurement_scheme', 'e.min_absence_pct') }}
    left join counted as n
        on n.school_code = c.school_code
        and n.academic_year = c.academic_year
        and n.week_start = c.week_start
        and n.year_group = c.year_group
        and n.band_code = e.band_code
),

flagged as (
    select
        grid.*,
        {{ small_cohort_suppressed('year_group_pupils', partition_by=['school_code', 'academic_year', 'week_start', 'band_code'], tiebreak='year_group') }} as is_suppressed
    from grid
)

{%- set figure = "case when is_suppressed then null else %s end" %}

, figures as (
select
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(week_start as date) as week_start,
    cast(academic_week as integer) as academic_week,
    cast(year_group as {{ dbt.type_string() }}) as year_group,
    cast(band_order as integer) as band_order,
    cast(band_code as {{ dbt.type_string() }}) as band_code,
    cast(band_label as {{ dbt.type_string() }}) as band_label,
    cast({{ figure % 'pupils' }} as integer) as pupils,
    cast({{ figure % 'pupils_worsened_into_band' }} as integer) as pupils_worsened_into_band,
    cast({{ figure % 'year_group_pupils' }} as integer) as year_group_pupils,
    {{ figure % rate_pct('pupils', 'year_group_pupils') }} as share_of_year_group_pct,
    is_suppressed,
    {{ as_of_date() }} as as_of_date
from flagged
)

select
    f.*,
    cast(sc.school_name as {{ dbt.type_string() }}) as school_name,
    cast(sc.phase as {{ dbt.type_string() }}) as phase,
    cast(y.year_group_order as integer) as year_group_order,
    {{ is_current_academic_year('f.academic_year') }} as is_current_academic_year
from figures as f
left join {{ ref('schools') }} as sc on sc.school_code = f.school_code
left join year_group_orders as y
    on y.school_code = f.school_code and y.academic_year = f.academic_year and y.year_group = f.year_group
