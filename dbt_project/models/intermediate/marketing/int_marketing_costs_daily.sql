-- Marketing costs per day and cost source, in the reporting currency: the input of
-- marketing.cost_per_lead = (ad spend + other marketing costs) / new CRM leads.
-- Ad spend per platform from fct_paid_ads_daily (zero-filled for every pulled account day) and
-- other marketing costs spread over their month (int_other_marketing_costs_daily).
select
    date_day,
    platform as cost_source,
    sum(spend_reporting) as cost_reporting
from {{ ref('fct_paid_ads_daily') }}
group by date_day, platform
union all
select
    date_day,
    'other_marketing_costs' as cost_source,
    sum(amount_reporting) as cost_reporting
from {{ ref('int_other_marketing_costs_daily') }}
group by date_day
