-- Target pacing of every KPI x segment x grain that has a target, for each of its periods and each
-- day of the period that has data ("as of" that day): actual to date, expected to date, gap,
-- projected end-of-period value and status. kpi_status keeps each period's latest day; the
-- `<kpi>__target` asset checks read these daily rows (two consecutive evaluated days).
-- A sum KPI whose data starts after its period starts has insufficient data (a partial sum).
--
-- Pacing: sum (and unique) KPIs expect the target prorated by the days elapsed, each day weighted
-- by the KPI's mean on that weekday over the 8 weeks before the period when every weekday has at
-- least 3 observations (else every day weighs 1); ratio, weighted and snapshot KPIs compare the
-- period-to-date value (sum/sum) with the target directly. Direction comes from the catalog.
-- Rebuilt in full every run: small (targeted KPIs only) and always consistent with the targets.
with catalog as (
    select * from {{ ref('stg_kpi__catalog') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

targeted as (
    select distinct kpi_id, segment, grain from targets
),

periods as (
    select
        v.kpi_id,
        v.segment,
        v.grain,
        v.period_start,
        v.period_end,
        v.value as period_value
    from {{ ref('kpi_values') }} as v
    inner join targeted as t
        on v.kpi_id = t.kpi_id and v.segment = t.segment and v.grain = t.grain
),

period_targets as (
    select
        p.*,
        t.target_value,
        t.warn_tolerance,
        t.error_tolerance,
        t.owner,
        t.note,
        t.source_line
    from periods as p
    left join targets as t
        on p.kpi_id = t.kpi_id
        and p.segment = t.segment
        and p.grain = t.grain
        and p.period_start >= t.effective_from
        and p.period_start <= coalesce(t.effective_to, cast('9999-12-31' as date))
),

daily as (
    select
        kpi_id,
        segment,
        period_start as date_day,
        value,
        coalesce(numerator, value) as numerator,
        denominator
    from {{ ref('kpi_values') }}
    where grain = 'day'
),

to_date as (
    select
        pt.kpi_id,
        pt.segment,
        pt.grain,
        pt.period_start,
        pt.period_end,
        pt.period_value,
        pt.target_value,
        pt.warn_tolerance,
        pt.error_tolerance,
        pt.owner,
        pt.note,
        pt.source_line,
        d.date_day as as_of_day,
        d.value as day_value,
        sum(d.numerator) over (
            partition by pt.kpi_id, pt.segment, pt.grain, pt.period_start
            order by d.date_day rows between unbounded preceding and current row
        ) as numerator_to_date,
        sum(d.denominator) over (
            partition by pt.kpi_id, pt.segment, pt.grain, pt.period_start
            order by d.date_day rows between unbounded preceding and current row
        ) as denominator_to_date,
        count(*) over (
            partition by pt.kpi_id, pt.segment, pt.grain, pt.period_start
            order by d.date_day rows between unbounded preceding and current row
        ) as days_observed,
        max(d.date_day) over (
            partition by pt.kpi_id, pt.segment, pt.grain, pt.period_start
        ) as last_observed_day,
        min(d.date_day) over (
            partition by pt.kpi_id, pt.segment, pt.grain, pt.period_start
        ) as first_observed_day
    from period_targets as pt
    inner join daily as d
        on pt.kpi_id = d.kpi_id
        and pt.segment = d.segment
        and d.date_day >= pt.period_start
        and d.date_day <= pt.period_end
),

paced_periods as (
    select distinct p.kpi_id, p.segment, p.grain, p.period_start, p.period_end
    from period_targets as p
    inner join catalog as k on p.kpi_id = k.kpi_id
    where k.aggregation in ('sum', 'unique') and p.target_value is not null
),

history as (
    select
        p.kpi_id,
        p.segment,
        p.grain,
        p.period_start,
        {{ day_of_week('d.date_day') }} as weekday,
        avg(d.numerator) as mean_value,
        count(*) as observations
    from paced_periods as p
    inner join daily as d
        on p.kpi_id = d.kpi_id
        and p.segment = d.segment
        and d.date_day >= cast({{ dbt.dateadd('day', -56, 'p.period_start') }} as date)
        and d.date_day < p.period_start
    where d.numerator is not null
    group by p.kpi_id, p.segment, p.grain, p.period_start, {{ day_of_week('d.date_day') }}
),

patterns as (
    select kpi_id, segment, grain, period_start
    from history
    group by kpi_id, segment, grain, period_start
    having count(*) = 7 and min(observations) >= 3 and min(mean_value) > 0
),

offsets as (
    select generated_number - 1 as day_offset
    from ({{ dbt.generate_series(31) }}) as series
),

period_days as (
    select
        p.kpi_id,
        p.segment,
        p.grain,
        p.period_start,
        cast({{ dbt.dateadd('day', 'o.day_offset', 'p.period_start') }} as date) as date_day
    from paced_periods as p
    inner join offsets as o
        on o.day_offset <= {{ dbt.datediff('p.period_start', 'p.period_end', 'day') }}
),

weighted_days as (
    select
        pd.kpi_id,
        pd.segment,
        pd.grain,
        pd.period_start,
        pd.date_day,
        coalesce(h.mean_value, 1.0) as weight
    from period_days as pd
    left join patterns as pt
        on pd.kpi_id = pt.kpi_id
        and pd.segment = pt.segment
        and pd.grain = pt.grain
        and pd.period_start = pt.period_start
    left join history as h
        on pt.kpi_id = h.kpi_id
        and pt.segment = h.segment
        and pt.grain = h.grain
        and pt.period_start = h.period_start
        and h.weekday = {{ day_of_week('pd.date_day') }}
),

cumulative_weights as (
    select
        kpi_id,
        segment,
        grain,
        period_start,
        date_day,
        sum(weight) over (
            partition by kpi_id, segment, grain, period_start
            order by date_day rows between unbounded preceding and current row
        ) as elapsed_weight,
        sum(weight) over (partition by kpi_id, segment, grain, period_start) as period_weight
    from weighted_days
),

paced as (
    select
        td.*,
        k.channel,
        k.unit,
        k.direction,
        k.aggregation,
        coalesce(k.min_denominator, 0) as min_denominator,
        {{ dbt.datediff('td.period_start', 'td.as_of_day', 'day') }} + 1 as day_of_period,
        {{ dbt.datediff('td.period_start', 'td.period_end', 'day') }} + 1 as days_in_period,
        case
            when k.aggregation not in ('sum', 'unique') then 'direct'
            when pt.kpi_id is not null then 'weekday_weighted'
            else 'calendar_days'
        end as pacing,
        case when k.aggregation in ('sum', 'unique') then cw.elapsed_weight else 1.0 end
            as elapsed_weight,
        case when k.aggregation in ('sum', 'unique') then cw.period_weight else 1.0 end
            as period_weight,
        case
            when k.aggregation = 'sum' then td.numerator_to_date
            when k.aggregation = 'snapshot' then td.day_value
            when k.aggregation = 'unique'
                then case when td.as_of_day = td.last_observed_day then td.period_value end
            else {{ safe_divide('td.numerator_to_date', 'td.denominator_to_date') }}
        end as actual
    from to_date as td
    inner join catalog as k on td.kpi_id = k.kpi_id
    left join cumulative_weights as cw
        on td.kpi_id = cw.kpi_id
        and td.segment = cw.segment
        and td.grain = cw.grain
        and td.period_start = cw.period_start
        and td.as_of_day = cw.date_day
    left join patterns as pt
        on td.kpi_id = pt.kpi_id
        and td.segment = pt.segment
        and td.grain = pt.grain
        and td.period_start = pt.period_start
),

expected as (
    select
        *,
        {{ safe_divide('target_value * elapsed_weight', 'period_weight') }} as expected_to_date,
        {{ safe_divide('actual * period_weight', 'elapsed_weight') }} as projected
    from paced
),

gaps as (
    select
        *,
        actual - expected_to_date as gap,
        {{ safe_divide('actual - expected_to_date', 'expected_to_date') }} as gap_pct
    from expected
)

select
    kpi_id,
    channel,
    segment,
    grain,
    period_start,
    period_end,
    as_of_day,
    cast(day_of_period as {{ dbt.type_bigint() }}) as day_of_period,
    cast(days_in_period as {{ dbt.type_bigint() }}) as days_in_period,
    cast(days_observed as {{ dbt.type_bigint() }}) as days_observed,
    as_of_day >= period_end as is_period_complete,
    cast(actual as {{ type_double() }}) as actual,
    cast(numerator_to_date as {{ type_double() }}) as numerator_to_date,
    cast(denominator_to_date as {{ type_double() }}) as denominator_to_date,
    cast(target_value as {{ type_double() }}) as target,
    cast(case when target_value is not null then expected_to_date end as {{ type_double() }})
        as expected_to_date,
    cast(gap as {{ type_double() }}) as gap,
    cast(gap_pct as {{ type_double() }}) as gap_pct,
    cast(case when target_value is not null then projected end as {{ type_double() }}) as projected,
    case
        when target_value is null then 'no_target'
        when actual is null then 'insufficient_data'
        when aggregation in ('sum', 'unique') and first_observed_day > period_start
            then 'insufficient_data'
        when min_denominator > 0 and coalesce(denominator_to_date, 0) < min_denominator
            then 'insufficient_data'
        when gap_pct is null then 'insufficient_data'
        when (case when direction = 'higher' then -gap_pct else gap_pct end) <= warn_tolerance
            then 'on_track'
        when (case when direction = 'higher' then -gap_pct else gap_pct end) <= error_tolerance
            then 'at_risk'
        else 'off_track'
    end as status,
    pacing,
    unit,
    direction,
    aggregation,
    cast(min_denominator as {{ type_double() }}) as min_denominator,
    warn_tolerance,
    error_tolerance,
    owner as target_owner,
    note as target_note,
    source_line as target_line
from gaps
