"""``kpi``: the command-line tool (prepare, demo, ui, status, explain, report, metrics, sql, docs,
doctor, replay)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import date
from pathlib import Path
from typing import NoReturn

import duckdb

from pipelines.kpi.catalog import load_catalog
from pipelines.lib.partitions import set_run_bookkeeping_env
from pipelines.lib.settings import PROJECT_ROOT, duckdb_path
from pipelines.lib.venv_tools import DBT_PROJECT_DIR, dbt_executable, prepare_dbt, venv_tool


def _status(args: argparse.Namespace) -> int:
    from pipelines.kpi.summary import render

    print(render(duckdb_path(), args.grain))
    return 0


def _explain(args: argparse.Namespace) -> int:
    from pipelines.kpi.summary import format_value

    kpi = load_catalog()[args.kpi_id]
    print(f"{kpi.id}: {kpi.name}")
    print(f"  unit {kpi.unit}, {kpi.direction} is better, aggregation {kpi.aggregation}")
    print(f"  formula: {kpi.formula}")
    print(f"  sources: {', '.join(kpi.sources)}")
    database = duckdb_path()
    if not database.exists():
        print(f"  (no warehouse at {database} yet: run the demo or a materialization)")
        return 0
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select period_start, value, numerator, denominator from marts.kpi_values "
            "where kpi_id = ? and grain = ? and segment = 'all' order by period_start desc limit ?",
            [kpi.id, args.grain, args.limit],
        ).fetchall()
    print(f"  recent {args.grain}s (segment all):")
    for period_start, value, numerator, denominator in rows:
        detail = f"  ({numerator:,.0f} / {denominator:,.0f})" if denominator is not None else ""
        print(f"    {period_start}  {format_value(kpi, value):>12}{detail}")
    return 0


def _sql(args: argparse.Namespace) -> int:
    """Run one read-only query against the warehouse and print it as a table."""
    database = duckdb_path()
    if not database.exists():
        raise FileNotFoundError(f"no warehouse at {database}: run the demo or a materialization")
    with duckdb.connect(str(database), read_only=True) as con:
        relation = con.sql(args.query)
        if relation is None:
            return 0
        relation.show(max_rows=args.max_rows, max_width=200)
    return 0


def _report(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from pipelines.kpi.annotations import AnnotationsError
    from pipelines.publish import reports_dir
    from pipelines.scorecard import write_report

    try:
        path = write_report(args.out or reports_dir(), datetime.now(UTC))
    except AnnotationsError as exc:
        print(f"kpi: {exc}", file=sys.stderr)
        return 1
    print(f"scorecard written to {path}")
    return 0


def _metrics(args: argparse.Namespace) -> int:
    """A KPI by dimensions and grain from the semantic layer: the venv's ``mf query``."""
    from pipelines.metrics_query import (
        MetricsQueryError,
        mf_command,
        mf_environment,
        semantic_manifest_is_current,
    )

    kpi_ids = [k for arg in args.kpi_ids for k in arg.split(",") if k]
    try:
        argv = mf_command(
            kpi_ids, args.by, args.grain, args.start, args.end, args.where, args.csv, args.limit
        )
    except MetricsQueryError as exc:
        print(f"kpi metrics: {exc}", file=sys.stderr)
        return 2
    if not semantic_manifest_is_current():
        print("parsing the dbt project for this warehouse (kpi prepare) ...", flush=True)
        prepare_dbt()
    print("$ " + " ".join(argv), flush=True)
    return subprocess.run(argv, cwd=DBT_PROJECT_DIR, env=mf_environment(), check=False).returncode


def _docs(args: argparse.Namespace) -> int:
    """``dbt docs generate`` against the warehouse; prints where the site is."""
    subprocess.run(
        [dbt_executable(), "docs", "generate", "--profiles-dir", ".", "--quiet"],
        cwd=DBT_PROJECT_DIR,
        check=True,
    )
    target = DBT_PROJECT_DIR / os.environ.get("DBT_TARGET_PATH", "target")
    print(f"dbt docs: {target / 'index.html'}")
    print("serve them: cd dbt_project && ../.venv/bin/dbt docs serve --profiles-dir .")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    prepare_dbt()
    return 0


def ui_command(
    dagster_args: list[str], environ: dict[str, str]
) -> tuple[list[str], dict[str, str]]:
    """``DAGSTER_HOME=<project root> .venv/bin/dagster dev -m pipelines.definitions [args]``:
    the argv and environment ``kpi ui`` runs (an existing ``DAGSTER_HOME`` is kept)."""
    env = dict(environ)
    env.setdefault("DAGSTER_HOME", str(PROJECT_ROOT))
    set_run_bookkeeping_env(env)  # runs launched from the UI plan once (decision 65)
    return [venv_tool("dagster"), "dev", "-m", "pipelines.definitions", *dagster_args], env


def _ui(args: argparse.Namespace) -> NoReturn:
    argv, env = ui_command(args.dagster_args, dict(os.environ))
    print("$ " + " ".join(argv), f"(DAGSTER_HOME={env['DAGSTER_HOME']})", flush=True)
    os.chdir(PROJECT_ROOT)
    os.execve(argv[0], argv, env)  # dagster dev handles Ctrl-C and stops its processes itself


def _doctor(args: argparse.Namespace) -> int:
    """Secret files, versioned APIs and one authenticated call per configured source; exit 1 when
    something needs fixing."""
    from pipelines.connectors import doctor
    from pipelines.connectors.registry import SOURCES
    from pipelines.lib.secret_files import exposed_secret_files, secret_files
    from sources.api_versions import doctor_report

    problems = exposed_secret_files()
    key = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "").strip()
    if key and not Path(key).is_file():
        problems.append(
            f"GOOGLE_APPLICATION_CREDENTIALS={key} does not exist: point it at the "
            "service-account JSON key file, or leave it unset"
        )
    checked = ", ".join(str(p) for p in secret_files()) or "none present"
    print(f"secret files checked: {checked}")
    api_lines, api_problems = doctor_report(os.environ, date.today())
    print(*api_lines, sep="\n")
    problems += api_problems
    statuses = doctor.check_sources(SOURCES)
    print(doctor.render(statuses))
    problems += [f"{s.source}: {s.fix}" for s in statuses if s.failed]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


def parse_range(text: str) -> tuple[date, date]:
    """``A...B`` (ISO dates, both included), the run contract's form."""
    first, sep, last = text.partition("...")
    try:
        start, end = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        start = end = None
    if not sep or start is None or end is None or end < start:
        raise ValueError(f"--range {text!r}: give it as FIRST...LAST, e.g. 2026-01-01...2026-01-31")
    return start, end


def _replay(args: argparse.Namespace) -> int:
    """Rebuild raw tables from landed files (no API call), then the models for the range."""
    from datetime import timedelta

    from pipelines.connectors.framework import Window
    from pipelines.connectors.registry import SOURCES, source
    from pipelines.connectors.replay import models_selection, replay_raw
    from pipelines.demo import materialize

    start, end = parse_range(args.range)
    chosen = list(SOURCES) if args.source == "all" else [source(args.source)]
    replayed = replay_raw(chosen, Window(start, end + timedelta(days=1)))
    for r in replayed:
        print(f"{r.source}: {r.landings} landing(s) replayed, {r.rows:,} rows loaded")
    if not any(r.landings for r in replayed):
        print(f"kpi: nothing landed for {args.source} in {args.range}", file=sys.stderr)
        return 1
    if args.raw_only:
        return 0
    import pipelines.definitions as definitions

    keys = ["/".join(k.path) for k in definitions.defs.resolve_asset_graph().get_all_asset_keys()]
    materialize(dict(os.environ), start, end, select=",".join(models_selection(keys, SOURCES)))
    return 0


def _demo(args: argparse.Namespace) -> int:
    from pipelines.demo import run_demo

    run_demo(args.days)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kpi", description="kpi-pipeline command-line tool")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare", help="write the dbt manifest (run after checkout or model edits)")
    p.set_defaults(fn=_prepare)
    p = sub.add_parser(
        "ui",
        help="the Dagster UI: `dagster dev -m pipelines.definitions` with DAGSTER_HOME set",
        description="Runs the venv's `dagster dev -m pipelines.definitions` from the project "
        "root with DAGSTER_HOME=<project root> unless set; other arguments go to dagster dev "
        "(e.g. `kpi ui -p 3001`).",
    )
    p.set_defaults(fn=_ui, dagster_args=[])
    p = sub.add_parser(
        "doctor",
        help="check secret files, API versions and one authenticated call per configured source",
    )
    p.set_defaults(fn=_doctor)
    p = sub.add_parser(
        "replay",
        help="rebuild raw tables from the landing zone (no API call), then the models",
        description="e.g. `kpi replay stripe --range 2026-01-01...2026-01-31` or `kpi replay all ...`",
    )
    p.add_argument("source", help="a source name (`kpi doctor` lists them) or `all`")
    p.add_argument("--range", required=True, help="FIRST...LAST, ISO dates, both included")
    p.add_argument("--raw-only", action="store_true", help="reload the raw tables only")
    p.set_defaults(fn=_replay)
    p = sub.add_parser("demo", help="run the whole pipeline on the local emulators")
    p.add_argument("--days", type=int, default=90)
    p.set_defaults(fn=_demo)
    p = sub.add_parser("status", help="latest complete period of every KPI")
    p.add_argument("--grain", choices=["day", "week", "month"], default="week")
    p.set_defaults(fn=_status)
    p = sub.add_parser("explain", help="a KPI's definition and recent values")
    p.add_argument("kpi_id")
    p.add_argument("--grain", choices=["day", "week", "month"], default="week")
    p.add_argument("--limit", type=int, default=8)
    p.set_defaults(fn=_explain)
    p = sub.add_parser("report", help="write the HTML scorecard (data/reports/scorecard.html)")
    p.add_argument("--out", type=Path, default=None, help="directory (default KPI_REPORTS_DIR)")
    p.set_defaults(fn=_report)
    p = sub.add_parser("docs", help="generate the dbt docs site (models, columns, lineage)")
    p.set_defaults(fn=_docs)
    p = sub.add_parser(
        "metrics",
        help="KPIs by any dimension and grain from the semantic layer (MetricFlow, docs/bi.md)",
        description="e.g. `kpi metrics paid_ads.cpc --by campaign --grain quarter`",
    )
    p.add_argument("kpi_ids", nargs="+", help="KPI ids (config/kpis.yml), e.g. paid_ads.cpc")
    p.add_argument("--by", action="append", default=[], help="a dimension, e.g. campaign")
    p.add_argument("--grain", choices=["day", "week", "month", "quarter", "year"], default="week")
    p.add_argument("--start", help="first day (ISO date)")
    p.add_argument("--end", help="last day (ISO date)")
    p.add_argument(
        "--where",
        help="a MetricFlow filter, e.g. \"{{ Dimension('paid_ads__platform') }} = 'meta_ads'\"",
    )
    p.add_argument("--csv", help="write the result to this CSV file")
    p.add_argument("--limit", type=int)
    p.set_defaults(fn=_metrics)
    p = sub.add_parser("sql", help="run a read-only SQL query against the warehouse")
    p.add_argument("query")
    p.add_argument("--max-rows", type=int, default=40)
    p.set_defaults(fn=_sql)
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "ui":
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "ui":
        args.dagster_args = extra
    try:
        return args.fn(args)
    except (FileNotFoundError, KeyError, ValueError, duckdb.Error) as exc:
        print(f"kpi: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
