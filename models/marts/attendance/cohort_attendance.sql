{#-
  Attendance by cohort, DfE method (rates are ratios of sums). One row per school x academic year x term
  ('all' = the whole year to date) x cohort type x cohort value.
  - An enrolment belongs, for a period, to the cohort of its last session in that period (a pupil who
    changes form mid-year counts once, in the new form, with all the period's sessions).
  - Persistent/severe absentees are judged on each enrolment's own possible sessions in the period;
    enrolments with zero possible sessions in the period are left out. A Scottish school (openings; persistent
    absence per pupil, one enrolment per pupil at a school) has no severe measure: severe figures are null.
  - var('min_cohort_size') > 0: cohorts with fewer enrolments keep their row but every figure is null and
    is_suppressed is true (the row still tells a reader the cohort exists). Complementary suppression: when
    the small cohorts of one breakdown (school x year x term x cohort type) together have fewer enrolments, the
    next smallest cohorts are suppressed too, so whole_school minus the shown cohorts reveals no small group.
  - cohort_type 'dfe_comparable' (value 'all'): the whole school restricted to enrolments of compulsory school
    age (is_compulsory_school_age; unknown date of birth -> not counted), the DfE's published scope. It is
    also suppressed when whole_school minus it (the enrolments outside compulsory school age) is small.
-#}
with enrolment_periods as (
    select
        p.*,
        p.period as term,
        case when {{ is_persistent_absentee('p.absence_sessions', 'p.possible_sessions') }} then 1 else 0 end as persistent_absentees,
        {{ severe_absentee_count('p.absence_sessions', 'p.possible_sessions', 'p.measurement_scheme') }} as severe_absentees
    from {{ ref('int_attendance__enrolment_periods') }} as p
    where p.period_type in ('term', 'year') and p.possible_sessions > 0
),

{%- set measures = [
    'possible_sessions', 'attended_sessions', 'absence_sessions', 'authorised_absence_sessions',
    'unauthorised_absence_sessions', 'temporary_exclusion_sessions', 'late_sessions', 'persistent_absentees',
    'severe_absentees',
] %}

cohorts as (
    {{- attendance_cohorts('enrolment_periods', ['school_code', 'academic_year', 'term'], measures) }}
    union all
    {# DfE-comparable scope: the whole school, compulsory school age enrolments only (an unknown date of
       birth, null, is left out). No row when the school has none. #}
    select
        school_code,
        academic_year,
        term,
        'dfe_comparable' as cohort_type,
        'all' as cohort_value,
        count(*) as enrolments,
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from enrolment_periods
    -- DfE's scope exists only where DfE rules measure the school (Scottish schools have no such row)
    where is_compulsory_school_age and coalesce(measurement_scheme, 'dfe_sessions') = 'dfe_sessions'
    group by school_code, academic_year, term
),

flagged as (
    select
        cohorts.*,
        {{ small_cohort_suppressed('enrolments', partition_by=['school_code', 'academic_year', 'term', 'cohort_type'], tiebreak='cohort_value') }}
        {# whole_school minus dfe_comparable must not reveal a small group outside compulsory school age #}
        or (cohort_type = 'dfe_comparable' and outside_compulsory_age > 0
            and {{ small_cohort_suppressed('outside_compulsory_age') }}) as is_suppressed
    from (
        select
            c.*,
            max(case when c.cohort_type = 'whole_school' then c.enrolments end)
                over (partition by c.school_code, c.academic_year, c.term) - c.enrolments as outside_compulsory_age
        from cohorts as c
    ) as cohorts
)

{%- set figure = "case when is_suppressed then null else %s end" %}

, figures as (
select
    cast(school_code as {{ dbt.type_string() }}) as school_code,
    cast(academic_year as {{ dbt.type_string() }}) as academic_year,
    cast(term as {{ dbt.type_string() }}) as term,
    cast(cohort_type as {{ dbt.type_string() }}) as cohort_type,
    cast(cohort_value as {{ dbt.type_string() }}) as cohort_value,
    cast({{ figure % 'enrolments' }} as integer) as enrolments,
    cast({{ figure % 'possible_sessions' }} as integer) as possible_sessions,
    cast({{ figure % 'attended_sessions' }} as integer) as attended_sessions,
    cast({{ figure % 'absence_sessions' }} as integer) as absence_sessions,
    cast({{ figure % 'authorised_absence_sessions' }} as integer) as authorised_absence_sessions,
    cast({{ figure % 'unauthorised_absence_sessions' }} as integer) as unauthorised_absence_sessions,
    cast({{ figure % 'temporary_exclusion_sessions' }} as integer) as temporary_exclusion_sessions,
    cast({{ figure % 'late_sessions' }} as integer) as late_sessions,
    {{ figure % rate_pct('attended_sessions', 'possible_sessions') }} as attendance_rate,
    {{ figure % rate_pct('absence_sessions', 'possible_sessions') }} as absence_rate,
    {{ figure % rate_pct('authorised_absence_sessions', 'possible_sessions') }} as authorised_absence_rate,
    {{ figure % rate_pct('unauthorised_absence_sessions', 'possible_sessions') }} as unauthorised_absence_rate,
    cast({{ figure % 'persistent_absentees' }} as integer) as persistent_absentees,
    {{ figure % rate_pct('persistent_absentees', 'enrolments') }} as persistent_absence_rate,
    cast({{ figure % 'severe_absentees' }} as integer) as severe_absentees,
    {{ figure % rate_pct('severe_absentees', 'enrolments') }} as severe_absence_rate,
    is_suppressed
from flagged
),

{# The year group's sort order (macro year_group_order, from the NC year) for the school's academic year. #}
year_group_orders as (
    select
        school_code,
        academic_year,
        coalesce(year_group, {{ unknown_label() }}) as year_group,
        min({{ year_group_order('year_of_schooling', 'year_group') }}) as year_group_order
    from enrolment_periods
    group by school_code, academic_year, coalesce(year_group, {{ unknown_label() }})
)

select
    f.*,
    cast(s.school_name as {{ dbt.type_string() }}) as school_name,
    cast(s.phase as {{ dbt.type_string() }}) as phase,
    {{ academic_year_start_date('substring(f.academic_year, 1, 4)', academic_year_first_month('s.jurisdiction')) }} as academic_year_start_date,
    {{ is_current_academic_year('f.academic_year') }} as is_current_academic_year,
    cast(case when f.term = 'all' then 0 else coalesce(t.term_order, {{ no_term_order() }}) end as integer) as term_order,
    cast(case when f.term = 'all' then {{ academic_year_start_date('substring(f.academic_year, 1, 4)') }} else t.term_start_date end as date) as period_start_date,
    cast(case when f.term = 'all' then {{ academic_year_end_date('cast(substring(f.academic_year, 1, 4) as integer)') }} else t.term_finish_date end as date) as period_end_date,
    {{ is_partial_period("case when f.term = 'all' then " ~ academic_year_end_date('cast(substring(f.academic_year, 1, 4) as integer)') ~ " else t.term_finish_date end") }} as is_partial_period,
    cast(y.year_group_order as integer) as year_group_order
from figures as f
left join {{ ref('schools') }} as s on s.school_code = f.school_code
left join {{ ref('school_terms') }} as t
    on t.school_code = f.school_code and t.academic_year = f.academic_year and t.term = f.term
left join year_group_orders as y
    on f.cohort_type = 'year_group' and y.school_code = f.school_code and y.academic_year = f.academic_year
    and y.year_group = f.cohort_value
