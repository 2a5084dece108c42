-- Daily KPI components from Zendesk, for every day the account was pulled for. Tickets count on
-- the day they were created (their state now); ratings on the day they were created.
with support as (
    select
        date_day,
        sum(tickets_created) as tickets_created,
        sum(tickets_resolved) as tickets_resolved,
        sum(tickets_replied) as tickets_replied,
        sum(reply_minutes_sum) as reply_minutes_sum,
        sum(ratings_good) as ratings_good,
        sum(ratings_bad) as ratings_bad
    from {{ ref('fct_support_daily') }}
    group by date_day
),

components as (
    select 'customer_service.csat' as kpi_id, 'all' as segment, date_day,
        ratings_good as numerator, ratings_good + ratings_bad as denominator
    from support
    union all
    select 'customer_service.avg_response_time', 'all', date_day, reply_minutes_sum, tickets_replied
    from support
    union all
    select 'customer_service.resolved_share', 'all', date_day, tickets_resolved, tickets_created
    from support
)

select
    kpi_id,
    segment,
    date_day,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator
from components
