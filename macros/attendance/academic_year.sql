{#-
  Academic-year helpers (England: 1 September to 31 August), portable to DuckDB and PostgreSQL.

  academic_year_start(date_expr) -> SQL integer: the calendar year in which the academic year of the date
  starts (2025-11-20 -> 2025; 2026-03-02 -> 2025). Used only where a date has no term of its own; inside a
  term the term's school_year wins (see canonical `academic_calendar`).

  academic_year_label(start_year_expr) -> SQL string: '2025/26' for 2025.

  first_month (optional, an integer or SQL expression, default 9): the month the date rule's year starts in;
  pass academic_year_first_month(jurisdiction) where a school may be Scottish.
-#}
{% macro academic_year_start(date_expr, first_month=9) -%}
    cast(
        case
            when extract(month from {{ date_expr }}) >= {{ first_month }} then extract(year from {{ date_expr }})
            else extract(year from {{ date_expr }}) - 1
        end
    as integer)
{%- endmacro %}


{#-
  academic_year_start_date(start_year_expr, first_month=9) -> SQL date: the first of `first_month` (default
  1 September) of the academic year starting in `start_year_expr` (an integer, or text such as
  substring(academic_year, 1, 4)); 2025 -> 2025-09-01, or 2025-08-01 with academic_year_first_month('scotland').
  The marts pass academic_year_first_month(jurisdiction) for the school's own year start.
  academic_year_end_date(start_year_expr) -> SQL date: 31 August of the following calendar year (2026-08-31).
  THE one spelling of the English academic-year boundary in SQL; academic_year_start() above uses the same one.
-#}
{% macro academic_year_start_date(start_year_expr, first_month=9) -%}
    {%- if first_month == 9 -%}
    cast(cast({{ start_year_expr }} as {{ dbt.type_string() }}) || '-09-01' as date)
    {%- else -%}
    cast(cast({{ start_year_expr }} as {{ dbt.type_string() }}) || '-'
        || lpad(cast({{ first_month }} as {{ dbt.type_string() }}), 2, '0') || '-01' as date)
    {%- endif -%}
{%- endmacro %}


{#-
  academic_year_first_month(jurisdiction) -> SQL integer: the month a school's year starts in by the date rule
  (used only where a date has no term of its own): 9 in England (1 September, as DfE); 8 in Scotland, whose
  school session starts in mid-August (1 August, so an August opening is never put in the year before).
-#}
{% macro academic_year_first_month(jurisdiction) -%}
    (case when {{ jurisdiction }} = 'scotland' then 8 else 9 end)
{%- endmacro %}


{% macro academic_year_end_date(start_year_expr) -%}
    cast(cast({{ start_year_expr }} + 1 as {{ dbt.type_string() }}) || '-08-31' as date)
{%- endmacro %}


{% macro academic_year_label(start_year_expr) -%}
    (cast({{ start_year_expr }} as {{ dbt.type_string() }}) || '/'
        || {{ dbt.right('cast(' ~ start_year_expr ~ ' + 1 as ' ~ dbt.type_string() ~ ')', '2') }})
{%- endmacro %}


{#-
  unknown_label() -> SQL string literal '(unknown)': THE one spelling of an unknown text attribute (year group,
  form, house, gender) in every mart of models/marts/attendance (docs block `unknown_label`).
-#}
{% macro unknown_label() -%}
    {{ return("'(unknown)'") }}
{%- endmacro %}


{#-
  attendance_cohort_types() -> list of (cohort_type, SQL expression over a row with the cohort attribute
  columns year_group, form_code, academic_house, boarding_house, gender). Shared by `cohort_attendance`
  and `punctuality`, so the two marts slice pupils the same way. A missing attribute is '(unknown)'.
-#}
{% macro attendance_cohort_types() -%}
    {%- set unknown = unknown_label() -%}
    {{ return([
        ('whole_school', "'all'"),
        ('year_group', "coalesce(year_group, " ~ unknown ~ ")"),
        ('form', "coalesce(form_code, " ~ unknown ~ ")"),
        ('academic_house', "coalesce(academic_house, " ~ unknown ~ ")"),
        ('boarding_house', "coalesce(boarding_house, " ~ unknown ~ ")"),
        ('gender', "coalesce(gender, " ~ unknown ~ ")"),
    ]) }}
{%- endmacro %}


{#-
  attendance_cohorts(relation, group_by, measures) -> SQL: the cohort unpivot of `cohort_attendance` and
  `punctuality`. One `select ... union all` per cohort type of attendance_cohort_types(): columns `group_by`,
  cohort_type, cohort_value, enrolments (= rows of `relation`, one per enrolment and period) and sum(m) as m
  for each of `measures`, grouped by `group_by` and the cohort value ('whole_school' is one cohort 'all').
-#}
{% macro attendance_cohorts(relation, group_by, measures) -%}
    {%- for cohort_type, expression in attendance_cohort_types() %}
    select
        {{ group_by | join(', ') }},
        '{{ cohort_type }}' as cohort_type,
        {{ expression }} as cohort_value,
        count(*) as enrolments,
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by {{ group_by | join(', ') }}{% if cohort_type != 'whole_school' %}, {{ expression }}{% endif %}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}
