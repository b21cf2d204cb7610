{#-
  Source values that staging could not convert to their type: one row per raw row x column whose non-blank
  value the guarded cast (macro staging_try_cast) turned into null, e.g. NCYear 'Year 10' where a whole
  number is expected. Staging never fails on such a value; this model says where it is.

  The typed columns are read from the staging models themselves (every `staging_field(<cols>, '<column>',
  '<type>')` / `staging_typed_field(...)` call in a stg_ model, with the source its cols come from), so a new
  typed column is monitored without being listed here. Nested tables (e.g. staff__roles) are named by their
  root record. The value is shown for data managers, except in columns whose names identify a person
  (privacy_identifying_names: e.g. dob), where it is withheld.
-#}
{%- set re = modules.re -%}
{%- set fields = [] -%}
{%- set seen = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.package_name == project_name and node.name.startswith('stg_') -%}
        {%- set code = node.raw_code -%}
        {%- set relations = {} -%}
        {%- for var_name, dataset in re.findall("set\\s+(\\w+)\\s*=\\s*source\\(\\s*'isams'\\s*,\\s*'(\\w+)'\\s*\\)", code) -%}
            {%- do relations.update({var_name: dataset}) -%}
        {%- endfor -%}
        {%- set col_vars = {} -%}
        {%- for cols_var, rel_var in re.findall("set\\s+(\\w+)\\s*=\\s*staging_columns_of\\(\\s*(\\w+)\\s*\\)", code) -%}
            {%- if rel_var in relations -%}
                {%- do col_vars.update({cols_var: relations[rel_var]}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set keys = {} -%}
        {%- for rel_var, key in re.findall("staging_from\\(\\s*(\\w+)\\s*,\\s*\\w+\\s*,\\s*key\\s*=\\s*'(\\w+)'", code) -%}
            {%- if rel_var in relations -%}
                {%- do keys.update({relations[rel_var]: key}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- for cols_var, column, data_type in re.findall("staging_(?:typed_)?field\\(\\s*(\\w+)\\s*,\\s*'(\\w+)'\\s*,\\s*'(\\w+)'", code) -%}
            {%- if data_type != 'varchar' and cols_var in col_vars -%}
                {%- set dataset = col_vars[cols_var] -%}
                {%- set root = dataset.split('__')[0] -%}
                {%- set entry = dataset ~ '.' ~ column -%}
                {%- if entry not in seen -%}
                    {%- do seen.append(entry) -%}
                    {%- do fields.append({
                        'dataset': dataset, 'root': root, 'column': column | lower, 'data_type': data_type,
                        'key': keys.get(root, 'id')
                    }) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
{%- endif -%}

{%- set parts = [] -%}
{%- for f in fields | sort(attribute='dataset') -%}
    {%- set raw = source('isams', f.dataset) -%}
    {%- set cols = staging_columns_of(raw) -%}
    {%- set nested = f.dataset != f.root -%}
    {%- set root_raw = source('isams', f.root) if nested else raw -%}
    {%- set root_cols = staging_columns_of(root_raw) if nested else cols -%}
    {%- if cols and f.column in cols and root_cols and 'school_code' in root_cols
        and (not nested or ('_dlt_root_id' in cols and '_dlt_id' in root_cols)) -%}
        {%- set identifying = [] -%}
        {%- for term in privacy_identifying_names() -%}
            {%- if ('_' ~ term ~ '_') in ('_' ~ f.column ~ '_') -%}{%- do identifying.append(term) -%}{%- endif -%}
        {%- endfor -%}
        {%- set value = staging_blank_to_null(('r.' if nested else 'root.') ~ adapter.quote(f.column)) -%}
        {%- if f.key in root_cols and '_dlt_id' in root_cols -%}
            {%- set record_id = "coalesce(cast(root." ~ f.key ~ " as " ~ dbt.type_string() ~ "), '_dlt_id=' || root._dlt_id)" -%}
        {%- elif f.key in root_cols -%}
            {%- set record_id = "cast(root." ~ f.key ~ " as " ~ dbt.type_string() ~ ")" -%}
        {%- else -%}
            {%- set record_id = "'_dlt_id=' || root._dlt_id" -%}
        {%- endif -%}
        {%- set part -%}
    select
        cast(root.school_code as {{ dbt.type_string() }}) as school_code,
        cast('{{ f.dataset }}' as {{ dbt.type_string() }}) as dataset,
        cast({{ record_id }} as {{ dbt.type_string() }}) as record_id,
        cast('{{ f.column }}' as {{ dbt.type_string() }}) as column_name,
        cast('{{ f.data_type }}' as {{ dbt.type_string() }}) as expected_type,
        {% if identifying -%}
        cast('(withheld)' as {{ dbt.type_string() }}) as raw_value,
        {%- else -%}
        cast({{ value }} as {{ dbt.type_string() }}) as raw_value,
        {%- endif %}
        cast({% if '_dlt_load_id' in root_cols %}root._dlt_load_id{% else %}null{% endif %} as {{ dbt.type_string() }}) as load_id,
        {{ staging_loaded_at(root_cols, table_alias='root') }} as loaded_at,
        {% if '_dlt_valid_to' in root_cols -%}(root._dlt_valid_to is null){%- else -%}true{%- endif %} as is_current_version
    {%- if nested %}
    from {{ raw }} as r
    inner join {{ root_raw }} as root on r._dlt_root_id = root._dlt_id
    {%- else %}
    from {{ raw }} as root
    {%- endif %}
    where {{ value }} is not null
      and {{ staging_try_cast(value, f.data_type) }} is null
        {%- endset -%}
        {%- do parts.append(part) -%}
    {%- endif -%}
{%- endfor %}

{%- if parts | length > 0 %}
{{ parts | join('\n    union all\n') }}
{%- else %}
select
    cast(null as {{ dbt.type_string() }}) as school_code,
    cast(null as {{ dbt.type_string() }}) as dataset,
    cast(null as {{ dbt.type_string() }}) as record_id,
    cast(null as {{ dbt.type_string() }}) as column_name,
    cast(null as {{ dbt.type_string() }}) as expected_type,
    cast(null as {{ dbt.type_string() }}) as raw_value,
    cast(null as {{ dbt.type_string() }}) as load_id,
    cast(null as timestamp) as loaded_at,
    cast(null as boolean) as is_current_version
where 1 = 0
{%- endif %}
