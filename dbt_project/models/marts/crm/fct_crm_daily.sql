-- CRM per day x portal for every day the CRM was pulled for (a covered day without leads is 0).
with days as (
    select distinct portal_id, date_day from {{ ref('stg_hubspot__sync_days') }}
),

contacts as (
    select
        portal_id,
        created_day as date_day,
        count(*) as contacts_created,
        sum(case when lifecycle_stage in {{ hubspot_lead_stages() }} then 1 else 0 end) as leads
    from {{ ref('stg_hubspot__contacts') }}
    where not coalesce(is_archived, false)
    group by portal_id, created_day
),

won as (
    select portal_id, date_day, count(*) as deals_won, sum(amount_reporting) as won_amount_reporting
    from {{ ref('fct_crm_deals_won') }}
    group by portal_id, date_day
),

lost as (
    select portal_id, close_day as date_day, count(*) as deals_lost
    from {{ ref('stg_hubspot__deals') }}
    where is_closed and not is_won
    group by portal_id, close_day
)

select
    d.date_day,
    d.portal_id,
    coalesce(c.contacts_created, 0) as contacts_created,
    cast(coalesce(c.leads, 0) as {{ dbt.type_bigint() }}) as leads,
    coalesce(w.deals_won, 0) as deals_won,
    coalesce(l.deals_lost, 0) as deals_lost,
    cast(coalesce(w.won_amount_reporting, 0) as {{ type_double() }}) as won_amount_reporting,
    {{ reporting_currency() }} as reporting_currency
from days as d
left join contacts as c on c.portal_id = d.portal_id and c.date_day = d.date_day
left join won as w on w.portal_id = d.portal_id and w.date_day = d.date_day
left join lost as l on l.portal_id = d.portal_id and l.date_day = d.date_day
