{#-
  Every statutory attendance code of every measurement scheme, one shape: THE reference attendance_sessions
  resolves a mark's code against (on measurement_scheme, statutory_code and the session date).
  - 'dfe_sessions': seed dfe_attendance_codes (England; code sets 2024 and pre_2024, with validity windows).
  - 'scottish_openings': seed seemis_attendance_codes (Scotland; the SEEMiS numeric codes, one set 'seemis',
    valid throughout). Codes whose number is not evidenced are marked is_evidenced = false there: a school
    whose codes differ edits the seed.
  Categories are shared: present and approved_educational_activity are attendance; authorised, unauthorised
  and (Scotland) temporary_exclusion are absence; not_possible counts in neither.
-#}
{#-
  The columns, in order, with the type each branch is cast to (none: the seed's own type, boolean). A scheme's
  branch selects each column from its seed under the same name unless its entry maps it to another expression,
  so a new measurement scheme is one more entry of `schemes`.
-#}
{%- set columns = [
    ('measurement_scheme', dbt.type_string()),
    ('statutory_code', dbt.type_string()),
    ('code_set', dbt.type_string()),
    ('valid_from', 'date'),
    ('valid_to', 'date'),
    ('description', dbt.type_string()),
    ('category', dbt.type_string()),
    ('is_possible_session', none),
    ('is_attendance', none),
    ('is_absence', none),
    ('is_late', none),
    ('counts_as_late', none),
    ('is_evidenced', none),
] %}
{%- set schemes = [
    {'seed': 'dfe_attendance_codes', 'measurement_scheme': "'dfe_sessions'", 'statutory_code': 'dfe_code',
        'is_evidenced': 'true'},
    {'seed': 'seemis_attendance_codes', 'measurement_scheme': "'scottish_openings'", 'statutory_code': 'seemis_code',
        'code_set': "'seemis'", 'valid_from': "'1900-01-01'", 'valid_to': 'null'},
] %}

{%- for scheme in schemes %}
select
    {%- for column, data_type in columns %}
    {%- set expression = scheme.get(column, column) %}
    {% if data_type %}cast({{ expression }} as {{ data_type }}) as {{ column }}
    {%- elif expression != column %}{{ expression }} as {{ column }}
    {%- else %}{{ column }}{% endif %}
    {{- ',' if not loop.last }}
    {%- endfor %}
from {{ ref(scheme.seed) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
