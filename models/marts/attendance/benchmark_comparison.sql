{#-
  Each school beside the published national figures, per academic year, year to date (sessions up to
  as_of_date()). One row per school x academic year.
  - Two scopes: all enrolments (as every other mart) and dfe_comparable, the enrolments of compulsory school
    age (is_compulsory_school_age: 5 to 15 on 31 August before the year; unknown date of birth -> not counted),
    the population of the national figures. The differences compare the dfe_comparable rates.
  - The national phase compared with: primary -> primary, secondary -> secondary, special -> special;
    all_through or no phase configured -> total; a Scottish school -> 'scotland' (the Scottish Government's
    figures: openings, every pupil of publicly funded schools, so its 'dfe_comparable' scope is all its pupils,
    and its severe figures are null: Scotland has no such measure).
  - The national row: of that phase, the same academic year when published, else the latest published year
    before it; within a year the daily collection (year to date, like the school's figures) before the census
    (full year). national_academic_year and national_basis say which was used; none (nulls) for a year before
    every published figure.
  - Differences: school minus national, in percentage points, of the published (rounded) rates; null when
    either side is null.
  - var('min_cohort_size') > 0 (macro small_cohort_suppressed): the dfe_comparable figures and every difference
    are null (is_suppressed) when the school year has fewer compulsory-age enrolments, or when all enrolments
    minus them (the enrolments outside compulsory school age) are fewer but not none; the all-enrolments figures
    are null (is_all_enrolments_suppressed) when the school year has fewer enrolments.
-#}
{%- set national_phase -%}
    case
        when s.jurisdiction = 'scotland' then 'scotland'
        when s.phase in ('primary', 'secondary', 'special') then s.phase
        else 'total'
    end
{%- endset -%}

with enrolment_years as (
    select
        p.school_code,
        p.academic_year,
        p.possible_sessions,
        p.absence_sessions,
        p.unauthorised_absence_sessions,
        -- the population of the national figures: compulsory school age in England; every pupil in Scotland
        case
            when p.measurement_scheme = 'scottish_openings' then true
            else coalesce(p.is_compulsory_school_age, false)
        end as is_compulsory_school_age,
        case when {{ is_persistent_absentee('p.absence_sessions', 'p.possible_sessions') }} then 1 else 0 end as persistent_absentees,
        {{ severe_absentee_count('p.absence_sessions', 'p.possible_sessions', 'p.measurement_scheme') }} as severe_absentees
    from {{ ref('int_attendance__enrolment_periods') }} as p
    where p.period_type = 'year' and p.possible_sessions > 0
),

school_years as (
    select
        school_code,
        academic_year,
        count(*) as all_enrolments,
        sum(possible_sessions) as all_possible_sessions,
        sum(absence_sessions) as all_absence_sessions,
        sum(unauthorised_absence_sessions) as all_unauthorised_absence_sessions,
        sum(persistent_absentees) as all_persistent_absentees,
        sum(severe_absentees) as all_severe_absentees,
        sum(case when is_compulsory_school_age then 1 else 0 end) as dfe_enrolments,
        sum(case when is_compulsory_school_age then possible_sessions else 0 end) as dfe_possible_sessions,
        sum(case when is_compulsory_school_age then absence_sessions else 0 end) as dfe_absence_sessions,
        sum(case when is_compulsory_school_age then unauthorised_absence_sessions else 0 end) as dfe_unauthorised_absence_sessions,
        sum(case when is_compulsory_school_age then persistent_absentees else 0 end) as dfe_persistent_absentees,
        sum(case when is_compulsory_school_age then severe_absentees when severe_absentees is not null then 0 end) as dfe_severe_absentees
    from enrolment_years
    group by school_code, academic_year
),

schools as (
    select
        s.school_code,
        s.school_name,
        s.phase,
        s.jurisdiction,
        {{ national_phase }} as national_phase
    from {{ ref('schools') }} as s
),

rated as (
    select
        y.*,
        s.school_name,
        s.phase,
        s.jurisdiction,
        s.national_phase,
        {{ rate_pct('y.all_absence_sessions', 'y.all_possible_sessions') }} as all_absence_rate,
        {{ rate_pct('y.all_unauthorised_absence_sessions', 'y.all_possible_sessions') }} as all_unauthorised_absence_rate,
        {{ rate_pct('y.all_persistent_absentees', 'y.all_enrolments') }} as all_persistent_absence_rate,
        {{ rate_pct('y.all_severe_absentees', 'y.all_enrolments') }} as all_severe_absence_rate,
        {{ rate_pct('y.dfe_absence_sessions', 'y.dfe_possible_sessions') }} as dfe_absence_rate,
        {{ rate_pct('y.dfe_unauthorised_absence_sessions', 'y.dfe_possible_sessions') }} as dfe_unauthorised_absence_rate,
        {{ rate_pct('y.dfe_persistent_absentees', 'y.dfe_enrolments') }} as dfe_persistent_absence_rate,
        {{ rate_pct('y.dfe_severe_absentees', 'y.dfe_enrolments') }} as dfe_severe_absence_rate,
        {{ small_cohort_suppressed('y.dfe_enrolments') }}
            or (y.all_enrolments > y.dfe_enrolments
                and {{ small_cohort_suppressed('y.all_enrolments - y.dfe_enrolments') }}) as is_suppressed,
        {{ small_cohort_suppressed('y.all_enrolments') }} as is_all_enrolments_suppressed
    from school_years as y
    inner join schools as s on s.school_code = y.school_code
),

national_candidates as (
    select
        r.school_code,
        r.academic_year,
        n.academic_year as national_academic_year,
        n.basis as national_basis,
        n.period_from as national_period_from,
        n.period_to as national_period_to,
        n.overall_absence_rate as national_absence_rate,
        n.unauthorised_absence_rate as national_unauthorised_absence_rate,
        n.persistent_absence_rate as national_persistent_absence_rate,
        n.severe_absence_rate as national_severe_absence_rate,
        row_number() over (
            partition by r.school_code, r.academic_year
            order by n.academic_year desc, case when n.basis = 'daily_collection_ytd' then 0 else 1 end
        ) as national_rank
    from rated as r
    inner join {{ ref('national_attendance_figures') }} as n
        on n.phase = r.national_phase and n.academic_year <= r.academic_year
),

compared as (
    select
        r.*,
        n.national_academic_year,
        n.national_basis,
        n.national_period_from,
        n.national_period_to,
        n.national_absence_rate,
        n.national_unauthorised_absence_rate,
        n.national_persistent_absence_rate,
        n.national_severe_absence_rate
    from rated as r
    left join national_candidates as n
        on n.school_code = r.school_code and n.academic_year = r.academic_year and n.national_rank = 1
)

{%- set figure = "case when is_suppressed then null else %s end" %}
{%- set all_figure = "case when is_all_enrolments_suppressed then null else %s end" %}
{%- set rate = "numeric(18, 2)" %}

select
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(school_name as {{ dbt.type_string() }}) as school_name,
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    {{ academic_year_start_date('substring(academic_year, 1, 4)', academic_year_first_month('jurisdiction')) }} as academic_year_start_date,
    {{ is_current_academic_year('academic_year') }} as is_current_academic_year,
    {{ as_of_date() }} as as_of_date,
    cast(phase as {{ dbt.type_string() }}) as phase,
    cast(national_phase as {{ dbt.type_string() }}) as national_phase,
    cast({{ all_figure % 'all_enrolments' }} as integer) as all_enrolments,
    cast({{ all_figure % 'all_possible_sessions' }} as integer) as all_possible_sessions,
    cast({{ all_figure % 'all_absence_rate' }} as {{ rate }}) as all_absence_rate,
    cast({{ all_figure % 'all_unauthorised_absence_rate' }} as {{ rate }}) as all_unauthorised_absence_rate,
    cast({{ all_figure % 'all_persistent_absence_rate' }} as {{ rate }}) as all_persistent_absence_rate,
    cast({{ all_figure % 'all_severe_absence_rate' }} as {{ rate }}) as all_severe_absence_rate,
    cast({{ figure % 'dfe_enrolments' }} as integer) as dfe_comparable_enrolments,
    cast({{ figure % 'dfe_possible_sessions' }} as integer) as dfe_comparable_possible_sessions,
    cast({{ figure % 'dfe_absence_sessions' }} as integer) as dfe_comparable_absence_sessions,
    cast({{ figure % 'dfe_persistent_absentees' }} as integer) as dfe_comparable_persistent_absentees,
    cast({{ figure % 'dfe_absence_rate' }} as {{ rate }}) as dfe_comparable_absence_rate,
    cast({{ figure % 'dfe_unauthorised_absence_rate' }} as {{ rate }}) as dfe_comparable_unauthorised_absence_rate,
    cast({{ figure % 'dfe_persistent_absence_rate' }} as {{ rate }}) as dfe_comparable_persistent_absence_rate,
    cast({{ figure % 'dfe_severe_absence_rate' }} as {{ rate }}) as dfe_comparable_severe_absence_rate,
    cast(national_academic_year as {{ dbt.type_string() }}) as national_academic_year,
    cast(national_basis as {{ dbt.type_string() }}) as national_basis,
    coalesce(national_academic_year = academic_year, false) as is_national_same_year,
    cast(national_period_from as date) as national_period_from,
    cast(national_period_to as date) as national_period_to,
    cast(national_absence_rate as {{ rate }}) as national_absence_rate,
    cast(national_unauthorised_absence_rate as {{ rate }}) as national_unauthorised_absence_rate,
    cast(national_persistent_absence_rate as {{ rate }}) as national_persistent_absence_rate,
    cast(national_severe_absence_rate as {{ rate }}) as national_severe_absence_rate,
    cast({{ figure % '(dfe_absence_rate - national_absence_rate)' }} as {{ rate }}) as absence_rate_diff_pp,
    cast({{ figure % '(dfe_unauthorised_absence_rate - national_unauthorised_absence_rate)' }} as {{ rate }}) as unauthorised_absence_rate_diff_pp,
    cast({{ figure % '(dfe_persistent_absence_rate - national_persistent_absence_rate)' }} as {{ rate }}) as persistent_absence_rate_diff_pp,
    cast({{ figure % '(dfe_severe_absence_rate - national_severe_absence_rate)' }} as {{ rate }}) as severe_absence_rate_diff_pp,
    is_suppressed,
    is_all_enrolments_suppressed,
    cast(jurisdiction as {{ dbt.type_string() }}) as jurisdiction
from compared
