-- Daily KPI components from SEO sources (fct_seo_daily):
--   seo.keyword_rankings  sum(position x impressions) / sum(impressions), tracked keywords
--   seo.page_load_time    sum(mobile lab LCP seconds) / URLs measured (each URL-day weight 1)
--   seo.backlinks         live backlinks (snapshot: the period's last observation)
--   seo.search_*          Search Console property totals (anonymized queries included)
with seo as (
    select * from {{ ref('fct_seo_daily') }}
),

components as (
    select 'seo.keyword_rankings' as kpi_id, 'all' as segment, date_day,
        tracked_position_x_impressions as numerator, tracked_impressions as denominator
    from seo
    where tracked_impressions is not null
    union all
    select 'seo.page_load_time', 'all', date_day, lcp_mobile_seconds_sum, lcp_mobile_urls_measured
    from seo
    where lcp_mobile_urls_measured > 0
    union all
    select 'seo.backlinks', 'all', date_day, live_backlinks, null
    from seo
    where live_backlinks is not null
    union all
    select 'seo.search_clicks', 'all', date_day, search_clicks, null
    from seo
    where search_impressions is not null
    union all
    select 'seo.search_impressions', 'all', date_day, search_impressions, null
    from seo
    where search_impressions is not null
    union all
    select 'seo.search_ctr', 'all', date_day, search_clicks, search_impressions
    from seo
    where search_impressions is not null
)

select
    kpi_id,
    segment,
    date_day,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator
from components
