"""The published marts copy (``marts.duckdb`` + Parquet, ``pipelines/publish.py``) carries no
personal data.

The columns are read from the files ``publish()`` writes, for every ``marts`` table dbt builds
(``dbt run --empty``: every column, no rows) and every one a Python asset creates. Two rules:
a column whose name says personal data (e-mail, a person's name, phone, address, IP, birth date,
free text such as comments or message bodies) fails; and every text column must be reviewed in
``TEXT_COLUMNS`` (why it holds no personal data), so a new one fails until someone looks at it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.defs.catalog_asset import kpi_catalog
from pipelines.defs.targets_asset import kpi_targets
from pipelines.publish import publish
from pipelines.warehouse.resource import WarehouseResource
from tests.e2e import run_dbt
from tests.test_docs import python_mart_ddl

ROOT = Path(__file__).resolve().parents[2]

# Names that say personal data (checked on every column that is not a number: a count such as
# `emails_sent` is not personal data, an e-mail address or a birth date is).
PERSONAL = re.compile(
    r"e_?mail|phone|fax|(^|_)(first|last|full|given|family|middle|user|contact|customer|person"
    r"|requester|assignee|author|sender|recipient|subscriber|member|lead)_?name($|_)|^name$"
    r"|surname|(^|_)(ip|street|postal|home|billing|shipping)_?addr|(^|_)address($|_)|(^|_)ip($|_)"
    r"|birth|(^|_)dob($|_)|gender|(^|_)ssn($|_)|passport|national_id|tax_id|iban|card_number"
    r"|user_agent|(^|_)(zip|postcode|postal_code)($|_)|geo_?location|latitude|longitude"
)
# Text columns named like free text (what people write), personal data by default.
FREE_TEXT = re.compile(r"(^|_)(body|message|comment|text|description|subject|reply|review|bio)$")

# Reviewed: every published text column and why it holds no personal data.
IDS = "an account, property, campaign, deal or ticket id of the company's own tools"
LABEL = "a fixed label or code of the pipeline, a provider or the KPI catalog"
TARGETS = "from config/targets.yml, reviewed like code (owner: a team mailbox or role)"
TEXT_COLUMNS: dict[str, str] = {
    **dict.fromkeys(
        ["account_id", "campaign_id", "deal_id", "list_id", "portal_id", "property_id"], IDS
    ),
    **dict.fromkeys(
        [
            "aggregation",
            "channel",
            "channel_group",
            "cost_currency",
            "currency",
            "currency_code",
            "direction",
            "field_category",
            "grain",
            "kpi_id",
            "pacing",
            "platform",
            "priority",
            "reporting_currency",
            "satisfaction_score",
            "segment",
            "source",
            "status",
            "strategy",
            "time_zone",
            "tolerance_source",
            "unconverted_revenue_currencies",
            "unit",
            "via_channel",
            "deal_stage",
            "pipeline",
            "stage_label",
        ],
        LABEL,
    ),
    **dict.fromkeys(["owner", "note", "target_owner", "target_note"], TARGETS),
    "campaign_name": "an ad campaign's name, set by the marketing team",
    "campaign_title": "an e-mail campaign's title, set by the marketing team",
    "title": "a published page's title (public content)",
    "url": "a public page URL (the site's own pages, PageSpeed)",
    "content_path": "a public page path of the site",
    "landing_page": "GA4 landingPage: the page path, without the query string",
    "entity": "a brand or competitor tracked for share of voice (config)",
    "error": "PageSpeed's error message for a public URL",
    "run_id": "the Dagster run that recorded a KPI revision",
}
NUMBER = re.compile(r"^(U?(BIGINT|INTEGER|SMALLINT|TINYINT|HUGEINT)|DOUBLE|FLOAT|REAL|DECIMAL.*)$")
NOT_TEXT = re.compile(r"^(BOOLEAN|DATE|TIME.*|TIMESTAMP.*|INTERVAL)$")


def personal_data_findings(columns: dict[str, dict[str, str]]) -> list[str]:
    """``table.column (type): why`` for every column the rules reject."""
    found = []
    for table, typed in sorted(columns.items()):
        for column, data_type in typed.items():
            name, kind = column.lower(), data_type.upper()
            number = NUMBER.match(kind) is not None
            text = not number and NOT_TEXT.match(kind) is None
            if not number and PERSONAL.search(name):
                found.append(f"{table}.{column} ({data_type}): named like personal data")
            elif text and FREE_TEXT.search(name):
                found.append(f"{table}.{column} ({data_type}): free text")
            elif text and name not in TEXT_COLUMNS:
                found.append(f"{table}.{column} ({data_type}): text column not reviewed")
    return found


@pytest.mark.parametrize(
    ("column", "data_type"),
    [
        ("email", "VARCHAR"),
        ("contact_email", "VARCHAR"),
        ("phone_number", "VARCHAR"),
        ("first_name", "VARCHAR"),
        ("customer_name", "VARCHAR"),
        ("name", "VARCHAR"),
        ("ip_address", "VARCHAR"),
        ("billing_address", "VARCHAR"),
        ("date_of_birth", "DATE"),
        ("comment", "VARCHAR"),
        ("message_body", "VARCHAR"),
        ("ticket_subject", "VARCHAR"),
        ("nickname_label", "VARCHAR"),  # not reviewed
        ("tags", "VARCHAR[]"),  # not reviewed
    ],
)
def test_the_rules_reject_personal_and_unreviewed_columns(column: str, data_type: str) -> None:
    assert len(personal_data_findings({"t": {column: data_type}})) == 1


def test_the_rules_pass_counts_dates_and_reviewed_labels() -> None:
    ok = {"comments": "BIGINT", "emails_sent": "BIGINT", "campaign_name": "VARCHAR"}
    assert personal_data_findings({"t": {**ok, "date_day": "DATE", "segment": "VARCHAR"}}) == []
    assert not any(PERSONAL.search(c) or FREE_TEXT.search(c) for c in TEXT_COLUMNS)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dict[str, str]]]:
    """{"duckdb"|"parquet": {table: {column: type}}} of a published copy of every mart."""
    tmp = tmp_path_factory.mktemp("published")
    database = tmp / "warehouse.duckdb"
    target = tmp / "dbt_target"
    target.mkdir()
    shutil.copy(ROOT / "dbt_project" / "target" / "partial_parse.msgpack", target)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KPI_DUCKDB_PATH", str(database))
        patch.setenv("DBT_TARGET_PATH", str(target))
        patch.setenv("DBT_LOG_PATH", str(tmp / "dbt_logs"))
        # the seeds of the KPI catalog and the targets file, which the marts join
        result = dg.materialize(
            [kpi_catalog, kpi_targets],
            resources={"warehouse": WarehouseResource()},
            partition_key="2025-03-01",
        )
        assert result.success
        built = run_dbt(database, "run", "--empty", "--quiet")
        assert built.returncode == 0, built.stdout + built.stderr
    with duckdb.connect(str(database)) as con:
        for statement in python_mart_ddl().values():
            con.execute(statement)
        tables = publish(con, tmp / "out")
    assert "kpi_values" in tables and "kpi_revisions" in tables
    out: dict[str, dict[str, dict[str, str]]] = {"duckdb": {}, "parquet": {}}
    with duckdb.connect(str(tmp / "out" / "marts.duckdb"), read_only=True) as con:
        for table, column, data_type in con.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "order by table_name, ordinal_position"
        ).fetchall():
            out["duckdb"].setdefault(table, {})[column] = data_type
        for parquet in sorted((tmp / "out" / "marts").glob("*.parquet")):
            described = con.execute(f"describe select * from read_parquet('{parquet}')")
            out["parquet"][parquet.stem] = {name: kind for name, kind, *_ in described.fetchall()}
    return out


def test_the_published_copy_has_every_mart_in_both_formats(published) -> None:
    assert set(published["duckdb"]) == set(published["parquet"])
    assert {t: set(c) for t, c in published["duckdb"].items()} == {
        t: set(c) for t, c in published["parquet"].items()
    }
    assert len(published["duckdb"]) > 15


@pytest.mark.parametrize("form", ["duckdb", "parquet"])
def test_no_published_column_carries_personal_data(published, form: str) -> None:
    assert personal_data_findings(published[form]) == []


def test_every_reviewed_text_column_is_still_published(published) -> None:
    columns = {c for typed in published["duckdb"].values() for c in typed}
    assert sorted(set(TEXT_COLUMNS) - columns) == []
