-- Daily KPI components from web analytics: one row per KPI x segment x day with the numerator
-- and denominator (sum KPIs: the measure as numerator). kpi_values rolls them up per period.
with traffic as (
    select * from {{ ref('fct_web_traffic_daily') }}
),

segmented as (
    select
        date_day,
        'all' as segment,
        channel_group,
        sessions,
        engaged_sessions,
        key_events
    from traffic
    union all
    select
        date_day,
        'channel_group=' || channel_group as segment,
        channel_group,
        sessions,
        engaged_sessions,
        key_events
    from traffic
    union all
    select
        date_day,
        'property=' || property_id as segment,
        channel_group,
        sessions,
        engaged_sessions,
        key_events
    from traffic
),

daily as (
    select
        date_day,
        segment,
        sum(sessions) as sessions,
        sum(engaged_sessions) as engaged_sessions,
        sum(key_events) as key_events,
        sum(case when channel_group = 'Organic Search' then sessions else 0 end) as organic_sessions,
        sum(case when channel_group = 'Organic Search' then engaged_sessions else 0 end)
            as organic_engaged_sessions
    from segmented
    group by date_day, segment
),

components as (
    select 'digital.site_traffic' as kpi_id, segment, date_day,
        sessions as numerator, cast(null as {{ type_double() }}) as denominator
    from daily
    union all
    select 'marketing.site_traffic', segment, date_day, sessions, null
    from daily
    union all
    select 'digital.bounce_rate', segment, date_day, sessions - engaged_sessions, sessions
    from daily
    union all
    select 'digital.conversion_rate', segment, date_day, key_events, sessions
    from daily
    union all
    select 'seo.organic_traffic', segment, date_day, organic_sessions, null
    from daily
    where segment not like 'channel_group=%'
    union all
    select 'seo.bounce_rate', segment, date_day,
        organic_sessions - organic_engaged_sessions, organic_sessions
    from daily
    where segment not like 'channel_group=%'
)

select
    kpi_id,
    segment,
    date_day,
    cast(numerator as {{ type_double() }}) as numerator,
    cast(denominator as {{ type_double() }}) as denominator
from components
