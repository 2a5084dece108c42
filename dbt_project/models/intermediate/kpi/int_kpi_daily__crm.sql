-- Daily KPI components from the CRM (HubSpot), for every day the CRM was pulled for.
-- marketing.conversion_rate = new CRM leads / GA4 sessions, on days both sources have;
-- marketing.cost_per_lead = marketing costs / new CRM leads, on days the cost sources cover
-- (int_marketing_costs_daily: ad spend per platform plus other marketing costs).
with days as (
    select distinct date_day from {{ ref('stg_hubspot__sync_days') }}
),

leads as (
    select date_day, sum(leads) as leads
    from {{ ref('fct_crm_daily') }}
    group by date_day
),

sessions as (
    select date_day, sum(sessions) as sessions
    from {{ ref('fct_web_traffic_daily') }}
    group by date_day
),

costs as (
    select date_day, sum(cost_reporting) as cost
    from {{ ref('int_marketing_costs_daily') }}
    group by date_day
),

daily as (
    select d.date_day, coalesce(l.leads, 0) as leads
    from days as d
    left join leads as l on l.date_day = d.date_day
),

components as (
    select 'marketing.new_leads' as kpi_id, 'all' as segment, d.date_day,
        d.leads as numerator, cast(null as {{ type_double() }}) as denominator
    from daily as d
    union all
    select 'marketing.conversion_rate', 'all', d.date_day, d.leads, s.sessions
    from daily as d
    inner join sessions as s on s.date_day = d.date_day
    union all
    select 'marketing.cost_per_lead', 'all', d.date_day, c.cost, d.leads
    from daily as d
    inner join costs as c on c.date_day = d.date_day
)

select
    kpi_id,
    segment,
    date_day,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator
from components
