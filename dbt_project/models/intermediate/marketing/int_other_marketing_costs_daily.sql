-- Other marketing costs per day: each month's amount spread evenly over the days of its month,
-- converted to the reporting currency with the ECB rate of the day (NULL when the rate is missing;
-- assert_fx_rate_exists_for_money fails then). Reused by digital.roi and marketing.cost_per_lead.
with monthly as (
    select * from {{ ref('stg_marketing_costs__monthly') }}
),

offsets as (
    select a.d + 10 * b.d as n
    from (
        select 0 as d union all select 1 union all select 2 union all select 3
        union all select 4 union all select 5 union all select 6 union all select 7
        union all select 8 union all select 9
    ) as a
    cross join (select 0 as d union all select 1 union all select 2 union all select 3) as b
),

days as (
    select
        m.month_start,
        cast({{ dbt.dateadd('day', 'o.n', 'm.month_start') }} as date) as date_day,
        m.category,
        m.currency,
        m.amount as month_amount,
        {{ dbt.datediff('m.month_start', dbt.dateadd('month', 1, 'm.month_start'), 'day') }}
            as days_in_month
    from monthly as m
    cross join offsets as o
    where o.n < {{ dbt.datediff('m.month_start', dbt.dateadd('month', 1, 'm.month_start'), 'day') }}
)

select
    d.date_day,
    d.month_start,
    d.category,
    cast(d.month_amount as {{ type_double() }}) / d.days_in_month as amount,
    d.currency,
    cast(
        {{ to_reporting_currency('cast(d.month_amount as ' ~ type_double() ~ ') / d.days_in_month', 'd.currency', 'fx.rate_to_reporting') }}
        as {{ type_double() }}
    ) as amount_reporting,
    {{ reporting_currency() }} as reporting_currency
from days as d
left join {{ ref('int_fx_rates_daily') }} as fx
    on fx.currency = d.currency and fx.date_day = d.date_day
