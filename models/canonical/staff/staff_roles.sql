-- One row per staff member x role per school (latest version of each pair).
with roles as (
    {{ latest_version(ref('stg_isams__staff_roles'), ['school_code', 'staff_id', 'role_id']) }}
)

select
    {{ surrogate_key(['school_code', 'staff_id', 'role_id']) }} as staff_role_key,
    {{ surrogate_key(['school_code', 'staff_id']) }} as staff_key,
    school_code,
    staff_id,
    role_id,
    role_name,
    is_current_version as is_current
from roles
