{#-
  Reconciliation of every iSAMS dataset, per nightly run x school x dataset:
    rows landed (ops.run_log) | current rows in raw_isams | current raw rows quarantined | current rows in staging.

  The check at our layer: staging keeps a raw row unless validation quarantined its record
  (macros/staging/staging_helpers.sql: staging_from), so for every school and dataset
      raw_current_rows - raw_rows_quarantined = staging_current_rows.
  Any other difference is a row that disappeared (or appeared) between raw and staging without quarantine
  explaining it. The current counts describe the warehouse now, so they sit on each school's latest run of
  the dataset only (is_latest_run); older runs keep their rows_landed history.

  The list below is the one mapping of a landed dataset to its staging model:
    (raw table = run_log dataset, staging model, quarantine key column, staging model has scd2 versions).
  Nested tables (staff__roles, contacts__pupils, ...) have no run_log row and no quarantine of their own.
-#}
{%- set datasets = [
    ('pupils', 'stg_isams__pupils', 'id', true),
    ('staff', 'stg_isams__staff', 'id', true),
    ('contacts', 'stg_isams__contacts', 'person_id', true),
    ('custom_groups', 'stg_isams__custom_groups', 'id', true),
    ('custom_group_memberships', 'stg_isams__custom_group_memberships', 'id', true),
    ('academic_houses', 'stg_isams__academic_houses', 'id', true),
    ('boarding_houses', 'stg_isams__boarding_houses', 'id', true),
    ('forms', 'stg_isams__forms', 'id', true),
    ('divisions', 'stg_isams__divisions', 'id', true),
    ('year_groups', 'stg_isams__year_groups', 'id', true),
    ('terms', 'stg_isams__terms', 'id', true),
    ('departments', 'stg_isams__departments', 'id', true),
    ('teaching_forms', 'stg_isams__teaching_forms', 'id', true),
    ('teaching_sets', 'stg_isams__teaching_sets', 'id', true),
    ('set_lists', 'stg_isams__set_lists', 'id', true),
    ('registration_statuses', 'stg_isams__registration_statuses', 'id', false),
    ('absence_codes', 'stg_isams__absence_codes', 'id', false),
    ('present_codes', 'stg_isams__present_codes', 'id', false),
    ('former_pupils', 'stg_isams__former_pupils', 'id', false),
    ('schools', 'stg_isams__schools', 'id', false),
] -%}
{%- set run_log = source('ops', 'run_log') -%}
{%- set quarantined = source('ops', 'quarantined_records') -%}
{#- Until the nightly job has run once the ops objects may not exist: then there is nothing to reconcile against. -#}
{%- set has_run_log = not execute or adapter.get_relation(
    database=run_log.database, schema=run_log.schema, identifier=run_log.identifier) is not none -%}
{%- set has_quarantine = not execute or adapter.get_relation(
    database=quarantined.database, schema=quarantined.schema, identifier=quarantined.identifier) is not none -%}

with

runs as (
    {%- if has_run_log %}
    select
        run_id,
        command,
        started_at as run_started_at,
        finished_at as run_finished_at,
        school_code,
        dataset,
        outcome as run_outcome,
        error as run_error,
        rows_landed,
        row_number() over (
            partition by school_code, dataset order by finished_at desc, started_at desc, run_id desc
        ) as run_recency
    from {{ run_log }}
    where dataset <> '*'
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as run_id,
        cast(null as {{ dbt.type_string() }}) as command,
        cast(null as timestamp) as run_started_at,
        cast(null as timestamp) as run_finished_at,
        cast(null as {{ dbt.type_string() }}) as school_code,
        cast(null as {{ dbt.type_string() }}) as dataset,
        cast(null as {{ dbt.type_string() }}) as run_outcome,
        cast(null as {{ dbt.type_string() }}) as run_error,
        cast(null as bigint) as rows_landed,
        cast(null as bigint) as run_recency
    where 1 = 0
    {%- endif %}
),

{%- if has_quarantine %}
quarantined_records as (
    select school_code, dataset, record_id from {{ quarantined }}
),
{%- else %}
quarantined_records as (
    select
        cast(null as {{ dbt.type_string() }}) as school_code,
        cast(null as {{ dbt.type_string() }}) as dataset,
        cast(null as {{ dbt.type_string() }}) as record_id
    where 1 = 0
),
{%- endif %}

raw_counts as (
    {%- set parts = [] %}
    {%- for dataset, model, key, _ in datasets %}
        {%- set raw = source('isams', dataset) %}
        {%- set cols = staging_columns_of(raw) %}
        {%- if cols is none or cols | length > 0 %}
            {%- set has_key = cols is none or key in cols %}
            {%- set has_dlt_id = cols is none or '_dlt_id' in cols %}
            {%- set is_scd2 = cols is none or '_dlt_valid_to' in cols %}
            {#- record_id exactly as ops.quarantined_records builds it (macro quarantine_record_id) -#}
            {%- set record_id = quarantine_record_id('r', key, has_key, has_dlt_id) %}
            {%- set part %}
    select
        r.school_code,
        '{{ dataset }}' as dataset,
        cast(count(*) as bigint) as raw_current_rows,
        cast(sum(case when q.record_id is not null then 1 else 0 end) as bigint) as raw_rows_quarantined,
        cast(count(distinct q.record_id) as bigint) as records_quarantined
    from {{ raw }} as r
    left join quarantined_records as q
        on q.school_code = r.school_code
        and q.dataset = '{{ dataset }}'
        and q.record_id = {{ record_id }}
    {%- if is_scd2 %}
    where r._dlt_valid_to is null
    {%- endif %}
    group by r.school_code
            {%- endset %}
            {%- do parts.append(part) %}
        {%- endif %}
    {%- endfor %}
    {%- if parts | length > 0 %}
    {{ parts | join('\n    union all') }}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as school_code,
        cast(null as {{ dbt.type_string() }}) as dataset,
        cast(null as bigint) as raw_current_rows,
        cast(null as bigint) as raw_rows_quarantined,
        cast(null as bigint) as records_quarantined
    where 1 = 0
    {%- endif %}
),

staging_counts as (
    {%- for dataset, model, key, scd2 in datasets %}
    select
        school_code,
        '{{ dataset }}' as dataset,
        '{{ model }}' as staging_model,
        cast(count(*) as bigint) as staging_current_rows
    from {{ ref(model) }}
    {%- if scd2 %}
    -- a stale version (the last good one standing in for a quarantined current row) is not a current raw row
    where is_current_version and stale_since is null
    {%- endif %}
    group by school_code
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

staging_models as (
    {%- for dataset, model, key, scd2 in datasets %}
    select '{{ dataset }}' as dataset, '{{ model }}' as staging_model
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

current_state as (
    select
        coalesce(r.school_code, s.school_code) as school_code,
        coalesce(r.dataset, s.dataset) as dataset,
        coalesce(r.raw_current_rows, 0) as raw_current_rows,
        coalesce(r.raw_rows_quarantined, 0) as raw_rows_quarantined,
        coalesce(r.records_quarantined, 0) as records_quarantined,
        coalesce(s.staging_current_rows, 0) as staging_current_rows
    from raw_counts as r
    full outer join staging_counts as s
        on s.school_code = r.school_code
        and s.dataset = r.dataset
),

spine as (
    -- every run of every school and dataset ...
    select
        run_id, command, run_started_at, run_finished_at, school_code, dataset, run_outcome, run_error,
        rows_landed, run_recency = 1 as is_latest_run
    from runs
    union all
    -- ... and data in raw/staging that no run in ops.run_log accounts for (loaded before the run log existed)
    select
        cast(null as {{ dbt.type_string() }}) as run_id,
        cast(null as {{ dbt.type_string() }}) as command,
        cast(null as timestamp) as run_started_at,
        cast(null as timestamp) as run_finished_at,
        c.school_code,
        c.dataset,
        cast(null as {{ dbt.type_string() }}) as run_outcome,
        cast(null as {{ dbt.type_string() }}) as run_error,
        cast(null as bigint) as rows_landed,
        true as is_latest_run
    from current_state as c
    where not exists (
        select 1 from runs
        where runs.school_code = c.school_code and runs.dataset = c.dataset
    )
),

reconciled as (
    select
        spine.run_id,
        spine.command,
        spine.run_started_at,
        spine.run_finished_at,
        spine.school_code,
        spine.dataset,
        m.staging_model,
        spine.run_outcome,
        spine.run_error,
        spine.rows_landed,
        spine.is_latest_run,
        case when spine.is_latest_run then coalesce(c.raw_current_rows, 0) end as raw_current_rows,
        case when spine.is_latest_run then coalesce(c.raw_rows_quarantined, 0) end as raw_rows_quarantined,
        case when spine.is_latest_run then coalesce(c.records_quarantined, 0) end as records_quarantined,
        case when spine.is_latest_run then coalesce(c.staging_current_rows, 0) end as staging_current_rows
    from spine
    left join current_state as c
        on c.school_code = spine.school_code
        and c.dataset = spine.dataset
    left join staging_models as m
        on m.dataset = spine.dataset
)

select
    run_id,
    command,
    run_started_at,
    run_finished_at,
    school_code,
    dataset,
    staging_model,
    run_outcome,
    run_error,
    rows_landed,
    is_latest_run,
    raw_current_rows,
    raw_rows_quarantined,
    records_quarantined,
    staging_current_rows,
    raw_current_rows - raw_rows_quarantined as expected_staging_rows,
    staging_current_rows - (raw_current_rows - raw_rows_quarantined) as unexplained_row_difference,
    case
        when not is_latest_run or staging_model is null then null
        else staging_current_rows = raw_current_rows - raw_rows_quarantined
    end as is_reconciled
from reconciled
