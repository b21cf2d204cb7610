-- One row per custom pupil group per school (latest version).
with groups as (
    {{ latest_version(ref('stg_isams__custom_groups'), ['school_code', 'custom_group_id']) }}
)

select
    {{ surrogate_key(['school_code', 'custom_group_id']) }} as custom_group_key,
    school_code,
    custom_group_id,
    group_name,
    category_id,
    is_shared,
    expiry_date,
    coalesce(is_deleted, false) as is_deleted,
    is_current_version as is_current
from groups
