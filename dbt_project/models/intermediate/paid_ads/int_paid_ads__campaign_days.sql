-- Every platform's campaign-days with delivery in one shared schema (fivetran ad_reporting style).
-- Amounts in the account currency; the day is the account's own day (time_zone).
select
    'google_ads' as platform,
    account_id,
    campaign_id,
    campaign_name,
    campaign_status,
    date_day,
    impressions,
    clicks,
    spend,
    conversions,
    conversion_value,
    currency,
    time_zone
from {{ ref('stg_google_ads__campaign_stats') }}
union all
select
    'meta_ads' as platform,
    account_id,
    campaign_id,
    campaign_name,
    cast(null as {{ dbt.type_string() }}) as campaign_status,
    date_day,
    impressions,
    clicks,
    spend,
    conversions,
    conversion_value,
    currency,
    cast(null as {{ dbt.type_string() }}) as time_zone
from {{ ref('stg_meta_ads__campaign_insights') }}
