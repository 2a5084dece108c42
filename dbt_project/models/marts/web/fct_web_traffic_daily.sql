{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(in_partition_window('date_day')) }}",
    )
}}
-- Base measures of web analytics per day x property x default channel group.
-- Incremental: a run rebuilds exactly the days of its partition window.
select
    date_day,
    property_id,
    channel_group,
    sessions,
    engaged_sessions,
    screen_page_views,
    user_engagement_seconds,
    key_events,
    leads,
    purchase_revenue,
    currency_code,
    new_users,
    time_zone,
    has_data_quality_flag
from {{ ref('int_web_traffic_with_leads') }}
