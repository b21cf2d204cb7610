{#-
  One row per school x academic year x term, from the school's calendar, plus one '(no term)' row per school and
  academic year for sessions outside its terms: THE term order of every mart (term_order 1, 2, 3 by start date
  within the school's academic year, ties by name; '(no term)' is no_term_order(), after every term).
-#}
with terms as (
    select
        school_code,
        academic_year,
        max(academic_year_start) as academic_year_start,
        term_name as term,
        min(term_start_date) as term_start_date,
        max(term_finish_date) as term_finish_date
    from {{ ref('academic_calendar') }}
    where term_name is not null
    group by school_code, academic_year, term_name
),

years as (
    select school_code, academic_year, max(academic_year_start) as academic_year_start
    from {{ ref('academic_calendar') }}
    group by school_code, academic_year
)

select
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(term as {{ dbt.type_string() }}) as term,
    cast(row_number() over (partition by school_code, academic_year order by term_start_date, term) as integer) as term_order,
    cast(term_start_date as date) as term_start_date,
    cast(term_finish_date as date) as term_finish_date
from terms

union all

select
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast({{ no_term_label() }} as {{ dbt.type_string() }}) as term,
    cast({{ no_term_order() }} as integer) as term_order,
    cast({{ academic_year_start_date('academic_year_start') }} as date) as term_start_date,
    cast({{ academic_year_end_date('academic_year_start') }} as date) as term_finish_date
from years
