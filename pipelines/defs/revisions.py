"""``marts.kpi_revisions``: the daily KPI values each run produced for its window (the lookback
days in daily operation), with the change against the previous run's value of the same day, so
users can see how much a day was restated after it was first reported."""

from datetime import timedelta

import dagster as dg

from pipelines.lib.partitions import (
    WAREHOUSE_POOL,
    daily_partitions,
    single_run_backfill,
    window_dates,
)
from pipelines.warehouse.resource import WarehouseResource

DDL = """
create table if not exists marts.kpi_revisions (
    run_id varchar not null,
    recorded_at timestamp not null,
    kpi_id varchar not null,
    segment varchar not null,
    day date not null,
    value double precision,
    numerator double precision,
    denominator double precision,
    revision integer not null,
    previous_value double precision,
    change double precision,
    change_pct double precision
)
"""

# One statement: the window's day rows joined with the latest earlier revision of each key.
# Plain SQL that DuckDB and PostgreSQL both run (no qualify).
RECORD = """
insert into marts.kpi_revisions
with ranked as (
    select
        kpi_id, segment, day, value, revision,
        row_number() over (partition by kpi_id, segment, day order by revision desc) as recency
    from marts.kpi_revisions
    where day between $start and $end and run_id <> $run_id
),
latest as (
    select kpi_id, segment, day, value, revision from ranked where recency = 1
)
select
    $run_id,
    cast(current_timestamp as timestamp),
    v.kpi_id,
    v.segment,
    v.period_start,
    v.value,
    v.numerator,
    v.denominator,
    coalesce(l.revision, 0) + 1,
    l.value,
    v.value - l.value,
    case when l.value is not null and l.value <> 0 then (v.value - l.value) / abs(l.value) end
from marts.kpi_values as v
left join latest as l
    on v.kpi_id = l.kpi_id and v.segment = l.segment and v.period_start = l.day
where v.grain = 'day' and v.period_start between $start and $end
"""

SUMMARY = """
select
    count(*),
    count(*) filter (where revision > 1),
    count(*) filter (where coalesce(abs(change_pct), 0) > 0.0001),
    max(abs(change_pct))
from marts.kpi_revisions
where run_id = $run_id
"""


@dg.asset(
    key=["marts", "kpi_revisions"],
    deps=[dg.AssetKey(["marts", "kpi_values"])],
    group_name="kpi",
    kinds={"python", "duckdb"},
    partitions_def=daily_partitions,
    backfill_policy=single_run_backfill,
    pool=WAREHOUSE_POOL,
    description="Daily KPI values as each run produced them (revision 1, 2, ...) with the change "
    "against the previous revision: how much each day was restated.",
)
def kpi_revisions(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    start, end = window_dates(context)
    params = {"start": start, "end": end - timedelta(days=1), "run_id": context.run.run_id}
    with warehouse.connect() as con:
        con.execute("create schema if not exists marts").fetchall()
        con.execute(DDL).fetchall()
        con.begin()
        # A retried step of the same run replaces what it recorded.
        con.execute(
            "delete from marts.kpi_revisions where run_id = $run_id", {"run_id": params["run_id"]}
        ).fetchall()
        con.execute(RECORD, params).fetchall()
        con.commit()
        rows, revised, restated, max_change = con.execute(
            SUMMARY, {"run_id": params["run_id"]}
        ).fetchone()
    return dg.MaterializeResult(
        metadata={
            "window": f"{params['start']}..{params['end']}",
            "rows_recorded": rows,
            "rows_seen_before": revised,
            "rows_restated": restated,
            "max_abs_change_pct": float(max_change or 0.0),
        }
    )
