{#-
  One row per register mark (a pupil's mark for one half day: an iSAMS session, a SEEMiS opening) from every
  MIS, in one shape (see int_mis__schools).
  - mis_mark_id: the MIS's id of the mark (iSAMS RegistrationStatus @Id; SEEMiS record id), as text.
  - mis_code_id: the id of the school's code as text, null for a mark without a code (iSAMS: the code's id in
    the school's list; SEEMiS: the two-digit code itself, '02'); its meaning is resolved in
    attendance_code_map, never here. code_list: iSAMS's present/absence list holding the id; 'national' when the
    MIS sends the jurisdiction's statutory code itself (SEEMiS).
  - registered_at: when the mark was recorded as far as the MIS says (iSAMS: the register's date and time;
    SEEMiS: when the export holding the mark was written), the tie-break between two marks for one half day.
  - is_register_taken: iSAMS as staging decides; every SEEMiS mark is a taken register.
-#}
select
    school_code,
    cast('isams' as {{ dbt.type_string() }}) as source_system,
    cast(registration_status_id as {{ dbt.type_string() }}) as mis_mark_id,
    mis_pupil_id,
    session_date,
    session,
    registered_at,
    cast(isams_code_id as {{ dbt.type_string() }}) as mis_code_id,
    code_list,
    is_register_taken
from {{ ref('stg_isams__registration_statuses') }}

union all

select
    school_code,
    cast('seemis' as {{ dbt.type_string() }}) as source_system,
    attendance_mark_id as mis_mark_id,
    mis_pupil_id,
    session_date,
    session,
    source_modified_at as registered_at,
    attendance_code as mis_code_id,
    cast('national' as {{ dbt.type_string() }}) as code_list,
    true as is_register_taken
from {{ ref('stg_seemis__attendance') }}
where session in ('AM', 'PM')
