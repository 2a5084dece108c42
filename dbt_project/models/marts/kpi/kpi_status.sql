-- One row per targeted KPI x segment x grain x period: the status as of the latest day with data
-- (the period's end once it is complete). Periods without a target are `no_target`.
with ranked as (
    select
        *,
        row_number() over (
            partition by kpi_id, segment, grain, period_start order by as_of_day desc
        ) as recency
    from {{ ref('kpi_status_daily') }}
)

select
    kpi_id,
    channel,
    segment,
    grain,
    period_start,
    period_end,
    as_of_day,
    day_of_period,
    days_in_period,
    days_observed,
    is_period_complete,
    actual,
    target,
    expected_to_date,
    gap,
    gap_pct,
    projected,
    status,
    pacing,
    numerator_to_date,
    denominator_to_date,
    unit,
    direction,
    warn_tolerance,
    error_tolerance,
    target_owner,
    target_note,
    target_line
from ranked
where recency = 1
