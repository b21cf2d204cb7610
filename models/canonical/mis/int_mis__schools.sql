{#-
  One row per configured school of every MIS, in one shape: THE place that lists which MIS feeds the
  warehouse has (iSAMS, SEEMiS). Canonical models read the int_mis__* models, never a staging model, so a new
  MIS is one more branch of each union here and nowhere else.
  jurisdiction: the schools file's setting (ingestion defaults it from the source: iSAMS england, SEEMiS
  scotland); it decides the school's measurement scheme (macro measurement_scheme).
-#}
select
    school_code,
    school_name,
    phase,
    coalesce(jurisdiction, 'england') as jurisdiction,
    cast('isams' as {{ dbt.type_string() }}) as source_system
from {{ ref('stg_isams__schools') }}
union all
select
    school_code,
    school_name,
    phase,
    coalesce(jurisdiction, 'scotland') as jurisdiction,
    cast('seemis' as {{ dbt.type_string() }}) as source_system
from {{ ref('stg_seemis__schools') }}
