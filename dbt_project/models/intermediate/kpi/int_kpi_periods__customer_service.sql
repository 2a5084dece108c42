-- customer_service.median_response_time: the median first-reply time (calendar minutes) of the
-- tickets created in each day, ISO week and month. A median is not additive, so every period is
-- computed from the ticket rows, never from daily medians. Tickets without a reply are left out
-- (NULL, not 0); a period where none was replied has a NULL value.
with covered as (
    select distinct date_day from {{ ref('stg_zendesk__sync_days') }}
),

tickets as (
    select t.date_day, t.reply_minutes_calendar
    from {{ ref('fct_support_tickets') }} as t
    inner join covered as c on c.date_day = t.date_day
    where not t.is_deleted
),

grains as (
    select 'day' as grain
    union all select 'week'
    union all select 'month'
),

last_day as (
    select max(date_day) as last_observed_day from covered
)

select
    'customer_service.median_response_time' as kpi_id,
    'all' as segment,
    g.grain,
    {{ period_start('g.grain', 't.date_day') }} as period_start,
    cast({{ median('t.reply_minutes_calendar') }} as {{ type_double() }}) as value,
    max(l.last_observed_day) as last_observed_day
from tickets as t
cross join grains as g
cross join last_day as l
group by g.grain, {{ period_start('g.grain', 't.date_day') }}
