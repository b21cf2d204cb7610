{#-
  Cohort attributes of an enrolment over time, from the staging SCD2 versions (dlt owns history).
  One row per enrolment per effective date range. Rules (also in the yml):
  - a version takes effect on the date it was loaded (valid_from); several versions loaded on one date:
    the last one wins for that date;
  - the earliest version also covers every date before it (effective_from_date = 1900-01-01): registers
    loaded for dates before our first load use the earliest known attributes;
  - the latest version is open-ended (effective_to_date null); a change never rewrites earlier dates.
-#}
with year_groups as (
    select school_code, nc_year, year_group_name
    from (
        select
            school_code,
            nc_year,
            year_group_name,
            row_number() over (partition by school_code, nc_year order by valid_from desc) as version_rank
        from {{ ref('stg_isams__year_groups') }}
    ) as y
    where version_rank = 1
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
        coalesce(
            y.year_group_name,
            case when p.nc_year = 0 then 'Reception' when p.nc_year is not null then 'Year ' || cast(p.nc_year as {{ dbt.type_string() }}) end
        ) as year_group,
        p.form_code,
        p.academic_house_name as academic_house,
        p.boarding_house_name as boarding_house,
        p.is_boarder,
        p.gender,
        p.division_name as division,
        row_number() over (
            partition by x.enrolment_key, cast(p.valid_from as date) order by p.valid_from desc, p.mis_pupil_id
        ) as rank_in_day
    from {{ ref('pupil_identity_xref') }} as x
    inner join {{ ref('stg_isams__pupils') }} as p
        on p.school_code = x.school_code and p.mis_pupil_id = x.mis_pupil_id
    left join year_groups as y
        on y.school_code = p.school_code and y.nc_year = p.nc_year
),

daily as (
    select * from versions where rank_in_day = 1
)

select
    {{ surrogate_key(['enrolment_key', 'version_date']) }} as enrolment_attribute_key,
    enrolment_key,
    school_code,
    pupil_key,
    case
        when row_number() over (partition by enrolment_key order by version_date) = 1 then cast('1900-01-01' as date)
        else version_date
    end as effective_from_date,
    cast({{ dbt.dateadd('day', -1, 'lead(version_date) over (partition by enrolment_key order by version_date)') }} as date)
        as effective_to_date,
    version_date as loaded_date,
    mis_pupil_id,
    nc_year,
    year_group,
    form_code,
    academic_house,
    boarding_house,
    is_boarder,
    gender,
    division
from daily
