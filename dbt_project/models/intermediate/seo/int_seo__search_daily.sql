-- Search Console per site and day: the property totals (clicks, impressions, the
-- impression-weighted position over every query, anonymized ones included) and the tracked-keyword
-- components from the query rows. Keywords match queries exactly, ignoring case; with no keyword
-- configured every query row counts. Position is always weighted by impressions, never averaged.
with totals as (
    select * from {{ ref('stg_search_console__totals') }}
),

queries as (
    select * from {{ ref('stg_search_console__queries') }}
),

keywords as (
    select keyword_normalized from {{ ref('stg_search_console__tracked_keywords') }}
),

tracked as (
    select
        q.site_url,
        q.date_day,
        sum(q.clicks) as tracked_clicks,
        sum(q.impressions) as tracked_impressions,
        sum(q.position * q.impressions) as tracked_position_x_impressions,
        bool_or(q.is_provisional) as is_provisional
    from queries as q
    where not exists (select 1 from keywords)
        or lower(trim(q.query)) in (select keyword_normalized from keywords)
    group by q.site_url, q.date_day
),

site_days as (
    select site_url, date_day from totals
    union
    select site_url, date_day from tracked
)

select
    d.site_url,
    d.date_day,
    t.clicks,
    t.impressions,
    cast(t.position * t.impressions as {{ type_double() }}) as position_x_impressions,
    k.tracked_clicks,
    k.tracked_impressions,
    cast(k.tracked_position_x_impressions as {{ type_double() }}) as tracked_position_x_impressions,
    coalesce(t.is_provisional, false) or coalesce(k.is_provisional, false) as is_provisional
from site_days as d
left join totals as t on d.site_url = t.site_url and d.date_day = t.date_day
left join tracked as k on d.site_url = k.site_url and d.date_day = k.date_day
