{#-
  One row per school with taken registers (up to as_of_date()): how its coded marks were placed in a code
  list (stg_isams__registration_statuses) and how often the Registered flag disagrees with the list.
  Registered is a cross-check only: the list decides.
-#}
select
    school_code,
    cast(count(*) as bigint) as taken_marks,
    cast(sum(case when isams_code_id is not null then 1 else 0 end) as bigint) as coded_marks,
    cast(sum(case when code_list_source = 'rest_code_list' then 1 else 0 end) as bigint) as marks_listed_by_rest,
    cast(sum(case when code_list_source = 'seed_code_map' then 1 else 0 end) as bigint) as marks_listed_by_seed,
    cast(sum(case when code_list_source = 'registered_flag_both_lists' then 1 else 0 end) as bigint)
        as marks_with_id_in_both_lists,
    cast(sum(case when code_list_source = 'registered_flag' then 1 else 0 end) as bigint)
        as marks_with_id_in_no_list,
    cast(sum(case when registered_agrees_with_code_list = false then 1 else 0 end) as bigint)
        as registered_flag_disagreements,
    cast(sum(case when registered_agrees_with_code_list = false and code_list = 'absence' then 1 else 0 end) as bigint)
        as absence_marks_sent_registered,
    cast(sum(case when registered_agrees_with_code_list = false and code_list = 'present' then 1 else 0 end) as bigint)
        as present_marks_sent_not_registered,
    min(case when registered_agrees_with_code_list = false then session_date end) as first_disagreement_date,
    max(case when registered_agrees_with_code_list = false then session_date end) as last_disagreement_date
from {{ ref('stg_isams__registration_statuses') }}
where is_register_taken
    and session_date <= {{ as_of_date() }}
group by school_code
