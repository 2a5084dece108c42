-- Ratio KPIs whose numerator or denominator is a distinct count, so it cannot be summed from
-- days: computed per period (day / ISO week / month), numerator and denominator kept.
--   content.engagement_per_content = (comments + social_interactions) in the period /
--                                    content pieces with at least one view in the period
with content as (
    select * from {{ ref('fct_content_daily') }}
),

grains as (
    select 'day' as grain
    union all select 'week'
    union all select 'month'
),

last_day as (
    select max(date_day) as last_observed_day from {{ ref('fct_content_daily') }}
),

per_piece as (
    select
        g.grain,
        {{ period_start('g.grain', 'c.date_day') }} as period_start,
        c.content_path,
        sum(c.comments + c.social_interactions) as interactions,
        sum(c.views) > 0 as viewed
    from content as c
    cross join grains as g
    group by 1, 2, 3
),

components as (
    select 'content.engagement_per_content' as kpi_id, 'all' as segment, grain, period_start,
        sum(interactions) as numerator, count(*) filter (where viewed) as denominator
    from per_piece
    group by grain, period_start
    union all
    select 'content.engagement_per_content', 'content=' || content_path, grain, period_start,
        interactions, case when viewed then 1 else 0 end
    from per_piece
)

select
    c.kpi_id,
    c.segment,
    c.grain,
    c.period_start,
    cast(c.numerator as {{ type_double() }}) as numerator,
    cast(c.denominator as {{ type_double() }}) as denominator,
    last_day.last_observed_day
from components as c
cross join last_day
