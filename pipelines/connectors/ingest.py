"""What every source's ingestion asset shares: windows, the not-configured path, load metadata.

A source module (``pipelines/<source>.py``) pulls rows with its client from ``sources/``, turns
them into Arrow tables with :func:`arrow_table`, loads them with ``pipelines.warehouse.raw_loader`` and
reports through the helpers here, so every source looks and behaves the same in Dagster.
"""

from collections.abc import Iterable, Iterator
from typing import Any

import dagster as dg
import pyarrow as pa

from pipelines.warehouse.raw_loader import LoadResult

CHECK_CONFIGURED = "source_configured"
CHECK_SCHEMA = "no_fields_removed"


def arrow_table(rows: list[dict[str, Any]], schema: pa.Schema | None = None) -> pa.Table:
    """Rows as an Arrow table; an empty pull still carries the raw keys so its window is cleared.

    Fields the rows carry beyond ``schema`` (metrics a provider added since it was written) are
    kept as extra columns with inferred types, so the loader adds them instead of dropping them.
    """
    if rows:
        table = pa.Table.from_pylist(rows, schema=schema)
        if schema is not None:
            extra = [
                k for k in dict.fromkeys(k for row in rows for k in row) if k not in schema.names
            ]
            if extra:
                more = pa.Table.from_pylist([{k: row.get(k) for k in extra} for row in rows])
                for name in extra:
                    table = table.append_column(name, more.column(name))
        return _fixed_decimals(table)
    if schema is not None:
        return schema.empty_table()
    return pa.table(
        {"_account_id": pa.array([], pa.string()), "_partition_date": pa.array([], pa.date32())}
    )


MONEY_TYPE = pa.decimal128(38, 9)


def _fixed_decimals(table: pa.Table) -> pa.Table:
    """Money as one decimal type: inferred from the values, precision would vary by batch (a day
    with a bigger amount would look like a type change to the raw loader)."""
    for index, column in enumerate(table.schema):
        if pa.types.is_decimal(column.type) and column.type != MONEY_TYPE:
            table = table.set_column(index, column.name, table.column(index).cast(MONEY_TYPE))
    return table


def configured_check_spec(source: str, asset: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK_CONFIGURED,
        asset=asset,
        description=f"WARN when {source} settings are absent: the source loads nothing.",
    )


def schema_check_spec(source: str, asset: dg.AssetKey) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        CHECK_SCHEMA,
        asset=asset,
        description=f"WARN when a field the {source} raw tables hold is no longer returned "
        "(loaded as NULL).",
    )


def not_configured(
    context: dg.AssetExecutionContext,
    source: str,
    missing: list[str],
    keys: Iterable[dg.AssetKey],
    check_asset: dg.AssetKey,
    window: str,
    other_checks: Iterable[str] = (CHECK_SCHEMA,),
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Results for a source whose settings are absent: nothing loaded, a WARN that says which."""
    names = ", ".join(missing)
    context.log.warning(f"{source} is not configured (missing {names}); loading nothing")
    for key in keys:
        yield dg.MaterializeResult(
            asset_key=key, metadata={"status": "not_configured", "missing": names}
        )
    yield dg.AssetCheckResult(
        check_name=CHECK_CONFIGURED,
        asset_key=check_asset,
        passed=False,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{source} not configured: set {names} (see .env.example)",
        metadata={"missing": names, "window": window},
    )
    for name in other_checks:
        yield dg.AssetCheckResult(
            check_name=name,
            asset_key=check_asset,
            passed=True,
            metadata={"skipped": "source not configured"},
        )


def configured(check_asset: dg.AssetKey, accounts: list[str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=CHECK_CONFIGURED,
        asset_key=check_asset,
        passed=True,
        metadata={"accounts": ", ".join(accounts)},
    )


def load_metadata(result: LoadResult, window: str, **extra: Any) -> dict[str, Any]:
    """The metadata every raw materialization carries."""
    return {
        "status": "loaded",
        "table": result.table,
        "window": window,
        "rows_inserted": result.rows_inserted,
        "rows_replaced": result.rows_deleted,
        "columns_added": ", ".join(result.added_columns) or "none",
        **extra,
    }


def schema_check(
    context: dg.AssetExecutionContext,
    check_asset: dg.AssetKey,
    results: Iterable[LoadResult],
    window: str,
) -> dg.AssetCheckResult:
    """WARN listing the fields the API stopped returning (they were loaded as NULL)."""
    warnings = [w for r in results for w in r.warnings]
    for message in warnings:
        context.log.warning(message)
    return dg.AssetCheckResult(
        check_name=CHECK_SCHEMA,
        asset_key=check_asset,
        passed=not warnings,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(warnings) or "every known field was returned",
        metadata={"window": window},
    )
