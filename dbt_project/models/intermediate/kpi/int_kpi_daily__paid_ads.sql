-- Daily KPI components from paid ads (and the digital KPIs that combine ad spend with GA4):
-- one row per KPI x segment x day with numerator and denominator; kpi_values rolls them up.
-- Money is in the reporting currency. Segments: all, platform=<platform>,
-- campaign=<platform>:<campaign_id>. A view without the run's window baked in: kpi_values filters
-- it, and a run that does not rebuild this view still reads the right days.
-- Doubles (converted money, fractional conversions) are summed as decimals: a float sum depends
-- on row order, and a re-run must give the same numbers (12 decimals: no visible rounding).
with ads as (
    select
        date_day,
        platform,
        campaign_id,
        impressions,
        clicks,
        cast(spend_reporting as decimal(38, 12)) as spend_reporting,
        cast(conversions as decimal(38, 12)) as conversions,
        cast(conversion_value_reporting as decimal(38, 12)) as conversion_value_reporting
    from {{ ref('fct_paid_ads_daily') }}
),

segmented as (
    select date_day, 'all' as segment, impressions, clicks, spend_reporting, conversions,
        conversion_value_reporting
    from ads
    union all
    select date_day, 'platform=' || platform, impressions, clicks, spend_reporting, conversions,
        conversion_value_reporting
    from ads
    union all
    select date_day, 'campaign=' || platform || ':' || campaign_id, impressions, clicks,
        spend_reporting, conversions, conversion_value_reporting
    from ads
),

daily as (
    select
        date_day,
        segment,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend_reporting) as spend,
        sum(conversions) as conversions,
        sum(conversion_value_reporting) as conversion_value
    from segmented
    group by date_day, segment
),

web as (
    select
        date_day,
        sum(leads) as leads,
        sum(
            case
                when channel_group <> 'Direct'
                    then cast(purchase_revenue_reporting as decimal(38, 12))
                else 0
            end
        ) as non_direct_revenue
    from {{ ref('fct_web_traffic_daily') }}
    group by date_day
),

-- Days with both sides known: GA4 data and at least one ads account pulled (spend of an ads
-- source that is not loaded is unknown, not zero). Other marketing costs count on those days only,
-- so a month-to-date ROI compares month-to-date revenue with month-to-date costs.
observed as (
    select date_day from web
    intersect
    select date_day from {{ ref('int_paid_ads__account_days') }}
),

other_costs as (
    select date_day, sum(cast(amount_reporting as decimal(38, 12))) as other_costs
    from {{ ref('int_other_marketing_costs_daily') }}
    group by date_day
),

digital as (
    select
        o.date_day,
        coalesce(a.spend, 0) as ad_spend,
        coalesce(w.leads, 0) as leads,
        coalesce(w.non_direct_revenue, 0) as non_direct_revenue,
        coalesce(c.other_costs, 0) as other_costs
    from observed as o
    left join daily as a on a.date_day = o.date_day and a.segment = 'all'
    left join web as w on w.date_day = o.date_day
    left join other_costs as c on c.date_day = o.date_day
),

components as (
    select 'paid_ads.ctr' as kpi_id, segment, date_day,
        clicks as numerator, impressions as denominator
    from daily
    union all
    select 'paid_ads.cpc', segment, date_day, spend, clicks
    from daily
    union all
    select 'paid_ads.conversion_rate', segment, date_day, conversions, clicks
    from daily
    union all
    select 'paid_ads.impressions', segment, date_day, impressions, null
    from daily
    union all
    select 'paid_ads.roas', segment, date_day, conversion_value, spend
    from daily
    union all
    select 'digital.cost_per_lead', 'all', date_day, ad_spend, leads
    from digital
    union all
    select 'digital.roi', 'all', date_day, non_direct_revenue, ad_spend + other_costs
    from digital
)

select
    kpi_id,
    segment,
    date_day,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator
from components
