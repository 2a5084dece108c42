"""The social, mentions, content and marketing-costs source declarations: settings, the
not-configured rules and the ``check`` that ``kpi doctor`` runs (one cheap authenticated call)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.connectors import (
    content_costs,
    linkedin,
    marketing_costs,
    mentions,
    meta_graph,
    wordpress,
)
from pipelines.connectors.framework import Source
from pipelines.connectors.marketing_costs import MarketingCostsError
from sources.emulators.stack import EmulatorStack
from sources.http import SourceError


def stack_config(source: Source, stack: EmulatorStack, **overrides: str):
    names = {s.name for s in source.settings}
    settings = {k: v for k, v in stack.env().items() if k in names}
    return source.config({**settings, **overrides})


@pytest.mark.parametrize(
    ("source", "secret", "answer"),
    [
        (meta_graph.SOURCE, "META_ACCESS_TOKEN", "Page 104000000000001"),
        (linkedin.SOURCE, "LINKEDIN_ACCESS_TOKEN", "organization 2414183"),
        (wordpress.SOURCE, "WORDPRESS_APP_PASSWORD", "REST API answers"),
    ],
)
def test_the_check_answers_with_the_credentials_and_fails_with_a_wrong_one(
    stack, source, secret, answer
) -> None:
    config = stack_config(source, stack)
    assert config.missing() == []
    assert answer in source.check(source.connect(config), config)
    wrong = stack_config(source, stack, **{secret: "not-the-right-secret-42"})
    with pytest.raises(SourceError, match=rf"\[{source.name}\]"):
        source.check(source.connect(wrong), wrong)


def test_meta_graph_needs_pages_or_instagram_accounts_and_the_token(monkeypatch) -> None:
    for name in ("META_PAGE_IDS", "INSTAGRAM_ACCOUNT_IDS", "META_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    source = meta_graph.SOURCE
    assert source.config().missing() == [
        "META_ACCESS_TOKEN",
        "META_PAGE_IDS or INSTAGRAM_ACCOUNT_IDS",
    ]
    config = source.config({"INSTAGRAM_ACCOUNT_IDS": "17841400000000001", "META_ACCESS_TOKEN": "t"})
    assert config.missing() == []
    assert meta_graph.accounts(config) == ["17841400000000001"]


def test_linkedin_organizations_accept_the_urn_prefix() -> None:
    config = linkedin.SOURCE.config({"LINKEDIN_ORGANIZATION_IDS": "urn:li:organization:1, 2"})
    assert linkedin.organizations(config) == ["1", "2"]


def test_an_as_of_day_that_is_not_a_date_names_the_setting() -> None:
    config = linkedin.SOURCE.config({"LINKEDIN_ACCESS_TOKEN": "t", "LINKEDIN_AS_OF": "yesterday"})
    with pytest.raises(ValueError, match="LINKEDIN_AS_OF='yesterday'"):
        linkedin.SOURCE.connect(config)


def test_a_mentions_dir_that_is_not_a_folder_fails_naming_the_setting(tmp_path: Path) -> None:
    config = mentions.SOURCE.config(
        {"MENTIONS_DIR": str(tmp_path / "absent"), "SOV_BRAND": "A", "SOV_COMPETITORS": "B"}
    )
    with pytest.raises(SourceError, match="MENTIONS_DIR is not a directory"):
        mentions.SOURCE.connect(config)


@pytest.mark.parametrize(
    ("source", "setting"),
    [
        (content_costs.SOURCE, "CONTENT_COSTS_FILE"),
        (marketing_costs.SOURCE, "MARKETING_COSTS_PATH"),
    ],
)
def test_a_cost_file_source_without_its_file_is_not_configured(
    source, setting, tmp_path: Path
) -> None:
    config = source.config({setting: str(tmp_path / "absent.csv")})
    (missing,) = config.missing()
    assert missing.startswith(setting) and "absent.csv" in missing
    (tmp_path / "absent.csv").write_text("")
    assert config.missing() == []


def test_the_marketing_costs_check_validates_the_file(tmp_path: Path) -> None:
    file = tmp_path / "costs.csv"
    file.write_text("month,category,amount,currency\n2025-03,tools,12;50,USD\n")
    config = marketing_costs.SOURCE.config({"MARKETING_COSTS_PATH": str(file)})
    with pytest.raises(MarketingCostsError, match=r"line 2, column amount: '12;50'"):
        marketing_costs.SOURCE.check(marketing_costs.SOURCE.connect(config), config)
    file.write_text("month,category,amount,currency\n2025-03,tools,12.50,USD\n")
    assert "1 month x category cost(s)" in marketing_costs.SOURCE.check(file, config)
