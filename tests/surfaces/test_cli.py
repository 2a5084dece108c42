"""The `kpi` command-line tool."""

from __future__ import annotations

import re
from datetime import date

import duckdb
import pytest

from pipelines.cli import main
from tests import browser


@pytest.fixture
def warehouse(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    monkeypatch.setenv("KPI_DUCKDB_PATH", str(path))
    monkeypatch.setenv("KPI_REPORTS_DIR", str(tmp_path / "reports"))
    return path


def make_kpi_values(path) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.kpi_values (kpi_id varchar, channel varchar, grain varchar, "
            "period_start date, period_end date, segment varchar, value double, numerator double, "
            "denominator double, unit varchar, aggregation varchar, days_observed bigint, "
            "is_period_complete boolean)"
        )
        rows = [
            ("digital.bounce_rate", date(2025, 3, 3), 0.40, 400.0, 1000.0),
            ("digital.bounce_rate", date(2025, 3, 10), 0.45, 450.0, 1000.0),
            ("digital.site_traffic", date(2025, 3, 3), 1000.0, None, None),
            ("digital.site_traffic", date(2025, 3, 10), 1100.0, None, None),
        ]
        for kpi_id, start, value, num, den in rows:
            con.execute(
                "insert into marts.kpi_values values (?, 'digital', 'week', ?, ?::date + 6, 'all', "
                "?, ?, ?, 'x', 'ratio', 7, true)",
                [kpi_id, start, start, value, num, den],
            )
            # the day rows the week is made of (the dashboard takes its date range from them)
            for day in range(7):
                share = (value if num is None else num) / 7, None if den is None else den / 7
                con.execute(
                    "insert into marts.kpi_values values (?, 'digital', 'day', ?::date + ?, "
                    "?::date + ?, 'all', ?, ?, ?, 'x', 'ratio', 1, true)",
                    [
                        kpi_id,
                        start,
                        day,
                        start,
                        day,
                        value if num is not None else share[0],
                        share[0] if num is not None else None,
                        share[1],
                    ],
                )


@pytest.mark.parametrize(
    "command", [["status"], ["explain", "digital.bounce_rate"], ["report"], ["sql", "select 1"]]
)
def test_commands_say_clearly_when_there_is_no_warehouse_yet(warehouse, capsys, command) -> None:
    code = main(command)
    out = capsys.readouterr()
    if command[0] == "explain":  # the definition is still useful without data
        assert code == 0
        assert "no warehouse" in out.out
    else:
        assert code == 1
        assert "no warehouse at" in out.err


def test_status_prints_the_latest_complete_week_with_its_change(warehouse, capsys) -> None:
    make_kpi_values(warehouse)
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "digital.bounce_rate" in out and "45.00%" in out and "+12.5%" in out
    assert "1,100" in out and "+10.0%" in out


def test_explain_shows_definition_formula_and_recent_values(warehouse, capsys) -> None:
    make_kpi_values(warehouse)
    assert main(["explain", "digital.bounce_rate"]) == 0
    out = capsys.readouterr().out
    assert "(sessions - engaged_sessions) / sessions" in out
    assert "lower is better" in out
    assert "(450 / 1,000)" in out


def test_explain_rejects_an_unknown_kpi(warehouse, capsys) -> None:
    assert main(["explain", "digital.nope"]) == 1
    assert "unknown KPI id" in capsys.readouterr().err


def test_report_writes_the_scorecard(warehouse, tmp_path, capsys) -> None:
    make_kpi_values(warehouse)
    assert main(["report"]) == 0
    page, _ = browser.render(tmp_path / "reports" / "scorecard.html", tmp_path / "profile")
    tiles = dict(re.findall(r'<article class="tile" data-kpi="([^"]+)"(.*?)</article>', page, re.S))
    with_values = {kpi for kpi, tile in tiles.items() if 'data-state="ok"' in tile}
    assert with_values == {"digital.bounce_rate", "digital.site_traffic"}  # the KPIs with values
    bounce, traffic = tiles["digital.bounce_rate"], tiles["digital.site_traffic"]
    assert '"ok">45.00%</div>' in bounce
    assert '<span class="change bad"' in bounce and "▲ 12.5%" in bounce  # higher bounce is worse
    assert '"ok">1,100</div>' in traffic
    assert '<span class="change good"' in traffic and "▲ 10.0%" in traffic
    assert "2025-W11" in bounce and "2025-W11" in traffic  # the week of 2025-03-10
    assert 'class="trend"' in bounce and 'class="trend"' in traffic  # a trend line each


def test_the_demo_console_shows_step_and_run_outcomes_and_hides_debug_events() -> None:
    from pipelines.demo import progress_line

    head = "2026-11-28 06:54:19 +0000 - dagster - DEBUG - __ASSET_JOB - 3ef6602b - 7688"
    step = f'{head} - ga4_raw - STEP_SUCCESS - Finished execution of step "ga4_raw" in 20.54s.\n'
    assert progress_line(step) == '  step_success  Finished execution of step "ga4_raw" in 20.54s.'
    run = f'{head} - RUN_FAILURE - Execution of run for "__ASSET_JOB" failed.\n'
    assert progress_line(run) == '  run_failure   Execution of run for "__ASSET_JOB" failed.'
    event = f"{head} - kpi_dbt_models - ASSET_MATERIALIZATION - Materialized value staging x\n"
    assert progress_line(event) is None
    assert progress_line("16 of 274 OK created sql view model staging.stg_kpi__targets\n") is None
    warning = (
        "2026-11-28 06:54:19 +0000 - dagster - WARNING - __ASSET_JOB - 3ef6 - stripe: not set\n"
    )
    assert progress_line(warning) == "  WARNING - __ASSET_JOB - 3ef6 - stripe: not set"
