{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(in_partition_window('date_day')) }}",
    )
}}
-- Content base measures per day x content piece (dim_content.content_path), all GA4 properties
-- together. GA4 days are each property's own day; comments and social interactions are
-- KPI_TIMEZONE days.
-- Money: landing_purchase_revenue counts only properties whose currency is KPI_REPORTING_CURRENCY
-- (no FX model yet); the currencies left out are listed in excluded_revenue_currencies.
with pieces as (
    select content_path from {{ ref('dim_content') }}
),

pages as (
    select date_day, {{ url_path('page_path') }} as content_path,
        sum(screen_page_views) as views, sum(user_engagement_seconds) as user_engagement_seconds
    from {{ ref('stg_ga4__pages') }}
    where {{ in_partition_window('date_day') }}
    group by 1, 2
),

page_leads as (
    select date_day, {{ url_path('page_path') }} as content_path, sum(leads) as leads
    from {{ ref('stg_ga4__page_leads') }}
    where {{ in_partition_window('date_day') }}
    group by 1, 2
),

landing as (
    select
        date_day,
        {{ url_path('landing_page') }} as content_path,
        sum(sessions) as landing_sessions,
        sum(screen_page_views) as landing_screen_page_views,
        sum(case when currency_code = {{ reporting_currency() }} then purchase_revenue else 0 end)
            as landing_purchase_revenue,
        string_agg(distinct case when currency_code <> {{ reporting_currency() }}
            and purchase_revenue <> 0 then currency_code end, ',') as excluded_revenue_currencies
    from {{ ref('stg_ga4__landing_pages') }}
    where {{ in_partition_window('date_day') }}
    group by 1, 2
),

comments as (
    select c.comment_date as date_day, p.content_path, count(*) as comments
    from {{ ref('stg_wordpress__comments') }} as c
    inner join {{ ref('stg_wordpress__posts') }} as p on c.site = p.site and c.post_id = p.post_id
    where {{ in_partition_window('c.comment_date') }}
    group by 1, 2
),

social as (
    select mention_date as date_day, {{ url_path('linked_url') }} as content_path,
        count(*) as social_interactions
    from {{ ref('stg_mentions__mentions') }}
    where linked_url is not null and {{ in_partition_window('mention_date') }}
    group by 1, 2
),

measures as (
    select date_day, content_path, views, user_engagement_seconds, 0 as leads, 0 as comments,
        0 as social_interactions, 0 as landing_sessions, 0 as landing_screen_page_views,
        0 as landing_purchase_revenue, null as excluded_revenue_currencies
    from pages
    union all
    select date_day, content_path, 0, 0, leads, 0, 0, 0, 0, 0, null from page_leads
    union all
    select date_day, content_path, 0, 0, 0, 0, 0, landing_sessions, landing_screen_page_views,
        landing_purchase_revenue, excluded_revenue_currencies
    from landing
    union all
    select date_day, content_path, 0, 0, 0, comments, 0, 0, 0, 0, null from comments
    union all
    select date_day, content_path, 0, 0, 0, 0, social_interactions, 0, 0, 0, null from social
)

select
    m.date_day,
    m.content_path,
    cast(sum(m.views) as {{ dbt.type_bigint() }}) as views,
    cast(sum(m.user_engagement_seconds) as {{ type_double() }}) as user_engagement_seconds,
    cast(sum(m.leads) as {{ dbt.type_bigint() }}) as leads,
    cast(sum(m.comments) as {{ dbt.type_bigint() }}) as comments,
    cast(sum(m.social_interactions) as {{ dbt.type_bigint() }}) as social_interactions,
    cast(sum(m.landing_sessions) as {{ dbt.type_bigint() }}) as landing_sessions,
    cast(sum(m.landing_screen_page_views) as {{ dbt.type_bigint() }}) as landing_screen_page_views,
    cast(sum(m.landing_purchase_revenue) as decimal(18, 2)) as landing_purchase_revenue,
    {{ reporting_currency() }} as currency_code,
    max(m.excluded_revenue_currencies) as excluded_revenue_currencies
from measures as m
inner join pieces as p on m.content_path = p.content_path
group by m.date_day, m.content_path
