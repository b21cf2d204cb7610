{#-
  Per-school freshness, one row per school x landed dataset of the school's MIS (iSAMS or SEEMiS). dbt's `source freshness` looks at a whole raw
  table, so one school loading fine hides another that stopped: this model splits it by school_code.

  - last_loaded_at: the newest `_dlt_load_id` among the school's rows of the dataset = the last load that
    brought new or changed rows (dlt scd2 keeps the old load id on rows that did not change).
  - last_successful_run_at: the last run in ops.run_log that loaded the dataset for the school without error.
  - Registers (school level, repeated on each of the school's rows): the latest session date with a taken
    register, whether `as_of_date()` falls in one of the school's terms (canonical academic_calendar), and how many
    school days (Monday-Friday inside a term) strictly between that date and `as_of_date()` have no
    register. The stale flag uses var('register_stale_school_days', 3); it is never raised outside term.
-#}
{%- set datasets = [
    'pupils', 'staff', 'contacts', 'custom_groups', 'custom_group_memberships', 'academic_houses',
    'boarding_houses', 'forms', 'divisions', 'year_groups', 'terms', 'departments', 'teaching_forms',
    'teaching_sets', 'set_lists', 'registration_statuses', 'absence_codes', 'present_codes', 'schools',
] -%}
{#- SEEMiS export datasets (raw_seemis; ingestion/seemis/exports.py) -#}
{%- set seemis_datasets = ['pupils', 'enrolments', 'attendance', 'terms', 'schools'] -%}
{#- the dataset that holds each MIS's register marks -#}
{%- set register_datasets = {'isams': 'registration_statuses', 'seemis': 'attendance'} -%}
{%- set feeds = [] -%}
{%- for dataset in datasets %}{% do feeds.append(('isams', dataset)) %}{% endfor -%}
{%- for dataset in seemis_datasets %}{% do feeds.append(('seemis', dataset)) %}{% endfor -%}
{%- set stale_after_days = var('register_stale_school_days', 3) -%}
{%- set load_stale_after_hours = var('raw_freshness_warn_hours', 26) -%}
{%- set run_log = source('ops', 'run_log') -%}
{%- set has_run_log = not execute or adapter.get_relation(
    database=run_log.database, schema=run_log.schema, identifier=run_log.identifier) is not none -%}

with

loads as (
    {%- set parts = [] %}
    {%- for mis, dataset in feeds %}
        {%- set raw = source(mis, dataset) %}
        {%- set cols = staging_columns_of(raw) %}
        {%- if cols is none or ('_dlt_load_id' in cols and 'school_code' in cols) %}
            {%- set part %}
    select
        school_code,
        '{{ mis }}' as source_system,
        '{{ dataset }}' as dataset,
        max({{ epoch_seconds_to_timestamp('_dlt_load_id') }}) as last_loaded_at
    from {{ raw }}
    group by school_code
            {%- endset %}
            {%- do parts.append(part) %}
        {%- endif %}
    {%- endfor %}
    {%- if parts | length > 0 %}
    {{ parts | join('\n    union all') }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as school_code,
        cast(null as {{ dbt.type_string() }}) as source_system,
        cast(null as {{ dbt.type_string() }}) as dataset,
        cast(null as timestamp) as last_loaded_at
    where 1 = 0
    {%- endif %}
),

runs as (
    {%- if has_run_log %}
    select
        school_code,
        dataset,
        max(finished_at) as last_run_at,
        max(case when outcome = 'ok' then finished_at end) as last_successful_run_at
    from {{ run_log }}
    where dataset <> '*'
    group by school_code, dataset
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as school_code,
        cast(null as {{ dbt.type_string() }}) as dataset,
        cast(null as timestamp) as last_run_at,
        cast(null as timestamp) as last_successful_run_at
    where 1 = 0
    {%- endif %}
),

datasets as (
    {%- for mis, dataset in feeds %}
    select
        '{{ mis }}' as source_system,
        '{{ dataset }}' as dataset,
        {{ 'true' if register_datasets[mis] == dataset else 'false' }} as is_register_dataset
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

school_codes as (
    select school_code from loads
    union
    select school_code from runs
),

-- each school's MIS (the schools file, else what it loaded), so it gets that MIS's datasets
schools as (
    select
        c.school_code,
        coalesce(s.source_system, l.source_system, 'isams') as source_system
    from school_codes as c
    left join {{ ref('schools') }} as s on s.school_code = c.school_code
    left join (select school_code, max(source_system) as source_system from loads group by school_code) as l
        on l.school_code = c.school_code
),

-- In term: the canonical calendar's rule (the latest version of every term of the school), as the marts.
term_days as (
    select distinct school_code, calendar_date, is_weekday, term_start_date
    from {{ ref('academic_calendar') }}
    where is_in_term
),

-- The term `as_of_date()` falls in, if any.
current_terms as (
    select school_code, term_start_date
    from term_days
    where calendar_date = {{ as_of_date() }}
),

-- Monday-Friday inside a term: the days a register is expected (INSET days and bank holidays are not known
-- to iSAMS terms; the N-day allowance absorbs them).
weekdays as (
    select school_code, calendar_date as school_date
    from term_days
    where is_weekday
),

registers as (
    select school_code, max(session_date) as latest_register_date
    from {{ ref('int_mis__register_marks') }}
    where is_register_taken
    group by school_code
),

school_registers as (
    select
        schools.school_code,
        registers.latest_register_date,
        exists (
            select 1 from current_terms
            where current_terms.school_code = schools.school_code
        ) as is_in_term,
        (
            select count(*) from weekdays
            where weekdays.school_code = schools.school_code
              and weekdays.school_date < {{ as_of_date() }}
              and (registers.latest_register_date is null or weekdays.school_date > registers.latest_register_date)
              -- a school that never sent a register: count the days of the current term only
              and (registers.latest_register_date is not null or exists (
                  select 1 from current_terms
                  where current_terms.school_code = weekdays.school_code
                    and weekdays.school_date >= current_terms.term_start_date
              ))
        ) as school_days_without_registers
    from schools
    left join registers
        on registers.school_code = schools.school_code
),

freshness as (
    select
        schools.school_code,
        datasets.dataset,
        datasets.is_register_dataset,
        loads.last_loaded_at,
        {{ dbt.datediff('loads.last_loaded_at', utc_timestamp(dbt.current_timestamp()), 'hour') }} as hours_since_last_load,
        runs.last_run_at,
        runs.last_successful_run_at,
        {{ dbt.datediff('runs.last_successful_run_at', 'cast(' ~ dbt.current_timestamp() ~ ' as timestamp)', 'hour') }} as hours_since_last_successful_run,
        {{ as_of_date() }} as as_of_date,
        school_registers.latest_register_date,
        school_registers.is_in_term,
        school_registers.school_days_without_registers,
        coalesce(
            school_registers.is_in_term and school_registers.school_days_without_registers > {{ stale_after_days }},
            false
        ) as is_register_stale
    from schools
    inner join datasets on datasets.source_system = schools.source_system
    left join loads
        on loads.school_code = schools.school_code
        and loads.dataset = datasets.dataset
    left join runs
        on runs.school_code = schools.school_code
        and runs.dataset = datasets.dataset
    left join school_registers
        on school_registers.school_code = schools.school_code
)

select
    school_code,
    dataset,
    is_register_dataset,
    last_loaded_at,
    hours_since_last_load,
    last_run_at,
    last_successful_run_at,
    hours_since_last_successful_run,
    -- the newer of the two signals: a successful run that found nothing new is fresh; without a run log, the load
    least(
        coalesce(hours_since_last_successful_run, hours_since_last_load),
        coalesce(hours_since_last_load, hours_since_last_successful_run)
    ) as hours_since_last_data,
    coalesce(least(
        coalesce(hours_since_last_successful_run, hours_since_last_load),
        coalesce(hours_since_last_load, hours_since_last_successful_run)
    ) > {{ load_stale_after_hours }}, false) as is_load_stale,
    as_of_date,
    latest_register_date,
    is_in_term,
    school_days_without_registers,
    is_register_stale
from freshness
