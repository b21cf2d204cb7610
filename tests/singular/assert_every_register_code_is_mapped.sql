{#-
  What is wrong: a school's register code maps to no statutory code of its scheme in force on the session
  date (a DfE register code; a SEEMiS code of seed seemis_attendance_codes). Each
  failing row names the school, the code list and the school's code (id and letter), how many sessions use
  it and their first and last date (model monitoring_register_codes).
  Why it matters: those sessions are left out of every possible-session count and rate (category
  'unmapped'); they are never counted as present, but the school's figures are incomplete until the code
  is mapped. Severity warn: the school's other sessions and every other school publish as normal; the
  school shows as 'attention' in `schoolwh status`.
  How to fix: for a school with REST access, set the code's government code in iSAMS (Control Panel >
  Registration); otherwise add a row to seeds/isams_code_map.csv
  (school_code, code_list, isams_code_id, isams_code, dfe_code, note) and run `schoolwh build --full-refresh`.
  A SEEMiS school (code list 'national') sends its codes itself: add the code, with its category, to
  seeds/seemis_attendance_codes.csv and run `schoolwh build --full-refresh`.
  A legacy code used after 18 August 2024 (H, F, J, Y) must be re-coded in the register (e.g. J -> J1, H -> C).
-#}
{{ config(severity='warn', store_failures=true) }}

select
    school_code,
    code_list,
    mis_code_id,
    mis_code,
    unmapped_statutory_code as mapped_statutory_code,
    unmapped_sessions as sessions,
    first_unmapped_date as first_session_date,
    last_unmapped_date as last_session_date,
    'School ' || school_code || ': register code ' || coalesce('''' || mis_code || '''', '(no letter)')
        || ' (' || code_list || ' list, id ' || mis_code_id || ') '
        || case
            when code_list = 'national' then 'is not in seeds/seemis_attendance_codes.csv'
            when unmapped_statutory_code is null then 'maps to no DfE code'
            else 'maps to DfE code ' || unmapped_statutory_code || ', not in force on these dates'
        end
        || ': ' || cast(unmapped_sessions as {{ dbt.type_string() }}) || ' sessions from '
        || cast(first_unmapped_date as {{ dbt.type_string() }}) || ' to '
        || cast(last_unmapped_date as {{ dbt.type_string() }}) || ' are left out of every rate' as problem
from {{ ref('monitoring_register_codes') }}
where has_unmapped_sessions
