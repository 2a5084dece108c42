{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(in_partition_window('date_day')) }}",
    )
}}
-- Paid ads base measures per day x platform x account x campaign, one schema for every platform.
-- Campaign-days the API omits (no delivery) are zero rows (is_zero_filled): for each pulled
-- account-day, every campaign of the account from its first day with delivery on (until its last
-- one once Google reports it REMOVED). Money stays in the account currency and is also converted
-- to the reporting currency with the ECB rate of the (account's) day.
with window_stats as (
    select * from {{ ref('int_paid_ads__campaign_days') }}
    where {{ in_partition_window('date_day') }}
),

account_days as (
    select * from {{ ref('int_paid_ads__account_days') }}
    where {{ in_partition_window('date_day') }}
),

latest as (
    select
        platform,
        account_id,
        campaign_id,
        campaign_name,
        campaign_status,
        row_number() over (
            partition by platform, account_id, campaign_id order by date_day desc
        ) as recency
    from {{ ref('int_paid_ads__campaign_days') }}
),

campaigns as (
    select
        s.platform,
        s.account_id,
        s.campaign_id,
        min(s.date_day) as first_day,
        max(s.date_day) as last_day,
        max(l.campaign_name) as campaign_name,
        max(l.campaign_status) as campaign_status
    from {{ ref('int_paid_ads__campaign_days') }} as s
    inner join latest as l
        on l.platform = s.platform and l.account_id = s.account_id
        and l.campaign_id = s.campaign_id and l.recency = 1
    group by s.platform, s.account_id, s.campaign_id
),

spine as (
    select a.date_day, a.platform, a.account_id, c.campaign_id
    from account_days as a
    inner join campaigns as c
        on c.platform = a.platform
        and c.account_id = a.account_id
        and a.date_day >= c.first_day
        and (coalesce(c.campaign_status, '') <> 'REMOVED' or a.date_day <= c.last_day)
    union
    select date_day, platform, account_id, campaign_id from window_stats
),

joined as (
    select
        sp.date_day,
        sp.platform,
        sp.account_id,
        sp.campaign_id,
        coalesce(s.campaign_name, c.campaign_name) as campaign_name,
        coalesce(s.impressions, 0) as impressions,
        coalesce(s.clicks, 0) as clicks,
        coalesce(s.spend, 0) as spend,
        coalesce(s.conversions, 0) as conversions,
        coalesce(s.conversion_value, 0) as conversion_value,
        coalesce(s.currency, a.currency) as currency,
        coalesce(a.time_zone, s.time_zone) as time_zone,
        s.campaign_id is null as is_zero_filled
    from spine as sp
    left join window_stats as s
        on s.platform = sp.platform and s.account_id = sp.account_id
        and s.campaign_id = sp.campaign_id and s.date_day = sp.date_day
    left join account_days as a
        on a.platform = sp.platform and a.account_id = sp.account_id and a.date_day = sp.date_day
    left join campaigns as c
        on c.platform = sp.platform and c.account_id = sp.account_id
        and c.campaign_id = sp.campaign_id
)

select
    j.date_day,
    j.platform,
    j.account_id,
    j.campaign_id,
    j.campaign_name,
    j.impressions,
    j.clicks,
    j.spend,
    j.conversions,
    j.conversion_value,
    j.currency,
    cast(
        {{ to_reporting_currency('j.spend', 'j.currency', 'fx.rate_to_reporting') }}
        as {{ type_double() }}
    ) as spend_reporting,
    cast(
        {{ to_reporting_currency('j.conversion_value', 'j.currency', 'fx.rate_to_reporting') }}
        as {{ type_double() }}
    ) as conversion_value_reporting,
    {{ reporting_currency() }} as reporting_currency,
    j.time_zone,
    j.is_zero_filled
from joined as j
left join {{ ref('int_fx_rates_daily') }} as fx
    on fx.currency = j.currency and fx.date_day = j.date_day
