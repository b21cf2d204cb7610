{#-
  What is wrong: a school's register code maps to no DfE register code in force on the session date. Each
  failing row names the school, the code list and the school's code (id and letter), how many sessions use
  it and their date range.
  Why it matters: those sessions are left out of every possible-session count and rate (category
  'unmapped'); they are never counted as present, but the school's figures are incomplete until the code
  is mapped.
  How to fix: for a school with REST access, set the code's government code in iSAMS (Control Panel >
  Registration); otherwise, or to override it, add a row to seeds/isams_code_map.csv
  (school_code, code_list, isams_code_id, isams_code, dfe_code, note) and re-run `dbt build`. A legacy code
  used after 18 August 2024 (H, F, J, Y) must be re-coded in the register (e.g. J -> J1, H -> C).
-#}
{{ config(severity='error') }}

select
    school_code,
    code_list,
    isams_code_id,
    isams_code,
    mapped_dfe_code,
    case
        when mapped_dfe_code is null then 'the school code maps to no DfE code'
        else 'DfE code ' || mapped_dfe_code || ' is not in force on these dates'
    end as problem,
    count(*) as sessions,
    min(session_date) as first_session_date,
    max(session_date) as last_session_date
from {{ ref('attendance_sessions') }}
where not is_code_mapped
group by school_code, code_list, isams_code_id, isams_code, mapped_dfe_code
