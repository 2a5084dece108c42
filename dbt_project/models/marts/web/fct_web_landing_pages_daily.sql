{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(in_partition_window('date_day')) }}",
    )
}}
-- Sessions that started on each landing page, per day x property (content KPIs build on it).
select
    date_day,
    property_id,
    landing_page,
    sessions,
    engaged_sessions,
    screen_page_views,
    user_engagement_seconds,
    key_events,
    purchase_revenue,
    currency_code
from {{ ref('stg_ga4__landing_pages') }}
where {{ in_partition_window('date_day') }}
