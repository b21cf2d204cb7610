{#-
  Pseudonymous keys for people: keyed_hash(expression) -> SQL string of 64 lowercase hex characters.

  Construction (nested keyed SHA-256, NOT RFC 2104 HMAC, which needs byte-wise XOR that SQL cannot do
  portably):   sha256(secret || ':' || sha256(secret || ':' || value))
  The outer keyed hash over the inner digest defeats length extension, as in HMAC/NMAC. Without the secret a
  key cannot be recomputed from a guessed UPN or name and date of birth; another deployment (another
  secret) gets unrelated keys; the same secret gives the same key on every run and on DuckDB and PostgreSQL.

  - `expression`: a SQL expression, or a list of them (joined like surrogate_key: cast to text, null ->
    sentinel, '-' between values).
  - The secret is read from the one-row table source('ops', 'pupil_key_secret'), which the pipeline
    (ingestion/ops/pupil_key.py) fills from env var SCHOOLWH_PUPIL_KEY_SECRET before every dbt run. So the
    secret never appears in compiled SQL, manifest.json, run_results.json, logs or the docs site: only the
    table's name does. On PostgreSQL the `ops` schema is not readable by `bi_reader`.
  - Changing the secret changes every pupil_key and enrolment_key: keep it for the life of the deployment.
-#}
{% macro keyed_hash(expression) -%}
    {%- set parts = [] -%}
    {%- for part in ([expression] if expression is string else expression) -%}
        {%- do parts.append("coalesce(cast(" ~ part ~ " as " ~ dbt.type_string() ~ "), '_schoolwh_null_')") -%}
    {%- endfor -%}
    {%- if parts | length == 0 -%}
        {{ exceptions.raise_compiler_error("keyed_hash() needs an expression or a non-empty list of expressions") }}
    {%- endif -%}
    {%- set secret = "(select secret from " ~ source('ops', 'pupil_key_secret') ~ ")" -%}
    {%- set inner = schoolwh_sha256_hex(secret ~ " || ':' || " ~ (parts | join(" || '-' || "))) -%}
    {{ schoolwh_sha256_hex(secret ~ " || ':' || " ~ inner) }}
{%- endmacro %}


{#- schoolwh_sha256_hex(text_expression) -> SQL: lowercase hex SHA-256 of a text expression (UTF-8). -#}
{% macro schoolwh_sha256_hex(text_expression) -%}
    {{ return(adapter.dispatch('schoolwh_sha256_hex', 'schoolwh')(text_expression)) }}
{%- endmacro %}

{% macro default__schoolwh_sha256_hex(text_expression) -%}
    sha256({{ text_expression }})
{%- endmacro %}

{% macro postgres__schoolwh_sha256_hex(text_expression) -%}
    encode(sha256(convert_to({{ text_expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro spark__schoolwh_sha256_hex(text_expression) -%}
    sha2({{ text_expression }}, 256)
{%- endmacro %}
