"""The backlinks provider interface and its Ahrefs API v3 adapter against the emulator."""

from __future__ import annotations

from datetime import date

import pytest

from sources.backlinks import AhrefsProvider, BacklinkCounts, BacklinksProvider, parse_ahrefs_stats
from sources.emulators.ahrefs import DEMO_TOKEN
from sources.emulators.server import Fault
from sources.http import QuotaExhaustedError, SchemaError, SourceError

STATS = r"/v3/site-explorer/backlinks-stats$"
DAY = date(2025, 3, 3)

# The v3 backlinks-stats body as public Ahrefs v3 clients read it (no api-notes file exists).
PAGE = {
    "metrics": {
        "live": 23175,
        "all_time": 88922,
        "live_refdomains": 1566,
        "all_time_refdomains": 5039,
    }
}


@pytest.fixture
def provider(stack, fast_retry) -> AhrefsProvider:
    return AhrefsProvider(DEMO_TOKEN, base_url=stack.server.base_url, retry=fast_retry)


def test_the_stats_body_parses_to_live_and_all_time_counts():
    assert parse_ahrefs_stats(PAGE) == BacklinkCounts(23175, 1566, 88922, 5039)


def test_all_time_counts_are_optional_but_live_counts_are_required():
    partial = parse_ahrefs_stats({"metrics": {"live": 10, "live_refdomains": 2}})
    assert partial == BacklinkCounts(10, 2, None, None)

    with pytest.raises(SchemaError) as info:
        parse_ahrefs_stats({"metrics": {"live": "10", "live_refdomains": 2}})
    assert info.value.field == "metrics.live"
    with pytest.raises(SchemaError, match="no metrics object"):
        parse_ahrefs_stats({"live": 10})


def test_counts_for_a_day_match_the_emulated_backlink_index(stack, provider):
    counts = provider.counts("example.com", DAY)

    expected = stack.seo.backlinks(DAY)
    assert counts.live_backlinks == expected.live
    assert counts.live_referring_domains == expected.live_refdomains
    assert provider.requests_made == 1


def test_the_ahrefs_adapter_satisfies_the_provider_interface(provider):
    def use(p: BacklinksProvider) -> str:
        return p.name

    assert use(provider) == "ahrefs"


def test_a_429_is_retried_then_succeeds(stack, provider, fast_retry):
    stack.server.inject(Fault(path=STATS, status=429, body={"error": "Too many requests"}))

    assert provider.counts("example.com", DAY).live_backlinks > 0
    assert len(fast_retry.waits) == 1


def test_spent_api_units_fail_fast(stack, provider, fast_retry):
    stack.ahrefs.units_remaining = 0

    with pytest.raises(QuotaExhaustedError, match="API units limit reached"):
        provider.counts("example.com", DAY)

    assert stack.server.count(STATS) == 1 and fast_retry.waits == []


def test_a_wrong_token_fails_once_with_the_token_redacted(stack, fast_retry):
    token = "wrong-token-1234567890"
    provider = AhrefsProvider(token, base_url=stack.server.base_url, retry=fast_retry)

    with pytest.raises(SourceError) as info:
        provider.counts("example.com", DAY)

    assert info.value.status == 401 and "Unauthorized" in str(info.value)
    assert token not in str(info.value)
    assert stack.server.count(STATS) == 1


def test_a_future_date_is_refused_by_the_api(stack, provider):
    stack.ahrefs.today = lambda: date(2025, 3, 1)

    with pytest.raises(SourceError, match="date is in the future"):
        provider.counts("example.com", DAY)
