{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(in_partition_window('date_day')) }}",
    )
}}
-- SEO base measures per day, company-wide: Search Console (its own Pacific-time day; every site),
-- tracked-keyword position, PageSpeed LCP of the tracked URLs (mobile) and backlinks.
-- Positions are impression-weighted: the *_x_impressions columns are the weighted numerators.
with search as (
    select
        date_day,
        sum(clicks) as search_clicks,
        sum(impressions) as search_impressions,
        sum(position_x_impressions) as position_x_impressions,
        sum(tracked_clicks) as tracked_clicks,
        sum(tracked_impressions) as tracked_impressions,
        sum(tracked_position_x_impressions) as tracked_position_x_impressions,
        bool_or(is_provisional) as is_search_provisional
    from {{ ref('int_seo__search_daily') }}
    where {{ in_partition_window('date_day') }}
    group by date_day
),

speed as (
    select
        date_day,
        count(*) filter (where strategy = 'mobile' and status = 'ok') as lcp_mobile_urls_measured,
        sum(lcp_seconds) filter (where strategy = 'mobile' and status = 'ok') as lcp_mobile_seconds_sum,
        avg(performance_score) filter (where strategy = 'mobile' and status = 'ok')
            as performance_score_mobile,
        count(*) filter (where status = 'failed') as page_speed_runs_failed
    from {{ ref('fct_seo_page_speed_daily') }}
    where {{ in_partition_window('date_day') }}
    group by date_day
),

links as (
    select
        date_day,
        sum(live_backlinks) as live_backlinks,
        sum(live_referring_domains) as live_referring_domains
    from {{ ref('stg_backlinks__daily') }}
    where {{ in_partition_window('date_day') }}
    group by date_day
),

days as (
    select date_day from search
    union
    select date_day from speed
    union
    select date_day from links
)

select
    d.date_day,
    cast(s.search_clicks as {{ dbt.type_bigint() }}) as search_clicks,
    cast(s.search_impressions as {{ dbt.type_bigint() }}) as search_impressions,
    {{ safe_divide('s.search_clicks', 's.search_impressions') }} as search_ctr,
    s.position_x_impressions,
    {{ safe_divide('s.position_x_impressions', 's.search_impressions') }} as avg_position,
    cast(s.tracked_clicks as {{ dbt.type_bigint() }}) as tracked_clicks,
    cast(s.tracked_impressions as {{ dbt.type_bigint() }}) as tracked_impressions,
    s.tracked_position_x_impressions,
    {{ safe_divide('s.tracked_position_x_impressions', 's.tracked_impressions') }}
        as tracked_keyword_position,
    coalesce(s.is_search_provisional, false) as is_search_provisional,
    p.lcp_mobile_urls_measured,
    p.lcp_mobile_seconds_sum,
    {{ safe_divide('p.lcp_mobile_seconds_sum', 'p.lcp_mobile_urls_measured') }} as avg_lcp_seconds_mobile,
    p.performance_score_mobile,
    p.page_speed_runs_failed,
    cast(l.live_backlinks as {{ dbt.type_bigint() }}) as live_backlinks,
    cast(l.live_referring_domains as {{ dbt.type_bigint() }}) as live_referring_domains
from days as d
left join search as s on d.date_day = s.date_day
left join speed as p on d.date_day = p.date_day
left join links as l on d.date_day = l.date_day
