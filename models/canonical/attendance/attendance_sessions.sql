{#-
  One row per pupil x school x date x session with a register taken, up to as_of_date(), from every MIS
  (int_mis__register_marks). A session is a half day: an English session, a Scottish opening. Each is
  measured by its school's scheme (schools.measurement_scheme): its code resolves through attendance_code_map
  to a statutory code of that scheme and takes that code's meaning from statutory_attendance_codes (DfE
  letters with their validity windows; SEEMiS numeric codes, where 02 counts in neither side).
  - A mark registered without a code is present: '/' in the morning, '\' in the afternoon.
  - A coded mark maps through attendance_code_map (per school, per code list; resolution order there: the
    national code a MIS sends itself > REST governmentCode > seed row > a present-list code without government
    code is assumed present, '/' AM or '\' PM; never the school's letter read as a DfE letter) to a statutory
    code, and the code's meaning is the row of statutory_attendance_codes whose validity window contains the session date
    (J before 19 Aug 2024 is approved educational activity; J1 from then on is authorised absence).
  - A code that maps to nothing, or to a DfE code not in force on that date, is category 'unmapped':
    not a possible session, not attendance, not absence (never silently present).
  - Registers not taken are not sessions. Two marks for one person, school, date and session (e.g. two
    records after a re-enrolment): the latest registered_at wins.
  - Cohort attributes are those of the enrolment on the session date (enrolment_attribute_history).
  Incremental (config in _attendance_sessions.yml): an incremental run rebuilds only sessions dated on or after
  attendance_lookback_start() (as_of_date() - var('attendance_lookback_days')); the pre-hook first deletes
  that whole window from the table, so a mark removed, un-taken or quarantined inside it disappears too.
  Anything that changes outside the window needs `dbt build --full-refresh` (see the model description).
-#}
{#- a session's academic year: its school calendar's, else the date rule of the school's jurisdiction -#}
{%- set session_academic_year -%}
    coalesce(
        cal.academic_year,
        {{ academic_year_label(academic_year_start('s.session_date', academic_year_first_month('s.jurisdiction'))) }}
    )
{%- endset %}
with marks as (
    select
        x.enrolment_key,
        x.pupil_key,
        x.person_id,
        r.school_code,
        r.mis_pupil_id,
        r.mis_mark_id,
        r.session_date,
        r.session,
        r.registered_at,
        r.mis_code_id,
        r.code_list,
        row_number() over (
            partition by x.enrolment_key, r.session_date, r.session
            order by r.registered_at desc, r.mis_mark_id desc
        ) as mark_rank
    from {{ ref('int_mis__register_marks') }} as r
    inner join {{ ref('pupil_identity_xref') }} as x
        on x.school_code = r.school_code and x.mis_pupil_id = r.mis_pupil_id
    where r.is_register_taken
        and r.session_date <= {{ as_of_date() }}
        -- an incremental run: the look-back window only (the pre-hook has deleted it from {{ this }}); on Spark
        -- whole academic years (see attendance_spark_years_filter)
        {{ attendance_incremental_since('r.session_date', attendance_lookback_start(), from_calendar=true) }}
),

coded as (
    select
        m.*,
        sc.measurement_scheme,
        sc.jurisdiction,
        case
            when m.mis_code_id is null then case when m.session = 'AM' then '/' else chr(92) end
            else c.mis_code
        end as mis_code,
        case
            when m.mis_code_id is null or c.mapping_source = 'assumed_present'
                then case when m.session = 'AM' then '/' else chr(92) end
            else c.statutory_code
        end as mapped_statutory_code,
        case when m.mis_code_id is null then 'registered_without_code' else coalesce(c.mapping_source, 'none') end
            as mapping_source
    from marks as m
    left join {{ ref('schools') }} as sc on sc.school_code = m.school_code
    left join {{ ref('attendance_code_map') }} as c
        on c.school_code = m.school_code
        and c.code_list = m.code_list
        and c.mis_code_id = m.mis_code_id
    where m.mark_rank = 1
),

with_codes as (
    select
        c.*,
        d.statutory_code,
        d.code_set,
        d.category,
        d.is_possible_session,
        d.is_attendance,
        d.is_absence,
        d.is_late,
        d.counts_as_late
    from coded as c
    left join {{ ref('statutory_attendance_codes') }} as d
        on d.measurement_scheme = c.measurement_scheme
        and d.statutory_code = c.mapped_statutory_code
        and c.session_date >= d.valid_from
        and (d.valid_to is null or c.session_date <= d.valid_to)
)

select
    {{ surrogate_key(['s.enrolment_key', 's.session_date', 's.session']) }} as attendance_session_key,
    s.enrolment_key,
    s.pupil_key,
    s.school_code,
    s.mis_pupil_id,
    s.session_date,
    s.session,
    {{ session_academic_year }} as academic_year,
    cal.term_name,
    cal.half_term,
    s.mis_mark_id,
    s.registered_at,
    s.code_list,
    s.mis_code_id,
    s.mis_code,
    s.measurement_scheme,
    s.mapped_statutory_code,
    s.mapping_source,
    s.statutory_code,
    case when s.measurement_scheme = 'dfe_sessions' then s.statutory_code end as dfe_code,
    s.code_set,
    coalesce(s.category, 'unmapped') as category,
    s.statutory_code is not null as is_code_mapped,
    coalesce(s.is_possible_session, false) as is_possible_session,
    coalesce(s.is_attendance, false) as is_attendance,
    coalesce(s.is_absence, false) as is_absence,
    coalesce(s.is_late, false) as is_late,
    coalesce(s.counts_as_late, false) as counts_as_late,
    h.nc_year,
    h.year_of_schooling,
    h.year_group,
    h.form_code,
    h.academic_house,
    h.boarding_house,
    h.is_boarder,
    h.gender
from with_codes as s
left join {{ ref('academic_calendar') }} as cal
    on cal.school_code = s.school_code
    and cal.calendar_date = s.session_date
    and cal.session = s.session
left join {{ ref('enrolment_attribute_history') }} as h
    on h.enrolment_key = s.enrolment_key
    and s.session_date >= h.effective_from_date
    and (h.effective_to_date is null or s.session_date <= h.effective_to_date)
where true {{ attendance_spark_years_filter(session_academic_year, 'session_date', from_calendar=true) }}
