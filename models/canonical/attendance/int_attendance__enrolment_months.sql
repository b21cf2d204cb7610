{#-
  Session counts per enrolment x academic year x term x calendar month (the building block of every
  attendance mart, so their unit tests can feed a few counted rows instead of hundreds of sessions).
  Cohort attributes are those on the slice's last session. Sessions outside any term fall in term
  '(no term)'. is_compulsory_school_age (an enrolment x academic year attribute: age 5 to 15 on 31 August
  before the academic year, macro is_compulsory_school_age) is derived here from the pupil's date of birth,
  which stays in the canonical layer; null when the date of birth is unknown.
  Incremental (config in the yml): every row is one calendar month's sessions, so a run deletes and rebuilds
  the months from the one holding attendance_lookback_start() on (attendance_lookback_delete); earlier
  months stay as built, as attendance_sessions keeps their sessions.
-#}
with sessions as (
    select
        s.*,
        coalesce(s.term_name, '(no term)') as term,
        cast({{ dbt.date_trunc('month', 's.session_date') }} as date) as month_start
    from {{ ref('attendance_sessions') }} as s
    {%- if is_incremental() %}
    -- whole months from the look-back's month on: the pre-hook has deleted them from {{ this }}; on Spark
    -- whole academic years (a month's row is in the window until its last day)
    {%- set month_in_window_until = dbt.dateadd('day', 31, 'month_start') %}
    where true
        {{ attendance_incremental_since('s.session_date', attendance_lookback_month_start(), month_in_window_until) }}
        {{ attendance_spark_years_filter('s.academic_year', month_in_window_until) }}
    {%- endif %}
),

counts as (
    select
        enrolment_key,
        pupil_key,
        school_code,
        academic_year,
        term,
        month_start,
        min(session_date) as first_session_date,
        max(session_date) as last_session_date,
        cast(sum(case when is_possible_session then 1 else 0 end) as integer) as possible_sessions,
        cast(sum(case when is_attendance then 1 else 0 end) as integer) as attended_sessions,
        cast(sum(case when category = 'present' then 1 else 0 end) as integer) as present_sessions,
        cast(sum(case when category = 'approved_educational_activity' then 1 else 0 end) as integer) as aea_sessions,
        cast(sum(case when category = 'authorised' then 1 else 0 end) as integer) as authorised_absence_sessions,
        cast(sum(case when category = 'unauthorised' then 1 else 0 end) as integer) as unauthorised_absence_sessions,
        cast(sum(case when category = 'temporary_exclusion' then 1 else 0 end) as integer) as temporary_exclusion_sessions,
        cast(sum(case when is_absence then 1 else 0 end) as integer) as absence_sessions,
        cast(sum(case when is_late then 1 else 0 end) as integer) as late_before_close_sessions,
        cast(sum(case when counts_as_late and not is_late then 1 else 0 end) as integer) as late_after_close_sessions,
        cast(sum(case when counts_as_late then 1 else 0 end) as integer) as late_sessions,
        cast(sum(case when category = 'not_possible' then 1 else 0 end) as integer) as not_possible_sessions,
        cast(sum(case when category = 'unmapped' then 1 else 0 end) as integer) as unmapped_sessions
    from sessions
    group by enrolment_key, pupil_key, school_code, academic_year, term, month_start
),

last_attributes as (
    select
        enrolment_key,
        academic_year,
        term,
        month_start,
        measurement_scheme,
        nc_year,
        year_of_schooling,
        year_group,
        form_code,
        academic_house,
        boarding_house,
        is_boarder,
        gender,
        row_number() over (
            partition by enrolment_key, academic_year, term, month_start
            order by session_date desc, session desc
        ) as session_rank
    from sessions
)

select
    {{ surrogate_key(['c.enrolment_key', 'c.academic_year', 'c.term', 'c.month_start']) }} as enrolment_month_key,
    c.*,
    a.measurement_scheme,
    a.nc_year,
    a.year_of_schooling,
    a.year_group,
    a.form_code,
    a.academic_house,
    a.boarding_house,
    a.is_boarder,
    a.gender,
    {{ is_compulsory_school_age('p.date_of_birth', 'c.academic_year') }} as is_compulsory_school_age
from counts as c
inner join last_attributes as a
    on a.enrolment_key = c.enrolment_key
    and a.academic_year = c.academic_year
    and a.term = c.term
    and a.month_start = c.month_start
    and a.session_rank = 1
left join {{ ref('pupils') }} as p
    on p.pupil_key = c.pupil_key
