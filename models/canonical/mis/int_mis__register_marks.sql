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
{#-
  One entry per MIS: its staging model and the SQL expression of each column it names differently (every other
  column has the same name in each staging model); `where` keeps only the marks of half days (SEEMiS also
  exports other sessions).
-#}
{%- set mis_marks = [
    {'mis': 'isams', 'model': 'stg_isams__registration_statuses', 'mis_mark_id': 'registration_status_id',
        'registered_at': 'registered_at', 'mis_code_id': 'isams_code_id', 'code_list': 'code_list',
        'is_register_taken': 'is_register_taken', 'where': none},
    {'mis': 'seemis', 'model': 'stg_seemis__attendance', 'mis_mark_id': 'attendance_mark_id',
        'registered_at': 'source_modified_at', 'mis_code_id': 'attendance_code', 'code_list': "'national'",
        'is_register_taken': 'true', 'where': "session in ('AM', 'PM')"},
] %}

{%- for source in mis_marks %}
select
    school_code,
    cast('{{ source.mis }}' as {{ dbt.type_string() }}) as source_system,
    cast({{ source.mis_mark_id }} as {{ dbt.type_string() }}) as mis_mark_id,
    mis_pupil_id,
    session_date,
    session,
    {{ source.registered_at }} as registered_at,
    cast({{ source.mis_code_id }} as {{ dbt.type_string() }}) as mis_code_id,
    cast({{ source.code_list }} as {{ dbt.type_string() }}) as code_list,
    {{ source.is_register_taken }} as is_register_taken
from {{ ref(source.model) }}
{%- if source.where %}
where {{ source.where }}
{%- endif %}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
