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
    t.date_day,
    t.property_id,
    t.channel_group,
    t.sessions,
    t.engaged_sessions,
    t.screen_page_views,
    t.user_engagement_seconds,
    t.key_events,
    t.leads,
    t.purchase_revenue,
    t.currency_code,
    cast(
        {{ to_reporting_currency('t.purchase_revenue', 't.currency_code', 'fx.rate_to_reporting') }}
        as {{ type_double() }}
    ) as purchase_revenue_reporting,
    {{ reporting_currency() }} as reporting_currency,
    t.new_users,
    t.time_zone,
    t.has_data_quality_flag
from {{ ref('int_web_traffic_with_leads') }} as t
left join {{ ref('int_fx_rates_daily') }} as fx
    on fx.currency = upper(t.currency_code) and fx.date_day = t.date_day
where {{ in_partition_window('t.date_day') }}
