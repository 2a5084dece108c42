"""No configured secret reaches logs, Dagster event metadata, raw tables or error messages."""

from __future__ import annotations

import json
import logging
import re

import dagster as dg
import duckdb

from pipelines.ga4 import ga4_raw
from pipelines.resources import GA4Resource, WarehouseResource
from sources.emulators.server import Fault

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.")


def secret_values(service_account_file) -> list[str]:
    info = json.loads(service_account_file.read_text())
    key_lines = [line for line in info["private_key"].splitlines() if len(line) > 40]
    return [info["private_key_id"], *key_lines[1:4]]


def test_a_failing_run_leaks_no_secret_anywhere(stack, tmp_path, monkeypatch, caplog) -> None:
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    secrets = secret_values(stack.service_account)
    ga4 = GA4Resource(
        property_ids="250000001",
        credentials_path=str(stack.service_account),
        base_url=stack.server.base_url,
        max_retry_seconds=1.0,
    )
    resources = {"warehouse": WarehouseResource(), "ga4": ga4}
    caplog.set_level(logging.DEBUG)
    ok = dg.materialize([ga4_raw], resources=resources, partition_key="2025-03-03")
    assert ok.success
    stack.server.inject(
        Fault(
            ":runReport",
            status=503,
            times=100,
            body={
                "error": {
                    "code": 503,
                    "status": "UNAVAILABLE",
                    "message": f"backend echoed Authorization: Bearer {secrets[0]}",
                }
            },
        )
    )
    failed = dg.materialize(
        [ga4_raw], resources=resources, partition_key="2025-03-04", raise_on_error=False
    )
    assert not failed.success
    events = "\n".join(str(event) for event in ok.all_events + failed.all_events)
    failure = "\n".join(str(e.event_specific_data) for e in failed.all_events if e.is_step_failure)
    assert "[ga4]" in failure and "status=503" in failure
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        tables = con.execute(
            "select table_schema || '.' || table_name from information_schema.tables"
        ).fetchall()
        warehouse = "\n".join(str(con.execute(f"select * from {t}").fetchall()) for (t,) in tables)
    haystacks = {"logs": caplog.text, "events": events, "errors": failure, "warehouse": warehouse}
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
        assert not JWT.search(text), f"a bearer token leaked into {where}"
    assert len(warehouse) > 1000  # the scan looked at real rows
