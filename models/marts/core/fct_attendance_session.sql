{#-
  One row per pupil x school x date x session with a register taken (up to as_of_date()), keyed to the
  dims. Cohort attributes are those of the enrolment on the session date; term and half term are the
  school's own. Unmapped codes are kept (category 'unmapped', attendance_code_key of '(unmapped)') and
  count in no rate.
  Strings are cast to plain `varchar` (varchar_type(); not dbt.type_string(), which is `text` on PostgreSQL):
  the contract declares `varchar`, and an incremental run on PostgreSQL compares the new rows' types with the
  table's.
  Incremental (config in _fct_attendance_session.yml), like attendance_sessions: an incremental run deletes and rebuilds only
  the look-back window (session_date >= attendance_lookback_start()); the rest needs --full-refresh.
-#}
select
    cast(s.attendance_session_key as {{ varchar_type() }}) as attendance_session_key,
    cast(s.pupil_key as {{ varchar_type() }}) as pupil_key,
    cast({{ surrogate_key(['s.school_code']) }} as {{ varchar_type() }}) as school_key,
    cast(s.school_code as {{ varchar_type() }}) as school_code,
    cast(s.enrolment_key as {{ varchar_type() }}) as enrolment_key,
    cast(s.session_date as date) as session_date,
    cast(s.session as {{ varchar_type() }}) as session,
    cast(s.academic_year as {{ varchar_type() }}) as academic_year,
    cast(s.term_name as {{ varchar_type() }}) as term,
    cast(s.half_term as {{ varchar_type() }}) as half_term,
    cast(
        case
            when s.statutory_code is null then {{ surrogate_key(["'(unmapped)'", "'(none)'"]) }}
            else {{ surrogate_key(['s.statutory_code', 's.code_set']) }}
        end as {{ varchar_type() }}
    ) as attendance_code_key,
    -- iSAMS schools only (kept for dashboards built on them): mis_code is the column for every school
    cast(case when s.code_list in ('present', 'absence') then s.mis_code_id end as integer) as isams_code_id,
    cast(case when coalesce(s.code_list, '') <> 'national' then s.mis_code end as {{ varchar_type() }}) as isams_code,
    cast(s.dfe_code as {{ varchar_type() }}) as dfe_code,
    cast(s.category as {{ varchar_type() }}) as category,
    s.is_code_mapped,
    s.is_possible_session,
    s.is_attendance,
    s.is_absence,
    s.is_late,
    s.counts_as_late,
    cast(s.nc_year as integer) as nc_year,
    cast(s.year_group as {{ varchar_type() }}) as year_group,
    cast(s.form_code as {{ varchar_type() }}) as form_code,
    cast(s.academic_house as {{ varchar_type() }}) as academic_house,
    cast(s.boarding_house as {{ varchar_type() }}) as boarding_house,
    s.is_boarder,
    cast(s.gender as {{ varchar_type() }}) as gender,
    cast(s.mis_code as {{ varchar_type() }}) as mis_code,
    cast(s.statutory_code as {{ varchar_type() }}) as statutory_code,
    cast(s.measurement_scheme as {{ varchar_type() }}) as measurement_scheme,
    cast(s.year_of_schooling as integer) as year_of_schooling
from {{ ref('attendance_sessions') }} as s
{%- if is_incremental() %}
-- the look-back window only: the pre-hook has deleted it from {{ this }}; on Spark whole academic years
where true
    {{ attendance_incremental_since('s.session_date', attendance_lookback_start()) }}
    {{ attendance_spark_years_filter('s.academic_year', 'session_date') }}
{%- endif %}
