-- Daily KPI components of content pages, per segment ('all', 'content=<path>').
-- content.content_roi: landing revenue of the day / production cost of the pieces published that
-- day, so a period's value is revenue in the period / cost of pieces published in the period.
-- Both sides are in KPI_REPORTING_CURRENCY: revenue converted at the session day's rate
-- (fct_content_daily), cost at the publish day's rate (dim_content).
-- content.engagement_per_content has a distinct-count denominator: see int_kpi_periods__ratio.
with content as (
    select * from {{ ref('fct_content_daily') }}
),

published as (
    select
        published_date as date_day,
        content_path,
        coalesce(production_cost_reporting, 0) as cost
    from {{ ref('dim_content') }}
    where published_date is not null
),

measures as (
    select date_day, content_path, leads, user_engagement_seconds, views,
        landing_screen_page_views, landing_sessions, landing_purchase_revenue as revenue,
        0 as cost
    from content
    union all
    select date_day, content_path, 0, 0, 0, 0, 0, 0, cost
    from published
),

segmented as (
    select 'all' as segment, * from measures
    union all
    select 'content=' || content_path, * from measures
),

daily as (
    select
        date_day,
        segment,
        sum(leads) as leads,
        sum(user_engagement_seconds) as user_engagement_seconds,
        sum(views) as views,
        sum(landing_screen_page_views) as landing_screen_page_views,
        sum(landing_sessions) as landing_sessions,
        sum(revenue) as revenue,
        sum(cost) as cost
    from segmented
    group by date_day, segment
),

components as (
    select 'content.leads' as kpi_id, segment, date_day,
        leads as numerator, null as denominator
    from daily
    union all
    select 'content.time_on_page', segment, date_day, user_engagement_seconds, views
    from daily
    union all
    select 'content.pages_per_session', segment, date_day, landing_screen_page_views,
        landing_sessions
    from daily
    union all
    select 'content.content_roi', segment, date_day, revenue, cost
    from daily
)

select
    kpi_id,
    segment,
    date_day,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator
from components
