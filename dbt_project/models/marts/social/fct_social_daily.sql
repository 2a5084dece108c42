{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(in_partition_window('date_day')) }}",
    )
}}
-- Social base measures per day x platform x account. Facebook days are the Page's insights day
-- (Pacific), Instagram and LinkedIn days are UTC days, as each API buckets them.
-- reach is a unique count (never summed over days); followers is the end-of-day count.
with facebook as (
    select * from {{ ref('stg_meta_graph__page_insights') }}
    where {{ in_partition_window('date_day') }}
),

instagram as (
    select * from {{ ref('stg_meta_graph__instagram_insights') }}
    where {{ in_partition_window('date_day') }}
),

linkedin_shares as (
    select * from {{ ref('stg_linkedin__share_statistics') }}
    where {{ in_partition_window('date_day') }}
),

linkedin_followers as (
    select * from {{ ref('stg_linkedin__follower_statistics') }}
    where {{ in_partition_window('date_day') }}
),

-- LinkedIn omits days without activity: a follower row without a share row had 0 impressions.
linkedin as (
    select
        'linkedin' as platform,
        coalesce(s.account_id, f.account_id) as account_id,
        coalesce(s.date_day, f.date_day) as date_day,
        coalesce(s.impressions, 0) as impressions,
        s.reach,
        coalesce(s.engagements, 0) as engagements,
        coalesce(s.link_clicks, 0) as link_clicks,
        f.followers,
        f.follower_gain
    from linkedin_shares as s
    full outer join linkedin_followers as f
        on s.account_id = f.account_id and s.date_day = f.date_day
),

unioned as (
    select platform, account_id, date_day, impressions, reach, engagements, link_clicks,
        followers, follower_gain
    from facebook
    union all
    select platform, account_id, date_day, impressions, reach, engagements, link_clicks,
        followers, follower_gain
    from instagram
    union all
    select platform, account_id, date_day, impressions, reach, engagements, link_clicks,
        followers, follower_gain
    from linkedin
)

select
    date_day,
    platform,
    account_id,
    cast(impressions as {{ dbt.type_bigint() }}) as impressions,
    cast(reach as {{ dbt.type_bigint() }}) as reach,
    cast(engagements as {{ dbt.type_bigint() }}) as engagements,
    cast(link_clicks as {{ dbt.type_bigint() }}) as link_clicks,
    cast(followers as {{ dbt.type_bigint() }}) as followers,
    cast(follower_gain as {{ dbt.type_bigint() }}) as follower_gain
from unioned
