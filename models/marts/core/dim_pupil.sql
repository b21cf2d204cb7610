{#-
  One row per pupil (resolved person), pseudonymous: no names, dates of birth, UPNs or contact details.
  Current cohort attributes come from the pupil's latest enrolment (on roll first, then the latest start)
  and its latest attribute version.
-#}
with enrolments as (
    select
        e.*,
        row_number() over (
            partition by e.pupil_key
            order by case when e.is_on_roll then 0 else 1 end, e.start_date desc, e.school_code
        ) as enrolment_rank,
        count(*) over (partition by e.pupil_key) as enrolment_count
    from {{ ref('enrolments') }} as e
),

attributes as (
    select
        h.*,
        row_number() over (partition by h.enrolment_key order by h.effective_from_date desc) as version_rank
    from {{ ref('enrolment_attribute_history') }} as h
)

select
    cast(e.pupil_key as {{ dbt.type_string() }}) as pupil_key,
    cast(e.school_code as {{ dbt.type_string() }}) as current_school_code,
    e.is_on_roll,
    cast(a.nc_year as integer) as nc_year,
    cast(a.year_group as {{ dbt.type_string() }}) as year_group,
    cast(a.form_code as {{ dbt.type_string() }}) as form_code,
    cast(a.academic_house as {{ dbt.type_string() }}) as academic_house,
    cast(a.boarding_house as {{ dbt.type_string() }}) as boarding_house,
    a.is_boarder,
    cast(a.gender as {{ dbt.type_string() }}) as gender,
    cast(e.enrolment_count as integer) as enrolments,
    e.has_known_attributes
from enrolments as e
left join attributes as a on a.enrolment_key = e.enrolment_key and a.version_rank = 1
where e.enrolment_rank = 1
