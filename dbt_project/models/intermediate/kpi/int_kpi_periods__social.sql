-- Social KPIs that are not additive over days, per period (day / ISO week / month):
--   social.reach            'unique': daily reach; a week or month is the AVERAGE DAILY REACH of
--                           its days with reach reported (the documented fallback: the APIs give
--                           no deduplicated reach for calendar weeks and months). Accounts are
--                           summed within a day (different platforms: different audiences).
--   social.follower_growth  'snapshot': followers at the period's last observed day minus
--                           followers at the end of the day before its first observed day
--                           (= end of the previous period when the period is fully observed).
--                           Summed over accounts that report followers.
with social as (
    select * from {{ ref('fct_social_daily') }}
),

grains as (
    select 'day' as grain
    union all select 'week'
    union all select 'month'
),

last_day as (
    select max(date_day) as last_observed_day from {{ ref('fct_social_daily') }}
),

reach_daily as (
    select date_day, 'all' as segment, sum(reach) as reach
    from social where reach is not null
    group by date_day
    union all
    select date_day, 'platform=' || platform, sum(reach)
    from social where reach is not null
    group by date_day, platform
),

reach as (
    select
        'social.reach' as kpi_id,
        r.segment,
        g.grain,
        {{ period_start('g.grain', 'r.date_day') }} as period_start,
        avg(r.reach) as value
    from reach_daily as r
    cross join grains as g
    group by 2, 3, 4
),

account_growth as (
    select
        s.platform,
        s.account_id,
        g.grain,
        {{ period_start('g.grain', 's.date_day') }} as period_start,
        {{ last_by('s.followers', 's.date_day') }}
            - {{ first_by('s.followers - s.follower_gain', 's.date_day') }} as growth
    from social as s
    cross join grains as g
    where s.followers is not null
    group by 1, 2, 3, 4
),

growth as (
    select 'social.follower_growth' as kpi_id, 'all' as segment, grain, period_start,
        sum(growth) as value
    from account_growth
    group by grain, period_start
    union all
    select 'social.follower_growth', 'platform=' || platform, grain, period_start, sum(growth)
    from account_growth
    group by platform, grain, period_start
),

unioned as (
    select * from reach
    union all
    select * from growth
)

select
    u.kpi_id,
    u.segment,
    u.grain,
    u.period_start,
    cast(u.value as {{ type_double() }}) as value,
    last_day.last_observed_day
from unioned as u
cross join last_day
