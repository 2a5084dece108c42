-- Won deals (closed on a day the CRM was pulled for), with the amount in the reporting currency.
with covered as (
    select distinct portal_id, date_day from {{ ref('stg_hubspot__sync_days') }}
)

select
    d.portal_id,
    d.deal_id,
    d.close_day as date_day,
    d.created_day,
    d.pipeline,
    d.deal_stage,
    d.stage_label,
    d.amount,
    d.currency_code,
    d.currency_is_portal_default,
    cast({{ to_reporting_currency('d.amount', 'd.currency_code', 'fx.rate_to_reporting') }}
        as {{ type_double() }}) as amount_reporting,
    {{ reporting_currency() }} as reporting_currency
from {{ ref('stg_hubspot__deals') }} as d
inner join covered as c on c.portal_id = d.portal_id and c.date_day = d.close_day
left join {{ ref('int_fx_rates_daily') }} as fx
    on fx.currency = d.currency_code and fx.date_day = d.close_day
where d.is_won and not coalesce(d.is_archived, false)
