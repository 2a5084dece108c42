-- Unique users per property for each day, ISO week and month, exactly as GA4 counted them.
-- Never summed across days: a week's users come from a week-long report.
select
    property_id,
    grain,
    period_start,
    period_end,
    total_users
from {{ ref('stg_ga4__users') }}
