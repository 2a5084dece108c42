-- Daily KPI components from Stripe, for every day whose charges were pulled (a day without
-- charges is a real 0). Money in the reporting currency.
with days as (
    select distinct date_day from {{ ref('stg_stripe__sync_days') }}
),

sales as (
    select
        date_day,
        sum(net_revenue_reporting) as net_revenue,
        sum(gross_amount_reporting) as gross_amount,
        sum(succeeded_charges) as succeeded_charges,
        sum(new_customers) as new_customers
    from {{ ref('fct_sales_daily') }}
    group by date_day
),

daily as (
    select
        d.date_day,
        coalesce(s.net_revenue, 0) as net_revenue,
        coalesce(s.gross_amount, 0) as gross_amount,
        coalesce(s.succeeded_charges, 0) as succeeded_charges,
        coalesce(s.new_customers, 0) as new_customers
    from days as d
    left join sales as s on s.date_day = d.date_day
),

components as (
    select 'sales.revenue' as kpi_id, 'all' as segment, date_day,
        net_revenue as numerator, cast(null as {{ type_double() }}) as denominator
    from daily
    union all
    select 'sales.new_customers', 'all', date_day, new_customers, null
    from daily
    union all
    select 'sales.avg_transaction_value', 'all', date_day, gross_amount, succeeded_charges
    from daily
)

select
    kpi_id,
    segment,
    date_day,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator
from components
