-- One row per ticket, latest state.
select
    account_id,
    ticket_id,
    created_at,
    created_day as date_day,
    updated_at,
    status,
    status = 'deleted' as is_deleted,
    status in ('solved', 'closed') as is_resolved,
    reply_minutes_calendar is not null as has_reply,
    reply_minutes_calendar,
    reply_minutes_business,
    full_resolution_minutes_calendar,
    solved_at,
    via_channel,
    priority,
    satisfaction_score
from {{ ref('stg_zendesk__tickets') }}
