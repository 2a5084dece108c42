-- Stripe charges per day x account x currency, with amounts converted to the reporting currency.
with charges as (
    select * from {{ ref('stg_stripe__charges') }}
),

first_charges as (
    select date_day, account_id, currency_code, count(*) as new_customers
    from {{ ref('int_stripe_customer_first_charges') }}
    group by date_day, account_id, currency_code
),

daily as (
    select
        date_day,
        account_id,
        currency_code,
        count(*) as charges,
        sum(case when status = 'succeeded' then 1 else 0 end) as succeeded_charges,
        sum(case when status = 'failed' then 1 else 0 end) as failed_charges,
        sum(case when status = 'succeeded' then amount else 0 end) as gross_amount,
        sum(case when status = 'succeeded' then amount_refunded else 0 end) as refunded_amount
    from charges
    group by date_day, account_id, currency_code
)

select
    d.date_day,
    d.account_id,
    d.currency_code,
    d.charges,
    cast(d.succeeded_charges as {{ dbt.type_bigint() }}) as succeeded_charges,
    cast(d.failed_charges as {{ dbt.type_bigint() }}) as failed_charges,
    d.gross_amount,
    d.refunded_amount,
    d.gross_amount - d.refunded_amount as net_revenue,
    coalesce(n.new_customers, 0) as new_customers,
    cast({{ to_reporting_currency('d.gross_amount', 'd.currency_code', 'fx.rate_to_reporting') }}
        as {{ type_double() }}) as gross_amount_reporting,
    cast({{ to_reporting_currency('d.refunded_amount', 'd.currency_code', 'fx.rate_to_reporting') }}
        as {{ type_double() }}) as refunded_amount_reporting,
    cast({{ to_reporting_currency('(d.gross_amount - d.refunded_amount)', 'd.currency_code', 'fx.rate_to_reporting') }}
        as {{ type_double() }}) as net_revenue_reporting,
    {{ reporting_currency() }} as reporting_currency
from daily as d
left join first_charges as n
    on n.date_day = d.date_day and n.account_id = d.account_id and n.currency_code = d.currency_code
left join {{ ref('int_fx_rates_daily') }} as fx
    on fx.currency = d.currency_code and fx.date_day = d.date_day
