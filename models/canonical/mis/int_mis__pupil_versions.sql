{#-
  One row per pupil record version per school, from every MIS, in one shape (see int_mis__schools).
  - mis_pupil_id: the MIS's own pupil id, the join key of its registers (iSAMS SchoolId; SEEMiS pupil id).
  - upn (England) and scn (Scotland): the national pupil numbers; each MIS fills the one its jurisdiction uses.
  - year_of_schooling: the year group's place in the school career, comparable within a jurisdiction and the
    sort order of year groups: iSAMS NC year (Reception 0, Year 1 = 1, ...); SEEMiS stage order (P1 = 1 ...
    P7 = 7, S1 = 8 ... S6 = 13). nc_year stays England's National Curriculum year (null for SEEMiS).
  - year_group_name: the MIS's own label where it sends one on the pupil (SEEMiS stage); iSAMS's labels come
    from its year-group list in enrolment_attribute_history.
  - enrolment_date: iSAMS EnrolmentDate; SEEMiS the earliest start date of the pupil's enrolments export rows.
  - SCD2: valid_from, valid_to, is_current_version, stale_since as staging (docs/staging-contract.md).

  The two branches are written out, not generated from a list of MIS as in the other int_mis__* models: they
  differ in shape, not only in the staging model and constants. The SEEMiS branch joins a second staging model
  (its enrolments export, for enrolment_date) and half of the columns differ: national number (upn / scn), the
  year-of-schooling rule (NC year / stage order), the stage label, and the iSAMS-only ids, names, boarding and
  division columns that SEEMiS does not send.
-#}
with seemis_starts as (
    select school_code, mis_pupil_id, min(start_date) as enrolment_date
    from {{ ref('stg_seemis__enrolments') }}
    group by school_code, mis_pupil_id
)

select
    school_code,
    cast('isams' as {{ dbt.type_string() }}) as source_system,
    mis_pupil_id,
    pupil_id,
    person_guid,
    upn,
    cast(null as {{ dbt.type_string() }}) as scn,
    forename,
    middle_names,
    surname,
    preferred_name,
    gender,
    date_of_birth,
    nc_year,
    nc_year as year_of_schooling,
    cast(null as {{ dbt.type_string() }}) as year_group_name,
    form_code,
    academic_house_name,
    boarding_house_name,
    is_boarder,
    division_name,
    enrolment_date,
    valid_from,
    valid_to,
    is_current_version,
    stale_since
from {{ ref('stg_isams__pupils') }}

union all

select
    p.school_code,
    cast('seemis' as {{ dbt.type_string() }}) as source_system,
    p.mis_pupil_id,
    cast(null as integer) as pupil_id,
    cast(null as {{ dbt.type_string() }}) as person_guid,
    cast(null as {{ dbt.type_string() }}) as upn,
    p.scn,
    p.forename,
    cast(null as {{ dbt.type_string() }}) as middle_names,
    p.surname,
    p.preferred_name,
    p.gender,
    p.date_of_birth,
    cast(null as integer) as nc_year,
    p.stage_order as year_of_schooling,
    p.stage as year_group_name,
    p.reg_class as form_code,
    p.house as academic_house_name,
    cast(null as {{ dbt.type_string() }}) as boarding_house_name,
    cast(null as boolean) as is_boarder,
    cast(null as {{ dbt.type_string() }}) as division_name,
    s.enrolment_date,
    p.valid_from,
    p.valid_to,
    p.is_current_version,
    p.stale_since
from {{ ref('stg_seemis__pupils') }} as p
left join seemis_starts as s on s.school_code = p.school_code and s.mis_pupil_id = p.mis_pupil_id
