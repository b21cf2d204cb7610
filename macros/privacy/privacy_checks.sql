{#-
  Privacy by construction: what may never reach a published model (marts, and anything an exposure reads).

  privacy_identifying_names() -> list of column-name terms that identify a person or are special-category
  data. A column matches a term when the term's words appear consecutively in the column name's words
  (split on '_'): `email` matches `school_email_address`, `sen` matches `sen_status` but not `session`.
  The list is the var `personal_data_terms` in dbt_project.yml, the one list (validation reads it too).
-#}
{% macro privacy_identifying_names() -%}
    {{ return(var('personal_data_terms')) }}
{%- endmacro %}


{#- The classifications that may never be published. -#}
{% macro privacy_restricted_classifications() -%}
    {{ return(['pii', 'special_category']) }}
{%- endmacro %}


{#- The layers where personal data may live: staging and canonical (the MIS's data, for the pipeline) and
    restricted (the named lists of models/restricted, readable on PostgreSQL only by attendance_officer). -#}
{% macro privacy_personal_data_schemas() -%}
    {{ return(['staging', 'canonical', 'restricted']) }}
{%- endmacro %}


{#-
  privacy_published_leaks() -> list of 'model.column: reason' strings for every published model's column that
  is classified pii/special_category or whose name matches privacy_identifying_names(). Published = a model
  in schema `marts` or under models/marts, a model an exposure depends on, or any model outside the personal
  data layers (privacy_personal_data_schemas(): monitoring, semantic, ...). Also a leak: a restricted model
  read by an exposure (a BI tool must never read names) or with a column without a meta classification.
  Reads the `graph` (only meaningful when `execute`).
-#}
{% macro privacy_published_leaks() -%}
    {%- set leaks = [] -%}
    {%- if not execute -%}
        {{ return(leaks) }}
    {%- endif -%}
    {%- set exposed = [] -%}
    {%- for exposure in graph.exposures.values() -%}
        {%- do exposed.extend(exposure.depends_on.nodes) -%}
    {%- endfor -%}
    {%- set personal = privacy_personal_data_schemas() -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- set folder = node.fqn[1] if node.fqn | length > 2 else none -%}
        {%- set is_restricted = node.config.schema == 'restricted' or folder == 'restricted' -%}
        {%- if is_restricted -%}
            {%- if node.unique_id in exposed -%}
                {%- do leaks.append(node.name ~ ': restricted model read by an exposure (BI tools never read names)') -%}
            {%- endif -%}
            {%- for column in node.columns.values() -%}
                {%- set config_meta = (column.config or {}).get('meta', {}) or {} -%}
                {%- if not ((column.meta or {}).get('classification') or config_meta.get('classification')) -%}
                    {%- do leaks.append(node.name ~ '.' ~ column.name ~ ': restricted model column without a classification') -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if node.config.schema == 'marts' or folder == 'marts' or node.unique_id in exposed
            or (node.config.schema not in personal and folder not in personal) -%}
            {%- if node.config.schema == 'marts' and not node.config.contract.enforced -%}
                {%- do leaks.append(node.name ~ ': contract not enforced, so its columns cannot be checked') -%}
            {%- endif -%}
            {%- for column in node.columns.values() -%}
                {%- set meta = column.meta or {} -%}
                {%- set config_meta = (column.config or {}).get('meta', {}) or {} -%}
                {%- set classification = meta.get('classification') or config_meta.get('classification') -%}
                {%- if classification in privacy_restricted_classifications() -%}
                    {%- do leaks.append(node.name ~ '.' ~ column.name ~ ': classified ' ~ classification) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- for column_name in node.columns.keys() -%}
                {%- set words = '_' ~ (column_name | lower) ~ '_' -%}
                {%- for term in privacy_identifying_names() if ('_' ~ term ~ '_') in words -%}
                    {%- do leaks.append(node.name ~ '.' ~ column_name ~ ': identifying name (' ~ term ~ ')') -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(leaks) }}
{%- endmacro %}
