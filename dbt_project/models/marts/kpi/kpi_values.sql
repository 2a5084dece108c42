{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        pre_hook="{{ delete_window(period_overlaps_window('period_start', 'period_end')) }}",
    )
}}
-- Every KPI at every grain (day, ISO week, month) and segment, from the daily components.
-- Ratios are sum(numerator) / sum(denominator) over the period, never an average of daily ratios;
-- snapshots take the last observation; unique counts come from period-level pulls; ratios with a
-- distinct-count side (content pieces viewed) come per period from int_kpi_periods__ratio.
-- is_partial: a source account is missing from the value (social reach and follower growth):
-- shown, never judged by the drift checks.
-- Incremental: a run rebuilds every period that overlaps its partition window.
with catalog as (
    select * from {{ ref('stg_kpi__catalog') }}
),

components as (
    select * from {{ ref('int_kpi_daily') }}
    where {{ in_kpi_period_window('date_day') }}
),

grains as (
    select 'day' as grain
    union all select 'week'
    union all select 'month'
),

bucketed as (
    select
        c.kpi_id,
        c.segment,
        g.grain,
        {{ period_start('g.grain', 'c.date_day') }} as period_start,
        c.date_day,
        c.numerator,
        c.denominator
    from components as c
    cross join grains as g
),

ranked as (
    select
        *,
        row_number() over (
            partition by kpi_id, segment, grain, period_start order by date_day desc
        ) as recency
    from bucketed
),

rolled as (
    select
        kpi_id,
        segment,
        grain,
        period_start,
        sum(numerator) as numerator_sum,
        sum(denominator) as denominator_sum,
        max(case when recency = 1 then numerator end) as last_value,
        count(*) as days_observed,
        max(date_day) as last_observed_day
    from ranked
    group by kpi_id, segment, grain, period_start
),

additive as (
    select
        r.kpi_id,
        r.grain,
        r.period_start,
        {{ period_end('r.grain', 'r.period_start') }} as period_end,
        r.segment,
        case k.aggregation
            when 'sum' then r.numerator_sum
            when 'snapshot' then r.last_value
            else {{ safe_divide('r.numerator_sum', 'r.denominator_sum') }}
        end as value,
        case when k.aggregation in ('ratio', 'weighted_avg') then r.numerator_sum end as numerator,
        case when k.aggregation in ('ratio', 'weighted_avg') then r.denominator_sum end
            as denominator,
        r.days_observed,
        false as is_partial,
        r.last_observed_day
    from rolled as r
    inner join catalog as k on r.kpi_id = k.kpi_id
    where k.aggregation in ('sum', 'ratio', 'weighted_avg', 'snapshot')
),

uniques as (
    select
        u.kpi_id,
        u.grain,
        u.period_start,
        {{ period_end('u.grain', 'u.period_start') }} as period_end,
        u.segment,
        u.value,
        cast(null as {{ type_double() }}) as numerator,
        cast(null as {{ type_double() }}) as denominator,
        cast(null as {{ dbt.type_bigint() }}) as days_observed,
        u.is_partial,
        u.last_observed_day
    from {{ ref('int_kpi_periods__unique') }} as u
),

period_ratios as (
    select
        p.kpi_id,
        p.grain,
        p.period_start,
        {{ period_end('p.grain', 'p.period_start') }} as period_end,
        p.segment,
        {{ safe_divide('p.numerator', 'p.denominator') }} as value,
        p.numerator,
        p.denominator,
        cast(null as {{ dbt.type_bigint() }}) as days_observed,
        false as is_partial,
        p.last_observed_day
    from {{ ref('int_kpi_periods__ratio') }} as p
),

unioned as (
    select * from additive
    union all
    select * from uniques
    union all
    select * from period_ratios
)

select
    u.kpi_id,
    k.channel,
    u.grain,
    u.period_start,
    u.period_end,
    u.segment,
    cast(u.value as {{ type_double() }}) as value,
    cast(u.numerator as {{ type_double() }}) as numerator,
    cast(u.denominator as {{ type_double() }}) as denominator,
    k.unit,
    k.aggregation,
    cast(u.days_observed as {{ dbt.type_bigint() }}) as days_observed,
    coalesce(u.last_observed_day >= u.period_end, false) as is_period_complete,
    coalesce(u.is_partial, false) as is_partial
from unioned as u
inner join catalog as k on u.kpi_id = k.kpi_id
where {{ period_overlaps_window('u.period_start', 'u.period_end') }}
