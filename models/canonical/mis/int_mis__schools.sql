{#-
  One row per configured school of every MIS, in one shape: THE place that lists which MIS feeds the
  warehouse has (iSAMS, SEEMiS). Canonical models read the int_mis__* models, never a staging model, so a new
  MIS is one more branch of each union here and nowhere else.
  jurisdiction: the schools file's setting (ingestion defaults it from the source: iSAMS england, SEEMiS
  scotland); it decides the school's measurement scheme (macro measurement_scheme).
-#}
{#- One entry per MIS: its staging model and the jurisdiction of a school whose schools file sets none. #}
{%- set mis_schools = [
    {'mis': 'isams', 'model': 'stg_isams__schools', 'default_jurisdiction': 'england'},
    {'mis': 'seemis', 'model': 'stg_seemis__schools', 'default_jurisdiction': 'scotland'},
] %}

{%- for source in mis_schools %}
select
    school_code,
    school_name,
    phase,
    coalesce(jurisdiction, '{{ source.default_jurisdiction }}') as jurisdiction,
    cast('{{ source.mis }}' as {{ dbt.type_string() }}) as source_system
from {{ ref(source.model) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
