"""The KPI catalog file: complete against the spec, validated with errors that say what to fix."""

from __future__ import annotations

import pytest

from pipelines.kpi.catalog import CatalogError, load_catalog, parse_catalog

SPEC_KPIS = [
    "sales.revenue",
    "sales.new_customers",
    "sales.avg_transaction_value",
    "marketing.site_traffic",
    "marketing.conversion_rate",
    "marketing.cost_per_lead",
    "customer_service.csat",
    "customer_service.avg_response_time",
    "customer_service.resolved_share",
    "digital.site_traffic",
    "digital.bounce_rate",
    "digital.conversion_rate",
    "digital.cost_per_lead",
    "digital.roi",
    "social.engagement_rate",
    "social.reach",
    "social.follower_growth",
    "social.ctr",
    "social.share_of_voice",
    "email.open_rate",
    "email.ctr",
    "email.conversion_rate",
    "email.unsubscribe_rate",
    "email.forward_rate",
    "content.engagement_per_content",
    "content.leads",
    "content.time_on_page",
    "content.pages_per_session",
    "content.content_roi",
    "paid_ads.ctr",
    "paid_ads.cpc",
    "paid_ads.conversion_rate",
    "paid_ads.impressions",
    "paid_ads.roas",
    "seo.organic_traffic",
    "seo.backlinks",
    "seo.page_load_time",
    "seo.bounce_rate",
    "seo.keyword_rankings",
]


def test_the_catalog_holds_every_kpi_of_the_spec() -> None:
    catalog = load_catalog()
    assert len(SPEC_KPIS) == 39
    assert set(SPEC_KPIS) <= set(catalog.ids())


def test_directions_and_roll_ups_follow_the_spec() -> None:
    catalog = load_catalog()
    assert catalog["digital.bounce_rate"].direction == "lower"
    assert catalog["digital.bounce_rate"].aggregation == "ratio"
    assert catalog["social.reach"].aggregation == "unique"
    assert catalog["seo.backlinks"].aggregation == "snapshot"
    assert catalog["seo.keyword_rankings"].aggregation == "weighted_avg"
    assert catalog["paid_ads.cpc"].unit == "money"


def test_the_catalog_table_has_one_row_per_kpi() -> None:
    table = load_catalog().to_arrow()
    assert table.num_rows == len(load_catalog().kpis)
    assert {"kpi_id", "channel", "unit", "direction", "aggregation"} <= set(table.column_names)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {
                "id": "digital.x",
                "name": "X",
                "unit": "percent",
                "direction": "higher",
                "aggregation": "sum",
                "formula": "f",
            },
            "unit='percent'",
        ),
        (
            {
                "id": "digital.x",
                "name": "X",
                "unit": "count",
                "direction": "up",
                "aggregation": "sum",
                "formula": "f",
            },
            "direction='up'",
        ),
        (
            {
                "id": "digital.x",
                "name": "X",
                "unit": "count",
                "direction": "higher",
                "aggregation": "sum",
            },
            "'formula' is missing",
        ),
        (
            {
                "id": "Digital X",
                "name": "X",
                "unit": "count",
                "direction": "higher",
                "aggregation": "sum",
                "formula": "f",
            },
            "<channel>.<name>",
        ),
    ],
)
def test_an_invalid_entry_is_rejected_naming_the_kpi_and_field(entry, message) -> None:
    with pytest.raises(CatalogError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_catalog({"kpis": [entry]})


def test_a_duplicate_id_is_rejected() -> None:
    entry = {
        "id": "digital.x",
        "name": "X",
        "unit": "count",
        "direction": "higher",
        "aggregation": "sum",
        "formula": "f",
    }
    with pytest.raises(CatalogError, match="twice"):
        parse_catalog({"kpis": [entry, entry]})
