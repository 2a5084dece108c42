-- Marketing costs per day and cost source, in the reporting currency: the input of
-- marketing.cost_per_lead = (ad spend + other marketing costs) / new CRM leads.
--
-- HOOK: the paid-ads models (ad spend per platform, other marketing costs spread over their
-- month) are built on another branch. When they land, replace the empty select below with one
-- branch per cost source, e.g.
--     select date_day, platform as cost_source, sum(spend_reporting) as cost_reporting
--     from <ref to the ad spend fact> group by all
--     union all
--     select date_day, 'other_marketing_costs', sum(cost_reporting)
--     from <ref to the other marketing costs, spread per day> group by all
-- Until then there are no cost rows, so marketing.cost_per_lead has no rows (never a fake 0).
select
    cast(null as date) as date_day,
    cast(null as {{ dbt.type_string() }}) as cost_source,
    cast(null as {{ type_double() }}) as cost_reporting
where false
