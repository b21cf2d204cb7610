{#-
  One row per term version per school from every MIS, in one shape (see int_mis__schools). term_id is text
  (iSAMS's numeric @Id; SEEMiS 'session:term'); school_year is the academic year's start year (2025 =
  2025/26). SEEMiS terms are merged, not versioned: valid_from is when the row was loaded.
-#}
select
    school_code,
    cast(term_id as {{ dbt.type_string() }}) as term_id,
    school_year,
    term_name,
    start_date,
    finish_date,
    valid_from
from {{ ref('stg_isams__terms') }}
union all
select
    school_code,
    term_id,
    school_year,
    term_name,
    start_date,
    finish_date,
    loaded_at as valid_from
from {{ ref('stg_seemis__terms') }}
