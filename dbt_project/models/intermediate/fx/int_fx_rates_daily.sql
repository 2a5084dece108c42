{{ config(materialized='table') }}
-- One rate per currency and calendar day: units of the reporting currency per one unit of
-- `currency`. Weekend and holiday gaps take the last published rate (never a silent 1.0).
with rates as (
    select currency, rate_date, units_per_eur from {{ ref('stg_fx__ecb_rates') }}
    union all
    -- the euro is 1 per euro on every publication day
    select distinct 'EUR', rate_date, 1.0 from {{ ref('stg_fx__ecb_rates') }}
),

bounds as (
    select
        min(rate_date) as first_day,
        greatest(max(rate_date), current_date) as last_day
    from rates
),

digits as (
    select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
    union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
),

offsets as (
    select a.d + 10 * b.d + 100 * c.d + 1000 * e.d as n
    from digits as a cross join digits as b cross join digits as c cross join digits as e
),

days as (
    select cast({{ dbt.dateadd('day', 'o.n', 'b.first_day') }} as date) as date_day
    from offsets as o
    cross join bounds as b
    where o.n <= {{ dbt.datediff('b.first_day', 'b.last_day', 'day') }}
),

currencies as (
    select distinct currency from rates
),

latest as (
    select d.date_day, c.currency, max(r.rate_date) as rate_date
    from days as d
    cross join currencies as c
    inner join rates as r on r.currency = c.currency and r.rate_date <= d.date_day
    group by d.date_day, c.currency
),

per_eur as (
    select l.date_day, l.currency, l.rate_date, r.units_per_eur
    from latest as l
    inner join rates as r on r.currency = l.currency and r.rate_date = l.rate_date
)

select
    c.date_day,
    c.currency,
    c.rate_date as published_on,
    {{ safe_divide('rep.units_per_eur', 'c.units_per_eur') }} as rate_to_reporting,
    {{ reporting_currency() }} as reporting_currency
from per_eur as c
inner join per_eur as rep
    on rep.date_day = c.date_day and rep.currency = {{ reporting_currency() }}
