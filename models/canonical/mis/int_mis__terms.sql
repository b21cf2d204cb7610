{#-
  One row per term version per school from every MIS, in one shape (see int_mis__schools). term_id is text
  (iSAMS's numeric @Id; SEEMiS 'session:term'); school_year is the academic year's start year (2025 =
  2025/26). SEEMiS terms are merged, not versioned: valid_from is when the row was loaded.
-#}
{#- One entry per MIS: its staging model and the column that says since when the term row holds (valid_from). #}
{%- set mis_terms = [
    {'mis': 'isams', 'model': 'stg_isams__terms', 'valid_from': 'valid_from'},
    {'mis': 'seemis', 'model': 'stg_seemis__terms', 'valid_from': 'loaded_at'},
] %}

{%- for source in mis_terms %}
select
    school_code,
    cast(term_id as {{ dbt.type_string() }}) as term_id,
    school_year,
    term_name,
    start_date,
    finish_date,
    {{ source.valid_from }} as valid_from
from {{ ref(source.model) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
