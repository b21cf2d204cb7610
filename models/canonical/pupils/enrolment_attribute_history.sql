{#-
  Cohort attributes of an enrolment over time, from the staging SCD2 versions (dlt owns history).
  One row per enrolment per effective date range. Rules (also in the yml):
  - a version takes effect on the date it was loaded (valid_from); several versions loaded on one date:
    the last one wins for that date; versions that failed validation never appear (staging leaves them out
    and the last good version stands, with stale_since set while the source still sends bad versions);
  - the earliest version also covers the rest of the academic year it was loaded in (from 1 September; from
    1 August at a Scottish school, whose session starts in mid-August: macro academic_year_first_month);
  - earlier academic years with registers (first load: only the current roster exists) get a DERIVED row
    each (attribute_source 'derived'): the NC year (and year of schooling: a Scottish stage) one lower per
    academic year back, its year group name (the school's own, else macro year_group_label),
    and gender (a pupil's own); form, houses, boarder status and division stay unknown (null), never guessed;
  - the earliest row covers every earlier date (effective_from_date = 1900-01-01);
  - the latest version is open-ended (effective_to_date null): a leaver keeps their last known attributes
    for every later session; a change never rewrites earlier dates;
  - a pupil who left before our first load (known only from registers) takes the attributes they had on
    leaving from the school's leavers list (stg_isams__former_pupils, REST), as a version on the leaving date.
-#}
with year_groups as (
    select school_code, nc_year, year_group_name
    from ({{ latest_version(ref('stg_isams__year_groups'), ['school_code', 'nc_year']) }}) as y
),

versions as (
    select
        x.enrolment_key,
        x.school_code,
        x.pupil_key,
        p.mis_pupil_id,
        p.valid_from,
        cast(p.valid_from as date) as version_date,
        p.nc_year,
        p.year_of_schooling,
        p.year_group_name,
        p.form_code,
        p.academic_house_name as academic_house,
        p.boarding_house_name as boarding_house,
        p.is_boarder,
        p.gender,
        p.division_name as division,
        p.stale_since,
        row_number() over (
            partition by x.enrolment_key, cast(p.valid_from as date) order by p.valid_from desc, p.mis_pupil_id
        ) as rank_in_day
    from {{ ref('pupil_identity_xref') }} as x
    inner join {{ ref('int_mis__pupil_versions') }} as p
        on p.school_code = x.school_code and p.mis_pupil_id = x.mis_pupil_id

    union all

    -- A pupil who left before our first load (never in a Batch feed, known from registers): their attributes
    -- as they left, from the school's leavers list (REST alumni), taking effect on the leaving date.
    select
        x.enrolment_key,
        x.school_code,
        x.pupil_key,
        f.mis_pupil_id,
        cast(f.leaving_date as timestamp) as valid_from,
        f.leaving_date as version_date,
        f.nc_year,
        f.nc_year as year_of_schooling,
        cast(null as {{ dbt.type_string() }}) as year_group_name,
        f.form_code,
        f.academic_house_name as academic_house,
        f.boarding_house_name as boarding_house,
        f.is_boarder,
        f.gender,
        cast(null as {{ dbt.type_string() }}) as division,
        cast(null as timestamp) as stale_since,
        row_number() over (
            partition by x.enrolment_key order by f.leaving_date desc, f.mis_pupil_id
        ) as rank_in_day
    from {{ ref('pupil_identity_xref') }} as x
    inner join {{ ref('stg_isams__former_pupils') }} as f
        on f.school_code = x.school_code and f.mis_pupil_id = x.mis_pupil_id
    where x.record_source = 'registers_only' and f.leaving_date is not null
),

-- the month the school's year starts in by the date rule (England September, Scotland August)
school_years as (
    select school_code, jurisdiction, {{ academic_year_first_month('jurisdiction') }} as first_month
    from {{ ref('schools') }}
),

daily as (
    select
        v.*,
        coalesce(y.first_month, 9) as first_month,
        {{ academic_year_start('v.version_date', 'coalesce(y.first_month, 9)') }} as version_academic_year,
        row_number() over (partition by v.enrolment_key order by v.version_date) as version_number
    from versions as v
    left join school_years as y on y.school_code = v.school_code
    where v.rank_in_day = 1
),

-- Earlier academic years with registers, before the enrolment's first version (e.g. last year's registers
-- loaded on the first night): one derived row per academic year, from the first version.
first_register_years as (
    select e.enrolment_key, {{ academic_year_start('e.first_register_date', 'coalesce(y.first_month, 9)') }} as first_register_academic_year
    from {{ ref('enrolments') }} as e
    left join school_years as y on y.school_code = e.school_code
    where e.first_register_date is not null
),

spine as (
    {{ integer_series(20) }}
),

derived as (
    select
        d.enrolment_key,
        d.school_code,
        d.pupil_key,
        d.mis_pupil_id,
        d.version_date,
        d.first_month,
        d.version_academic_year - spine.generated_number as academic_year_start,
        d.nc_year - spine.generated_number as nc_year,
        d.year_of_schooling - spine.generated_number as year_of_schooling,
        d.gender
    from daily as d
    inner join first_register_years as r on r.enrolment_key = d.enrolment_key
    cross join spine
    where d.version_number = 1
        and d.version_academic_year - spine.generated_number >= r.first_register_academic_year
),

attribute_rows as (
    select
        enrolment_key,
        school_code,
        pupil_key,
        case
            when version_number = 1 then {{ academic_year_start_date('version_academic_year', 'first_month') }}
            else version_date
        end as from_date,
        version_date as loaded_date,
        mis_pupil_id,
        nc_year,
        year_of_schooling,
        year_group_name,
        form_code,
        academic_house,
        boarding_house,
        is_boarder,
        gender,
        division,
        'mis' as attribute_source,
        stale_since
    from daily
    union all
    select
        enrolment_key,
        school_code,
        pupil_key,
        {{ academic_year_start_date('academic_year_start', 'first_month') }} as from_date,
        version_date as loaded_date,
        mis_pupil_id,
        nc_year,
        year_of_schooling,
        cast(null as {{ dbt.type_string() }}) as year_group_name,
        cast(null as {{ dbt.type_string() }}) as form_code,
        cast(null as {{ dbt.type_string() }}) as academic_house,
        cast(null as {{ dbt.type_string() }}) as boarding_house,
        cast(null as boolean) as is_boarder,
        gender,
        cast(null as {{ dbt.type_string() }}) as division,
        'derived' as attribute_source,
        cast(null as timestamp) as stale_since
    from derived
),

windows as (
    select
        a.*,
        row_number() over (partition by a.enrolment_key order by a.from_date) as row_in_enrolment,
        lead(a.from_date) over (partition by a.enrolment_key order by a.from_date) as next_from_date
    from attribute_rows as a
)

select
    {{ surrogate_key(['w.enrolment_key', 'w.from_date']) }} as enrolment_attribute_key,
    w.enrolment_key,
    w.school_code,
    w.pupil_key,
    case when w.row_in_enrolment = 1 then cast('1900-01-01' as date) else w.from_date end as effective_from_date,
    cast({{ dbt.dateadd('day', -1, 'w.next_from_date') }} as date) as effective_to_date,
    w.loaded_date,
    w.mis_pupil_id,
    w.nc_year,
    w.year_of_schooling,
    coalesce(
        w.year_group_name,
        y.year_group_name,
        {{ year_group_label('sc.jurisdiction', 'w.year_of_schooling') }}
    ) as year_group,
    w.form_code,
    w.academic_house,
    w.boarding_house,
    w.is_boarder,
    w.gender,
    w.division,
    w.attribute_source,
    w.attribute_source = 'derived' as is_derived,
    w.stale_since
from windows as w
left join year_groups as y
    on y.school_code = w.school_code and y.nc_year = w.nc_year
left join school_years as sc on sc.school_code = w.school_code
