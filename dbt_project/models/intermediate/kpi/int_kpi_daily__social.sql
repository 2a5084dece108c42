-- Daily KPI components from social insights and mentions, per segment: 'all', 'platform=<x>'
-- (facebook, instagram, linkedin) and, for share of voice, 'source=<x>' (the listening source).
-- social.ctr only counts accounts that report link clicks (Facebook Pages do not): their
-- impressions are left out of the denominator too. Reach and follower growth are not additive
-- over days: they come per period from int_kpi_periods__social.
with social as (
    select * from {{ ref('fct_social_daily') }}
),

mentions as (
    select * from {{ ref('fct_share_of_voice_daily') }}
),

social_segmented as (
    select date_day, 'all' as segment, impressions, engagements, link_clicks,
        case when link_clicks is not null then impressions end as click_impressions
    from social
    union all
    select date_day, 'platform=' || platform, impressions, engagements, link_clicks,
        case when link_clicks is not null then impressions end
    from social
),

social_daily as (
    select
        date_day,
        segment,
        sum(impressions) as impressions,
        sum(engagements) as engagements,
        coalesce(sum(link_clicks), 0) as link_clicks,
        coalesce(sum(click_impressions), 0) as click_impressions
    from social_segmented
    group by date_day, segment
),

mentions_segmented as (
    select date_day, 'all' as segment, is_brand, mentions from mentions
    union all
    select date_day, 'source=' || source, is_brand, mentions from mentions
),

mentions_daily as (
    select
        date_day,
        segment,
        sum(case when is_brand then mentions else 0 end) as brand_mentions,
        sum(mentions) as all_mentions
    from mentions_segmented
    group by date_day, segment
),

components as (
    select 'social.engagement_rate' as kpi_id, segment, date_day,
        engagements as numerator, impressions as denominator
    from social_daily
    union all
    select 'social.ctr', segment, date_day, link_clicks, click_impressions
    from social_daily
    where segment <> 'platform=facebook'
    union all
    select 'social.share_of_voice', segment, date_day, brand_mentions, all_mentions
    from mentions_daily
)

select
    kpi_id,
    segment,
    date_day,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator
from components
