{#-
  is_compulsory_school_age(date_of_birth, academic_year) -> SQL boolean: THE one rule of compulsory school age
  (DfE absence statistics: "aged between 5 and 15 as at the start of the academic year (31st August)").

  True when the pupil is aged 5 to 15 inclusive on 31 August before the academic year (for 2025/26: the age on
  2025-08-31), i.e. born from 1 September sixteen years before the academic year starts up to 31 August five
  years before it ends the previous academic year:
      academic_year_start_date(y - 16) <= date_of_birth <= academic_year_end_date(y - 6)
  For 2025/26 (y = 2025): born 2009-09-01 (15 on 2025-08-31) .. 2020-08-31 (exactly 5 on 2025-08-31).
  Born 2020-09-01 (4 years 364 days) or 2009-08-31 (16) is not of compulsory school age.
  Whole days are compared, so no age arithmetic can drift on leap years.

  `date_of_birth`: a SQL date expression. `academic_year`: a SQL text expression of the academic year label
  ('2025/26'; its first four characters are the start year). An unknown date of birth (or academic year) gives
  null: the marts then do not count the enrolment as DfE-comparable (a null is not true).
-#}
{% macro is_compulsory_school_age(date_of_birth, academic_year) -%}
    {%- set start_year = 'cast(substring(' ~ academic_year ~ ', 1, 4) as integer)' -%}
    case
        when {{ date_of_birth }} is null or {{ academic_year }} is null then null
        else cast({{ date_of_birth }} as date) between {{ academic_year_start_date(start_year ~ ' - 16') }}
            and {{ academic_year_end_date(start_year ~ ' - 6') }}
    end
{%- endmacro %}
