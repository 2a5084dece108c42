-- Social KPIs that are not additive over days, per period (day / ISO week / month):
--   social.reach            'unique': daily reach; a week or month is the AVERAGE DAILY REACH of
--                           its days with reach reported (the documented fallback: the APIs give
--                           no deduplicated reach for calendar weeks and months). Accounts are
--                           summed within a day (different platforms: different audiences). A
--                           day where an account of the segment reports no reach is partial.
--   social.follower_growth  'snapshot': followers at the period's end (its last day, or the last
--                           observed day for the running period) minus followers at the end of
--                           the previous period, summed over the accounts known at both ends. A
--                           period where an account is unknown at either end (Instagram keeps 30
--                           days of follower counts; data starting mid-period) is partial.
-- is_partial: some account of the segment is missing from the value (never silently shrunk).
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

accounts as (
    select distinct platform, account_id from social
),

segment_accounts as (
    select 'all' as segment, platform, account_id from accounts
    union all
    select 'platform=' || platform, platform, account_id from accounts
),

segment_days as (
    select distinct a.segment, s.date_day
    from social as s
    cross join (select distinct segment from segment_accounts) as a
),

reach_daily as (
    select
        d.segment,
        d.date_day,
        sum(s.reach) as reach,
        count(s.reach) < count(*) as is_partial
    from segment_days as d
    inner join segment_accounts as a on a.segment = d.segment
    left join social as s
        on s.platform = a.platform and s.account_id = a.account_id and s.date_day = d.date_day
    group by d.segment, d.date_day
    having count(s.reach) > 0
),

reach as (
    select
        'social.reach' as kpi_id,
        r.segment,
        g.grain,
        {{ period_start('g.grain', 'r.date_day') }} as period_start,
        avg(r.reach) as value,
        bool_or(r.is_partial) as is_partial
    from reach_daily as r
    cross join grains as g
    group by 2, 3, 4
),

account_periods as (
    select
        s.platform,
        s.account_id,
        g.grain,
        {{ period_start('g.grain', 's.date_day') }} as period_start,
        min(s.date_day) as first_day,
        max(s.date_day) as last_day,
        {{ last_by('s.followers', 's.date_day') }}
            - {{ first_by('s.followers - s.follower_gain', 's.date_day') }} as growth
    from social as s
    cross join grains as g
    where s.followers is not null
    group by 1, 2, 3, 4
),

periods as (
    select distinct g.grain, {{ period_start('g.grain', 's.date_day') }} as period_start
    from social as s
    cross join grains as g
),

account_growth as (
    -- every account in every period: known when observed on the period's first day (which
    -- gives the previous period's end) and on its last day (or the last observed day)
    select
        a.segment,
        p.grain,
        p.period_start,
        ap.growth,
        coalesce(
            ap.first_day = p.period_start
            and ap.last_day >= least({{ period_end('p.grain', 'p.period_start') }}, l.last_observed_day),
            false
        ) as is_known
    from periods as p
    cross join segment_accounts as a
    cross join last_day as l
    left join account_periods as ap
        on ap.platform = a.platform and ap.account_id = a.account_id
        and ap.grain = p.grain and ap.period_start = p.period_start
),

growth as (
    select
        'social.follower_growth' as kpi_id,
        segment,
        grain,
        period_start,
        sum(case when is_known then growth end) as value,
        bool_or(not is_known) as is_partial
    from account_growth
    group by segment, grain, period_start
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
    u.is_partial,
    last_day.last_observed_day
from unioned as u
cross join last_day
