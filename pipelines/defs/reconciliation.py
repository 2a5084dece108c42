"""Reconciliation: GA4 purchase revenue against Stripe revenue, per month (a WARN check).

The two always disagree: GA4 misses purchases (ad blockers, consent, tracking outages) and dates
them in the property's time zone; Stripe counts every charge, nets refunds and dates it in
``KPI_TIMEZONE``. Users ask why, so each run reports the gap of every month its window touches,
over the days both sources cover, and WARNs when a month is off by more than
``RECONCILIATION_TOLERANCE`` (default 0.10 of Stripe revenue).
"""

from datetime import date, timedelta

import dagster as dg
import duckdb

from pipelines.lib.partitions import WAREHOUSE_POOL, run_window
from pipelines.lib.settings import env
from pipelines.warehouse.resource import WarehouseResource

CHECK_NAME = "ga4_revenue_reconciles_with_stripe"
SALES_FACT = dg.AssetKey(["marts", "fct_sales_daily"])
DEFAULT_TOLERANCE = 0.10

MONTHLY_GAP_SQL = """
with covered as (
    select distinct date_day from staging.stg_stripe__sync_days
    intersect
    select distinct date_day from marts.fct_web_traffic_daily
),
ga4 as (
    select date_trunc('month', w.date_day) as month, sum(w.purchase_revenue_reporting) as revenue,
        count(distinct w.date_day) as days
    from marts.fct_web_traffic_daily as w inner join covered as c on c.date_day = w.date_day
    group by 1
),
stripe as (
    select date_trunc('month', s.date_day) as month, sum(s.net_revenue_reporting) as revenue
    from marts.fct_sales_daily as s inner join covered as c on c.date_day = s.date_day
    group by 1
)
select cast(ga4.month as date), ga4.revenue, coalesce(stripe.revenue, 0), ga4.days
from ga4 left join stripe on stripe.month = ga4.month
where ga4.month between date_trunc('month', cast(? as date)) and cast(? as date)
order by 1
"""


def tolerance() -> float:
    return float(env("RECONCILIATION_TOLERANCE", str(DEFAULT_TOLERANCE)) or DEFAULT_TOLERANCE)


def monthly_gaps(
    con: duckdb.DuckDBPyConnection, first: date, last: date
) -> list[tuple[date, float, float, int]]:
    """``(month, ga4 revenue, stripe revenue, days compared)`` in the reporting currency."""
    return [
        (m, float(g or 0), float(s or 0), int(d))
        for m, g, s, d in con.execute(MONTHLY_GAP_SQL, [first, last]).fetchall()
    ]


def _relations_exist(con: duckdb.DuckDBPyConnection) -> bool:
    wanted = {
        ("marts", "fct_sales_daily"),
        ("marts", "fct_web_traffic_daily"),
        ("staging", "stg_stripe__sync_days"),
    }
    found = set(
        con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    )
    return wanted <= found


@dg.asset_check(
    asset=SALES_FACT,
    name=CHECK_NAME,
    blocking=False,
    pool=WAREHOUSE_POOL,
    description="WARN when a month's GA4 purchase revenue differs from Stripe revenue (charges "
    "minus refunds) by more than RECONCILIATION_TOLERANCE; reports every month's gap.",
)
def ga4_revenue_reconciles_with_stripe(
    context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
) -> dg.AssetCheckResult:
    window = run_window(context.op_execution_context)
    first, last = (window[0], window[1] - timedelta(days=1)) if window else (date.min, date.max)
    limit = tolerance()
    with warehouse.connect(read_only=True) as con:
        if not _relations_exist(con):
            return dg.AssetCheckResult(
                passed=True,
                metadata={"skipped": "sales or web facts not built yet"},
                description="nothing to reconcile yet",
            )
        gaps = monthly_gaps(con, first, last)
    currency = (env("KPI_REPORTING_CURRENCY", "USD") or "USD").upper()
    metadata: dict[str, float | int | str] = {"tolerance": limit, "currency": currency}
    lines, worst = [], None
    for month, ga4, stripe, days in gaps:
        gap = stripe - ga4
        share = gap / stripe if stripe else None
        label = month.strftime("%Y-%m")
        metadata[f"{label} ga4_purchase_revenue"] = round(ga4, 2)
        metadata[f"{label} stripe_revenue"] = round(stripe, 2)
        metadata[f"{label} gap"] = round(gap, 2)
        metadata[f"{label} days_compared"] = days
        if share is not None:
            metadata[f"{label} gap_share"] = round(share, 4)
        text = (
            f"{label}: GA4 purchase revenue {ga4:,.2f} {currency} vs Stripe revenue "
            f"{stripe:,.2f} {currency} over {days} days (gap {gap:+,.2f}"
            + (f", {share:+.1%} of Stripe)" if share is not None else ")")
        )
        lines.append(text)
        off = (share is None and ga4 != 0) or (share is not None and abs(share) > limit)
        if off and (worst is None or abs(gap) > abs(worst[1])):
            worst = (text, gap)
    if not gaps:
        return dg.AssetCheckResult(
            passed=True,
            metadata=metadata,
            description="no month with both GA4 and Stripe data in the run's window",
        )
    return dg.AssetCheckResult(
        passed=worst is None,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=(
            f"revenue gap above {limit:.0%}: {worst[0]}. All months: " + "; ".join(lines)
            if worst
            else "; ".join(lines)
        ),
    )
