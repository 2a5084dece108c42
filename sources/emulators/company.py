"""A deterministic synthetic company: the single source of demo and test data for every emulator.

The same date always yields the same numbers (no global random state), with weekly seasonality, a
slow trend, a channel mix and a few injected incidents, so drift checks have something to find and
tests can recompute every expected KPI independently.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

CHANNEL_GROUPS: dict[str, dict[str, float]] = {
    # base daily sessions, engagement rate, key-event rate, lead rate, pages/session
    "Organic Search": {"sessions": 820, "engaged": 0.64, "key": 0.030, "lead": 0.012, "pps": 2.4},
    "Direct": {"sessions": 410, "engaged": 0.55, "key": 0.025, "lead": 0.008, "pps": 2.0},
    "Paid Search": {"sessions": 380, "engaged": 0.58, "key": 0.045, "lead": 0.020, "pps": 1.9},
    "Paid Social": {"sessions": 260, "engaged": 0.41, "key": 0.018, "lead": 0.010, "pps": 1.5},
    "Organic Social": {"sessions": 150, "engaged": 0.47, "key": 0.012, "lead": 0.006, "pps": 1.7},
    "Email": {"sessions": 120, "engaged": 0.71, "key": 0.052, "lead": 0.015, "pps": 2.8},
    "Referral": {"sessions": 90, "engaged": 0.60, "key": 0.022, "lead": 0.009, "pps": 2.2},
}
LANDING_PAGES: dict[str, float] = {
    "/": 0.34,
    "/pricing": 0.14,
    "/blog/kpi-guide": 0.12,
    "/blog/seo-basics": 0.09,
    "/blog/email-benchmarks": 0.07,
    "/product": 0.13,
    "/contact": 0.05,
    "(not set)": 0.06,
}
WEEKDAY_FACTOR = (1.08, 1.12, 1.10, 1.05, 0.96, 0.80, 0.74)  # Monday..Sunday
EPOCH = date(2024, 1, 1)


def unit_noise(*key: object) -> float:
    """A deterministic number in [0, 1) for a key: same key, same number, on every machine."""
    digest = hashlib.sha256("|".join(map(str, key)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def noise(spread: float, *key: object) -> float:
    """Deterministic multiplicative noise in ``[1 - spread, 1 + spread)``."""
    return 1 - spread + 2 * spread * unit_noise(*key)


@dataclass(frozen=True)
class Incident:
    kind: str
    factor: float
    channels: tuple[str, ...] | None  # None: every channel


def incident_on(day: date) -> Incident | None:
    """Injected incidents: a tracking outage, an organic slump, a paid campaign spike."""
    roll = unit_noise("incident", day.isoformat())
    if roll < 0.015:
        return Incident("tracking_outage", 0.35, None)
    if roll < 0.035:
        return Incident("organic_slump", 0.55, ("Organic Search",))
    if roll < 0.055:
        return Incident("campaign_spike", 2.3, ("Paid Search", "Paid Social"))
    return None


@dataclass(frozen=True)
class ChannelDay:
    """One day of web analytics for one channel group of one property."""

    sessions: int
    engaged_sessions: int
    screen_page_views: int
    user_engagement_duration: int  # seconds
    key_events: int
    purchase_revenue: Decimal  # major units of the property's currency
    new_users: int
    total_users: int
    leads: int


class Company:
    """The demo company's web analytics, per GA4 property."""

    def __init__(self, property_scale: dict[str, float] | None = None) -> None:
        self.property_scale = property_scale or {"250000001": 1.0}

    @property
    def property_ids(self) -> list[str]:
        return list(self.property_scale)

    def channel_day(self, property_id: str, day: date, channel: str) -> ChannelDay:
        spec = CHANNEL_GROUPS[channel]
        key = (property_id, day.isoformat(), channel)
        trend = 1 + 0.0009 * (day - EPOCH).days
        season = WEEKDAY_FACTOR[day.weekday()] * (1 + 0.06 * math.sin(day.timetuple().tm_yday / 58))
        incident = incident_on(day)
        shock = 1.0
        if incident and (incident.channels is None or channel in incident.channels):
            shock = incident.factor
        scale = self.property_scale.get(property_id, 1.0)
        sessions = round(spec["sessions"] * scale * trend * season * shock * noise(0.12, *key, "s"))
        engaged = round(sessions * spec["engaged"] * noise(0.05, *key, "e"))
        views = round(sessions * spec["pps"] * noise(0.08, *key, "v"))
        duration = round(engaged * 74 * noise(0.2, *key, "d"))
        key_events = round(sessions * spec["key"] * noise(0.3, *key, "k"))
        revenue = Decimal(round(key_events * 86.5 * noise(0.25, *key, "r"), 2)).quantize(
            Decimal("0.01")
        )
        total_users = round(sessions * 0.83 * noise(0.03, *key, "u"))
        new_users = round(total_users * 0.61 * noise(0.08, *key, "n"))
        leads = round(sessions * spec["lead"] * noise(0.35, *key, "l"))
        return ChannelDay(
            sessions=sessions,
            engaged_sessions=min(engaged, sessions),
            screen_page_views=views,
            user_engagement_duration=duration,
            key_events=key_events,
            purchase_revenue=revenue,
            new_users=min(new_users, total_users),
            total_users=total_users,
            leads=leads,
        )

    def landing_page_day(self, property_id: str, day: date, page: str) -> dict[str, float]:
        """A page's share of each channel's sessions, summed over channels."""
        totals: dict[str, float] = {
            "sessions": 0,
            "engagedSessions": 0,
            "screenPageViews": 0,
            "userEngagementDuration": 0,
            "keyEvents": 0,
            "purchaseRevenue": Decimal(0),
        }
        share = LANDING_PAGES[page]
        for channel in CHANNEL_GROUPS:
            cd = self.channel_day(property_id, day, channel)
            tilt = share * noise(0.15, property_id, day.isoformat(), channel, page)
            totals["sessions"] += round(cd.sessions * tilt)
            totals["engagedSessions"] += round(cd.engaged_sessions * tilt)
            totals["screenPageViews"] += round(cd.screen_page_views * tilt)
            totals["userEngagementDuration"] += round(cd.user_engagement_duration * tilt)
            totals["keyEvents"] += round(cd.key_events * tilt)
            totals["purchaseRevenue"] += (
                cd.purchase_revenue * Decimal(str(round(tilt, 6)))
            ).quantize(Decimal("0.01"))
        return totals

    def users_in_range(self, property_id: str, start: date, end: date) -> int:
        """Unique users over a date range: fewer than the sum of daily users (returning visitors)."""
        days = (end - start).days + 1
        daily = 0
        for offset in range(days):
            day = start + timedelta(days=offset)
            daily += sum(self.channel_day(property_id, day, c).total_users for c in CHANNEL_GROUPS)
        return round(daily / (1 + 0.22 * math.log(days))) if days > 1 else daily


# --------------------------------------------------------------------------------------------------
# Paid ads (Google Ads, Meta Ads): campaign x day, clicks tied to GA4 Paid Search / Paid Social
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AdAccount:
    """An ads account: its amounts are in ``currency``, its days in ``time_zone``."""

    platform: str  # google_ads | meta_ads
    account_id: str
    name: str
    currency: str
    time_zone: str


@dataclass(frozen=True)
class AdCampaign:
    """A campaign and the levers that turn its share of paid clicks into the other measures."""

    platform: str
    account_id: str
    campaign_id: str
    name: str
    status: str
    click_share: float  # share of the platform's paid clicks
    cpc: float  # in the account currency
    ctr: float  # clicks / impressions
    conversion_rate: float  # conversions / clicks
    order_value: float  # conversion value per conversion, account currency
    weekdays_only: bool = False  # no delivery Saturday and Sunday: the API omits those days


@dataclass(frozen=True)
class AdDay:
    """One campaign-day as the platform counts it (amounts in the account currency)."""

    impressions: int
    clicks: int
    spend: Decimal
    conversions: Decimal
    conversion_value: Decimal

    @property
    def is_empty(self) -> bool:
        return not (self.impressions or self.clicks or self.spend or self.conversions)


AD_ACCOUNTS: tuple[AdAccount, ...] = (
    AdAccount("google_ads", "4815162342", "Acme US", "USD", "America/New_York"),
    AdAccount("google_ads", "7020304050", "Acme DE", "EUR", "Europe/Berlin"),
    AdAccount("meta_ads", "798085168510957", "Acme US", "USD", "America/Los_Angeles"),
    AdAccount("meta_ads", "801234567890123", "Acme Norge", "NOK", "Europe/Oslo"),
)
# fmt: off
AD_CAMPAIGNS: tuple[AdCampaign, ...] = tuple(AdCampaign(*row) for row in (
    # platform, account, campaign id, name, status, click share, cpc, ctr, conv. rate, order value, weekdays only
    ("google_ads", "4815162342", "9935249409", "Search - Brand - US", "ENABLED", 0.30, 0.62, 0.11, 0.085, 92.0, False),
    ("google_ads", "4815162342", "9935260113", "Search - Generic - US", "ENABLED", 0.34, 1.85, 0.045, 0.048, 88.0, False),
    ("google_ads", "4815162342", "9935271876", "PMax - Catalog", "ENABLED", 0.22, 0.95, 0.006, 0.036, 110.0, False),
    ("google_ads", "7020304050", "17724403311", "Search - Generic - DE", "ENABLED", 0.14, 1.40, 0.05, 0.041, 81.0, True),
    ("meta_ads", "798085168510957", "23854404676180548", "Prospecting - Broad - US", "ACTIVE", 0.45, 0.74, 0.016, 0.021, 76.0, False),
    ("meta_ads", "798085168510957", "23854404676180999", "Retargeting - 30d", "ACTIVE", 0.20, 0.58, 0.022, 0.052, 84.0, False),
    ("meta_ads", "801234567890123", "23860011223344556", "Prospecting - Broad - NO", "ACTIVE", 0.35, 7.40, 0.014, 0.019, 820.0, False),
))
# fmt: on
# Paid clicks per GA4 session of the matching channel group on the main site (some clicks never
# become a session: bounces before the tag fires, blocked analytics).
CLICKS_PER_SESSION = {"google_ads": ("Paid Search", 1.12), "meta_ads": ("Paid Social", 1.27)}


class AdsProgram:
    """The company's ads accounts and campaigns; every number derives from ``Company``'s sessions."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self.accounts = {a.account_id: a for a in AD_ACCOUNTS}
        self.campaigns = AD_CAMPAIGNS

    def account_ids(self, platform: str) -> list[str]:
        return [a.account_id for a in AD_ACCOUNTS if a.platform == platform]

    def campaigns_of(self, account_id: str) -> list[AdCampaign]:
        return [c for c in self.campaigns if c.account_id == account_id]

    def platform_clicks(self, platform: str, day: date) -> float:
        """Paid clicks of a platform for a day: the main site's paid sessions times a factor."""
        channel, factor = CLICKS_PER_SESSION[platform]
        main = self.company.property_ids[0]
        sessions = self.company.channel_day(main, day, channel).sessions
        return sessions * factor * noise(0.04, "ads", platform, day.isoformat())

    def campaign_day(self, campaign: AdCampaign, day: date) -> AdDay:
        """One campaign-day; all zeros on days without delivery."""
        if campaign.weekdays_only and day.weekday() >= 5:
            zero = Decimal(0)
            return AdDay(0, 0, zero, zero, zero)
        key = ("ads", campaign.campaign_id, day.isoformat())
        clicks = round(
            self.platform_clicks(campaign.platform, day)
            * campaign.click_share
            * noise(0.15, *key, "c")
        )
        impressions = round(clicks / (campaign.ctr * noise(0.2, *key, "i")))
        spend = Decimal(str(round(clicks * campaign.cpc * noise(0.2, *key, "s"), 2)))
        rate = campaign.conversion_rate * noise(0.4, *key, "k")
        if campaign.platform == "google_ads":  # data-driven attribution: fractional conversions
            conversions = Decimal(str(round(clicks * rate, 2)))
        else:
            conversions = Decimal(round(clicks * rate))
        value = Decimal(
            str(round(float(conversions) * campaign.order_value * noise(0.2, *key, "v"), 2))
        )
        return AdDay(impressions, clicks, spend, conversions, value)
