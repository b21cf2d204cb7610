{#-
  The columns a BI tool needs to sort, filter and flag periods without SQL (issue 13): the one place where each
  is derived. Every macro returns a SQL expression and works on DuckDB and PostgreSQL.
-#}


{#-
  year_group_order(nc_year, year_group) -> SQL integer: the sort order of a year group, its NC year where known
  (Reception 0, Year 1 1, ..., Year 13 13; a nursery's negative NC year sorts first). A known year group without
  an NC year sorts 98, after every NC year; unknown (null or unknown_label()) sorts last, 99.
  In a mart grouped by the year group's label, take min() over the enrolments of the label.
-#}
{% macro year_group_order(nc_year, year_group) -%}
    cast(case
        when {{ year_group }} is null or {{ year_group }} = {{ unknown_label() }} then 99
        when {{ nc_year }} is null then 98
        else {{ nc_year }}
    end as integer)
{%- endmacro %}


{#-
  no_term_order() -> 99: term_order of '(no term)' (sessions outside the school's terms), after every term.
  The terms' own order (1, 2, 3 by start date within the school's academic year) is in canonical `school_terms`.
-#}
{% macro no_term_order() -%}
    {{ return(99) }}
{%- endmacro %}


{#- no_term_label() -> SQL string literal '(no term)': the term of sessions outside the school's terms. -#}
{% macro no_term_label() -%}
    {{ return("'(no term)'") }}
{%- endmacro %}


{#-
  academic_month_number(date_expr) -> SQL integer: the month's place in the English academic year,
  September = 1 ... August = 12 (2025-09-14 -> 1, 2026-01-05 -> 5, 2026-08-31 -> 12).
-#}
{% macro academic_month_number(date_expr) -%}
    cast((cast(extract(month from {{ date_expr }}) as integer) + 3) % 12 + 1 as integer)
{%- endmacro %}


{#-
  is_current_academic_year(academic_year_expr) -> SQL boolean: the row's academic year ('2025/26') is the
  academic year of as_of_date() (1 September to 31 August).
-#}
{% macro is_current_academic_year(academic_year_expr) -%}
    ({{ academic_year_expr }} = {{ academic_year_label(academic_year_start(as_of_date())) }})
{%- endmacro %}


{#-
  is_partial_period(period_end_expr) -> SQL boolean: the period (month, term, academic year) is not over by the
  as-of date: it ends on or after as_of_date(), so it holds the as-of date (whose registers may not all be taken
  yet, and whose last days may still be amended) or lies after it. The same rule as weekly_attendance's
  is_partial_week for the week not yet over. A null end (a period without dates) is partial.
-#}
{% macro is_partial_period(period_end_expr) -%}
    coalesce({{ period_end_expr }} >= {{ as_of_date() }}, true)
{%- endmacro %}


{#- month_end_date(month_start_expr) -> SQL date: the last day of the month starting on month_start_expr. -#}
{% macro month_end_date(month_start_expr) -%}
    cast({{ dbt.dateadd('day', -1, dbt.dateadd('month', 1, month_start_expr)) }} as date)
{%- endmacro %}


{#- group_school_code() / group_school_name(): the code ('ALL') and display name ('All schools') of the group row. -#}
{% macro group_school_code() -%}
    {{ return("'ALL'") }}
{%- endmacro %}


{% macro group_school_name() -%}
    {{ return("'All schools'") }}
{%- endmacro %}


{#-
  one_grain_attendance_figures() -> the figure columns of the one-grain marts read from cohort_attendance
  (school_attendance_by_term, school_attendance_by_year, year_group_attendance), in one order.
-#}
{% macro one_grain_attendance_figures() -%}
    enrolments,
    possible_sessions,
    attended_sessions,
    absence_sessions,
    authorised_absence_sessions,
    unauthorised_absence_sessions,
    late_sessions,
    attendance_rate,
    absence_rate,
    authorised_absence_rate,
    unauthorised_absence_rate,
    persistent_absentees,
    persistent_absence_rate,
    severe_absentees,
    severe_absence_rate,
    is_suppressed
{%- endmacro %}


{#-
  year_group_label(jurisdiction, year_of_schooling) -> SQL text: the standard name of a year group where the
  MIS sends none: England 'Reception' (0) and 'Year 1' ... 'Year 13'; Scotland the stages 'P1' ... 'P7' (1-7)
  and 'S1' ... 'S6' (8-13). Null outside those ranges. THE one place these labels are spelled; the reverse
  (a SEEMiS stage to its order) is in stg_seemis__pupils.
-#}
{% macro year_group_label(jurisdiction, year_of_schooling) -%}
    case
        when {{ jurisdiction }} = 'scotland' then
            case
                when {{ year_of_schooling }} between 1 and 7 then 'P' || cast({{ year_of_schooling }} as {{ dbt.type_string() }})
                when {{ year_of_schooling }} between 8 and 13 then 'S' || cast({{ year_of_schooling }} - 7 as {{ dbt.type_string() }})
            end
        when {{ year_of_schooling }} = 0 then 'Reception'
        when {{ year_of_schooling }} > 0 then 'Year ' || cast({{ year_of_schooling }} as {{ dbt.type_string() }})
    end
{%- endmacro %}
