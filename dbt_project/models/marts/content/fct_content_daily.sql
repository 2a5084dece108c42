{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(in_partition_window('date_day')) }}",
        on_schema_change='append_new_columns',
    )
}}
-- on_schema_change: append_new_columns adds a new column to an existing table (dbt refuses
-- sync_all_columns on a model with an enforced contract).
-- Content base measures per day x content piece (dim_content.content_path), all GA4 properties
-- together. GA4 days are each property's own day; comments and social interactions are
-- KPI_TIMEZONE days.
-- Money: landing_purchase_revenue is in KPI_REPORTING_CURRENCY, each property's revenue converted
-- with the ECB rate of the session day (int_fx_rates_daily). Revenue without a rate is left out and
-- its currency listed in unconverted_revenue_currencies (assert_fx_rate_exists_for_money fails).
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

landing_converted as (
    select
        l.date_day,
        {{ url_path('l.landing_page') }} as content_path,
        l.sessions,
        l.screen_page_views,
        l.purchase_revenue,
        l.currency_code,
        {{ to_reporting_currency('l.purchase_revenue', 'l.currency_code', 'fx.rate_to_reporting') }}
            as revenue_reporting
    from {{ ref('stg_ga4__landing_pages') }} as l
    left join {{ ref('int_fx_rates_daily') }} as fx
        on fx.currency = upper(l.currency_code) and fx.date_day = l.date_day
    where {{ in_partition_window('l.date_day') }}
),

landing as (
    select
        date_day,
        content_path,
        sum(sessions) as landing_sessions,
        sum(screen_page_views) as landing_screen_page_views,
        sum(coalesce(revenue_reporting, 0)) as landing_purchase_revenue,
        string_agg(distinct case when revenue_reporting is null and purchase_revenue <> 0
            then upper(currency_code) end, ',') as unconverted_revenue_currencies
    from landing_converted
    group by date_day, content_path
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
        0 as landing_purchase_revenue, null as unconverted_revenue_currencies
    from pages
    union all
    select date_day, content_path, 0, 0, leads, 0, 0, 0, 0, 0, null from page_leads
    union all
    select date_day, content_path, 0, 0, 0, 0, 0, landing_sessions, landing_screen_page_views,
        landing_purchase_revenue, unconverted_revenue_currencies
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
    cast(sum(m.landing_purchase_revenue) as {{ type_double() }}) as landing_purchase_revenue,
    {{ reporting_currency() }} as currency_code,
    max(m.unconverted_revenue_currencies) as unconverted_revenue_currencies
from measures as m
inner join pieces as p on m.content_path = p.content_path
group by m.date_day, m.content_path
