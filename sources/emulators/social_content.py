"""The social, mentions and content emulators and their demo settings, registered by stack.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sources.emulators.company import SOCIAL_ACCOUNTS, SOV_BRAND, SOV_COMPETITORS
from sources.emulators.exports import write_costs_file, write_mention_exports
from sources.emulators.linkedin import LinkedInEmulator
from sources.emulators.meta_ads import DEMO_ACCESS_TOKEN as META_ADS_DEMO_TOKEN
from sources.emulators.meta_graph import MetaGraphEmulator
from sources.emulators.server import EmulatorServer
from sources.emulators.wordpress import WordPressEmulator

# One Meta system-user token for the Graph API, as in a real setup: the ads emulator's.
DEMO_META_TOKEN = META_ADS_DEMO_TOKEN
DEMO_LINKEDIN_TOKEN = "AQVdemoLinkedInMemberToken000001"
DEMO_WORDPRESS_USER = "kpi-reader"
DEMO_WORDPRESS_PASSWORD = "abcd EFGH ijkl MNOP qrst UVWX"
DEMO_MENTION_DAYS = 120


def _ids(platform: str) -> str:
    return ",".join(a.account_id for a in SOCIAL_ACCOUNTS if a.platform == platform)


@dataclass
class SocialContentEmulators:
    meta: MetaGraphEmulator
    linkedin: LinkedInEmulator
    wordpress: WordPressEmulator

    @classmethod
    def build(cls, server: EmulatorServer) -> SocialContentEmulators:
        emulators = cls(
            MetaGraphEmulator(DEMO_META_TOKEN),
            LinkedInEmulator(DEMO_LINKEDIN_TOKEN),
            WordPressEmulator(DEMO_WORDPRESS_USER, DEMO_WORDPRESS_PASSWORD),
        )
        for emulator in (emulators.meta, emulators.linkedin, emulators.wordpress):
            emulator.register(server)
        return emulators

    def set_today(self, day: date) -> None:
        """Pin the emulators' "today" (tests of a fixed past range)."""
        for emulator in (self.meta, self.linkedin, self.wordpress):
            emulator.today = lambda: day


def social_content_settings(
    base_url: str, demo_dir: Path, today: date | None = None
) -> dict[str, str]:
    """Settings for the social, mentions and content sources; writes the demo's files."""
    today = today or datetime.now(UTC).date()
    mentions_dir = demo_dir / "mentions"
    write_mention_exports(
        mentions_dir, today - timedelta(days=DEMO_MENTION_DAYS), today - timedelta(days=1)
    )
    costs = write_costs_file(demo_dir / "content_costs.csv", today)
    return {
        "META_BASE_URL": base_url,
        "META_ACCESS_TOKEN": DEMO_META_TOKEN,
        "META_PAGE_IDS": _ids("facebook"),
        "INSTAGRAM_ACCOUNT_IDS": _ids("instagram"),
        "LINKEDIN_BASE_URL": base_url,
        "LINKEDIN_ACCESS_TOKEN": DEMO_LINKEDIN_TOKEN,
        # a version LinkedIn still serves: last month's
        "LINKEDIN_API_VERSION": f"{(today.replace(day=1) - timedelta(days=1)):%Y%m}",
        "LINKEDIN_ORGANIZATION_IDS": _ids("linkedin"),
        "MENTIONS_DIR": str(mentions_dir),
        "SOV_BRAND": SOV_BRAND,
        "SOV_COMPETITORS": ",".join(SOV_COMPETITORS),
        "WORDPRESS_BASE_URL": base_url,
        "WORDPRESS_USERNAME": DEMO_WORDPRESS_USER,
        "WORDPRESS_APP_PASSWORD": DEMO_WORDPRESS_PASSWORD,
        "CONTENT_COSTS_FILE": str(costs),
        "CONTENT_PATH_PREFIXES": "/blog/",
    }
