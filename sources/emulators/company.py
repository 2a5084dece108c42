"""A deterministic synthetic company: the single source of demo and test data for every emulator.

The same date always yields the same numbers (no global random state), with weekly seasonality, a
slow trend, a channel mix and a few injected incidents, so drift checks have something to find and
tests can recompute every expected KPI independently.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ClassVar

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


_SEED: list[int] = [0]  # 0: the demo company; another seed: another company of the same shape


def unit_noise(*key: object) -> float:
    """A deterministic number in [0, 1) for a key: same key, same number, on every machine."""
    text = "|".join(map(str, key))
    if _SEED[0]:
        text = f"seed{_SEED[0]}|{text}"
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Every number drawn inside comes from company number ``seed`` (0 is the demo company):
    the same shape, channels and rates, other noise and other incident days."""
    previous = _SEED[0]
    _SEED[0] = seed
    try:
        yield
    finally:
        _SEED[0] = previous


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
# Email (Mailchimp): campaigns whose lifetime totals keep growing after the send
# --------------------------------------------------------------------------------------------------
EMAIL_LIST_ID = "ab6c0d6df6"
EMAIL_LIST_SIZE = 14_200  # subscribers on EPOCH; grows slowly


@dataclass(frozen=True)
class Campaign:
    """One sent regular campaign with its final (fully grown) lifetime totals."""

    id: str
    title: str
    kind: str  # newsletter | promo | product_update
    list_id: str
    send_time: datetime  # UTC
    emails_sent: int
    hard_bounces: int
    soft_bounces: int
    syntax_errors: int
    unique_opens: int
    unique_subscriber_clicks: int
    unsubscribed: int
    abuse_reports: int
    forwards: int
    orders: int | None  # None: e-commerce tracking off for this campaign
    revenue: Decimal | None

    @property
    def delivered(self) -> int:
        return self.emails_sent - self.hard_bounces - self.soft_bounces - self.syntax_errors


@dataclass(frozen=True)
class CampaignTotals:
    """A campaign's lifetime-cumulative counts as a report shows them at one moment."""

    unique_opens: int
    opens_total: int
    proxy_excluded_unique_opens: int
    unique_subscriber_clicks: int
    unique_clicks: int
    clicks_total: int
    unsubscribed: int
    abuse_reports: int
    forwards: int
    forwards_opens: int
    orders: int | None
    revenue: Decimal | None


class EmailProgram:
    """The company's Mailchimp campaigns: a Tuesday newsletter, occasional promos and a product
    update on the first Tuesday of the month (late evening UTC, without e-commerce tracking)."""

    _KINDS: ClassVar[dict[str, tuple[float, float, float, float, float | None]]] = {
        # open rate, click rate, unsubscribe, forward, order rate over delivered
        "newsletter": (0.41, 0.052, 0.0021, 0.0018, 0.0011),
        "promo": (0.29, 0.038, 0.0034, 0.0009, 0.0046),
        "product_update": (0.36, 0.061, 0.0012, 0.0025, None),
    }

    def campaigns_sent_on(self, day: date) -> list[Campaign]:
        """Campaigns whose send time falls on ``day`` (UTC)."""
        kinds: list[tuple[str, int, int]] = []  # kind, hour, minute
        if day.weekday() == 1:
            kinds.append(("newsletter", 13, int(unit_noise("nl", day) * 50)))
        if day.weekday() in (2, 3, 4, 5) and unit_noise("promo", day.isoformat()) < 0.3:
            kinds.append(("promo", 16, int(unit_noise("promo-min", day) * 59)))
        if day.weekday() == 1 and day.day <= 7:  # first Tuesday: same day as a newsletter
            kinds.append(("product_update", 23, 40))
        return [self._campaign(day, kind, hour, minute) for kind, hour, minute in kinds]

    def campaigns_between(self, start: datetime, end: datetime) -> list[Campaign]:
        """Campaigns sent in ``[start, end)`` (aware datetimes), oldest first."""
        result = []
        day = start.astimezone(UTC).date()
        while day <= end.astimezone(UTC).date():
            result.extend(c for c in self.campaigns_sent_on(day) if start <= c.send_time < end)
            day += timedelta(days=1)
        return sorted(result, key=lambda c: c.send_time)

    def _campaign(self, day: date, kind: str, hour: int, minute: int) -> Campaign:
        key = ("campaign", day.isoformat(), kind)
        open_rate, click_rate, unsub, fwd, order = self._KINDS[kind]
        sent = round(EMAIL_LIST_SIZE * (1 + 0.0006 * (day - EPOCH).days) * noise(0.01, *key, "n"))
        if kind == "promo":
            sent = round(sent * 0.62)  # a segment of the list
        hard = round(sent * 0.004 * noise(0.4, *key, "hb"))
        soft = round(sent * 0.008 * noise(0.4, *key, "sb"))
        syntax = int(unit_noise(*key, "syn") * 3)
        delivered = sent - hard - soft - syntax
        orders = None if order is None else round(delivered * order * noise(0.35, *key, "o"))
        revenue = (
            None
            if orders is None
            else Decimal(round(orders * 64.9 * noise(0.2, *key, "rev"), 2)).quantize(
                Decimal("0.01")
            )
        )
        title = {"newsletter": "Weekly digest", "promo": "Offer", "product_update": "Product news"}
        return Campaign(
            id=hashlib.sha256("|".join(key).encode()).hexdigest()[:10],
            title=f"{title[kind]} {day.isoformat()}",
            kind=kind,
            list_id=EMAIL_LIST_ID,
            send_time=datetime(day.year, day.month, day.day, hour, minute, 4, tzinfo=UTC),
            emails_sent=sent,
            hard_bounces=hard,
            soft_bounces=soft,
            syntax_errors=syntax,
            unique_opens=round(delivered * open_rate * noise(0.12, *key, "op")),
            unique_subscriber_clicks=round(delivered * click_rate * noise(0.2, *key, "cl")),
            unsubscribed=round(delivered * unsub * noise(0.4, *key, "un")),
            abuse_reports=int(unit_noise(*key, "ab") * 2),
            forwards=round(delivered * fwd * noise(0.5, *key, "fw")),
            orders=orders,
            revenue=revenue,
        )

    @staticmethod
    def totals(campaign: Campaign, as_of: datetime) -> CampaignTotals:
        """Lifetime totals at ``as_of``: most activity in the first two days, a tail for weeks."""
        hours = max((as_of - campaign.send_time).total_seconds() / 3600, 0.0)
        grown = 1 - math.exp(-hours / 20)

        def part(value: int) -> int:
            return math.floor(value * grown)

        opens = part(campaign.unique_opens)
        clicks = part(campaign.unique_subscriber_clicks)
        orders = None if campaign.orders is None else part(campaign.orders)
        revenue = None
        if campaign.revenue is not None and campaign.orders:
            revenue = (campaign.revenue * Decimal(orders or 0) / campaign.orders).quantize(
                Decimal("0.01")
            )
        return CampaignTotals(
            unique_opens=opens,
            opens_total=round(opens * 1.6),
            proxy_excluded_unique_opens=round(opens * 0.72),
            unique_subscriber_clicks=clicks,
            unique_clicks=round(clicks * 1.15),
            clicks_total=round(clicks * 1.6),
            unsubscribed=part(campaign.unsubscribed),
            abuse_reports=part(campaign.abuse_reports),
            forwards=part(campaign.forwards),
            forwards_opens=round(part(campaign.forwards) * 1.8),
            orders=orders,
            revenue=revenue if campaign.orders else campaign.revenue,
        )


# --------------------------------------------------------------------------------------------------
# SEO: Search Console queries, page speed, backlinks
# --------------------------------------------------------------------------------------------------
SITE_URL = "https://www.example.com/"
SITE_DOMAIN = "example.com"
# query -> (daily impressions, average position, landing pages (first one takes most impressions))
SEARCH_QUERIES: dict[str, tuple[int, float, tuple[str, ...]]] = {
    "acme analytics": (420, 1.2, ("/",)),
    "acme analytics pricing": (160, 1.4, ("/pricing",)),
    "acme kpi dashboard": (95, 2.1, ("/product", "/")),
    "kpi dashboard": (1300, 8.5, ("/product", "/blog/kpi-guide")),
    "marketing kpis": (2100, 11.2, ("/blog/kpi-guide",)),
    "how to measure marketing kpis": (640, 6.3, ("/blog/kpi-guide",)),
    "seo basics": (3200, 17.5, ("/blog/seo-basics",)),
    "seo checklist for beginners": (780, 9.8, ("/blog/seo-basics",)),
    "email open rate benchmark": (1500, 5.4, ("/blog/email-benchmarks",)),
    "average email click rate": (900, 7.7, ("/blog/email-benchmarks",)),
    "kpi software": (1100, 14.6, ("/product", "/pricing")),
    "marketing analytics tool": (1700, 21.3, ("/product",)),
    "contact acme analytics": (40, 1.0, ("/contact",)),
}
# Rare queries Search Console anonymizes: in the property total, never in query rows.
ANONYMIZED_IMPRESSION_SHARE = 0.08
ANONYMIZED_POSITION = 18.0
# Lab LCP on a mid-range phone (ms); desktop runs take about 45% of it.
PAGE_LCP_MS = {
    "/": 2450.0,
    "/pricing": 2900.0,
    "/product": 2600.0,
    "/blog/kpi-guide": 3300.0,
    "/blog/seo-basics": 3100.0,
    "/blog/email-benchmarks": 2700.0,
    "/contact": 1900.0,
}
FIELD_DATA_MIN_SHARE = 0.12  # pages with less traffic have no URL-level CrUX data


def page_url(path: str) -> str:
    return SITE_URL.rstrip("/") + path


@dataclass(frozen=True)
class SearchRow:
    query: str
    page: str  # full URL, as Search Console reports it
    clicks: int
    impressions: int
    position: float


@dataclass(frozen=True)
class PageSpeedRun:
    """One Lighthouse run and the CrUX field data PageSpeed Insights returns with it."""

    performance_score: float
    lcp_ms: float
    fcp_ms: float
    cls: float
    tbt_ms: float
    field: dict[str, int] | None  # CrUX percentiles (CLS x100), None: no URL-level field data
    origin_fallback: bool


@dataclass(frozen=True)
class BacklinkStats:
    live: int
    all_time: int
    live_refdomains: int
    all_time_refdomains: int


def expected_ctr(position: float) -> float:
    """Click-through rate of an organic result at an average position."""
    return 0.32 / position**1.15


class SeoPresence:
    """The company site's organic search, page speed and backlink profile."""

    def search_rows(self, day: date) -> list[SearchRow]:
        """Query x page rows of one (Pacific) day, zero-impression rows omitted."""
        trend = 1 + 0.0011 * (day - EPOCH).days
        weekday = WEEKDAY_FACTOR[day.weekday()]
        slump = 0.55 if (i := incident_on(day)) and i.kind == "organic_slump" else 1.0
        rows = []
        for query, (base, position, pages) in SEARCH_QUERIES.items():
            total = base * trend * weekday * slump * noise(0.15, "gsc", day.isoformat(), query)
            for rank, path in enumerate(pages):
                share = 1.0 if len(pages) == 1 else (0.78 if rank == 0 else 0.22)
                key = ("gsc", day.isoformat(), query, path)
                impressions = round(total * share)
                if impressions == 0:
                    continue
                avg = max(1.0, (position + 2.5 * rank) * noise(0.08, *key, "p"))
                clicks = min(impressions, round(impressions * expected_ctr(avg) * noise(0.2, *key)))
                rows.append(SearchRow(query, page_url(path), clicks, impressions, avg))
        return rows

    def search_total(self, day: date) -> SearchRow:
        """The property's daily total: the query rows plus the anonymized queries."""
        rows = self.search_rows(day)
        shown = sum(r.impressions for r in rows)
        hidden = round(shown * ANONYMIZED_IMPRESSION_SHARE / (1 - ANONYMIZED_IMPRESSION_SHARE))
        hidden_clicks = round(hidden * expected_ctr(ANONYMIZED_POSITION))
        weighted = sum(r.position * r.impressions for r in rows) + ANONYMIZED_POSITION * hidden
        impressions = shown + hidden
        return SearchRow(
            query="",
            page="",
            clicks=sum(r.clicks for r in rows) + hidden_clicks,
            impressions=impressions,
            position=weighted / impressions if impressions else 0.0,
        )

    def page_speed(self, path: str, strategy: str, day: date) -> PageSpeedRun:
        """A PageSpeed Insights run of a site page on ``day`` (``mobile`` or ``desktop``)."""
        key = ("psi", path, strategy, day.isoformat())
        base = PAGE_LCP_MS.get(path, 2800.0) * (1.0 if strategy == "mobile" else 0.45)
        slow_deploy = 1.6 if unit_noise("slow-deploy", day.isoformat()) < 0.04 else 1.0
        lcp = round(base * slow_deploy * noise(0.12, *key, "lcp"), 1)
        fcp = round(lcp * 0.55 * noise(0.1, *key, "fcp"), 1)
        tbt = round((320.0 if strategy == "mobile" else 90.0) * noise(0.4, *key, "tbt"), 1)
        cls = round(0.05 * noise(0.6, *key, "cls"), 6)
        score = max(0.0, min(1.0, 1.12 - lcp / 9000 - tbt / 2500 - cls))
        share = LANDING_PAGES.get(path, 0.0)
        field = None
        if share >= FIELD_DATA_MIN_SHARE:
            field = {
                "LARGEST_CONTENTFUL_PAINT_MS": round(base * 1.15 * noise(0.03, *key, "f1")),
                "FIRST_CONTENTFUL_PAINT_MS": round(base * 0.6 * noise(0.03, *key, "f2")),
                "CUMULATIVE_LAYOUT_SHIFT_SCORE": round(6 * noise(0.3, *key, "f3")),
                "INTERACTION_TO_NEXT_PAINT": round(180 * noise(0.1, *key, "f4")),
            }
        return PageSpeedRun(
            performance_score=round(score, 2),
            lcp_ms=lcp,
            fcp_ms=fcp,
            cls=cls,
            tbt_ms=tbt,
            field=field,
            origin_fallback=field is None and share >= 0.07,
        )

    @staticmethod
    def backlinks(day: date) -> BacklinkStats:
        """Backlink index counts on ``day``: steady growth, a lost-links dip now and then."""
        days = (day - EPOCH).days
        live = 18_400 + 11.5 * days + 260 * math.sin(days / 23)
        if unit_noise("lost-links", day.isoformat()) < 0.03:
            live *= 0.93
        live = round(live * noise(0.004, "bl", day.isoformat()))
        domains = round(live * 0.067 * noise(0.01, "rd", day.isoformat()))
        return BacklinkStats(
            live=live,
            all_time=round(live * 3.1 + 40 * days),
            live_refdomains=domains,
            all_time_refdomains=round(domains * 2.4 + 3 * days),
        )


# Social accounts, share of voice and content (issue 6). Independent of the web numbers above.
# --------------------------------------------------------------------------------------------------
SOV_BRAND = "Northwind"
SOV_COMPETITORS = ("Contoso", "Fabrikam")
MENTION_BASE = {"Northwind": 42, "Contoso": 55, "Fabrikam": 31}  # mentions per day
MENTION_SOURCES = (("twitter", 0.38), ("reddit", 0.18), ("news", 0.16), ("blogs", 0.16))
MENTION_SOURCES += (("youtube", 0.12),)


@dataclass(frozen=True)
class SocialAccount:
    platform: str  # facebook | instagram | linkedin
    account_id: str
    impressions: float  # base per day
    reach_ratio: float
    engagement_rate: float
    click_rate: float
    followers: int  # on EPOCH
    growth: float  # followers per day


SOCIAL_ACCOUNTS = (
    SocialAccount("facebook", "104000000000001", 5200, 0.64, 0.034, 0.0, 18_400, 6.5),
    SocialAccount("instagram", "17841400000000001", 7400, 0.58, 0.052, 0.004, 26_900, 11.0),
    SocialAccount("linkedin", "2414183", 3100, 0.71, 0.041, 0.012, 9_800, 4.2),
)


@dataclass(frozen=True)
class SocialDay:
    """One day of one social account. ``reach`` or ``link_clicks`` is None when not reported."""

    impressions: int
    reach: int | None
    engagements: int
    link_clicks: int | None
    likes: int
    comments: int
    shares: int
    followers: int  # end of day
    follower_gain: int


@dataclass(frozen=True)
class BlogPost:
    post_id: int
    path: str
    title: str
    published: date
    cost: Decimal
    currency: str

    @property
    def url(self) -> str:
        return f"{SITE_URL.rstrip('/')}{self.path}/"  # WordPress permalinks end with a slash


@dataclass(frozen=True)
class Comment:
    comment_id: int
    post_id: int
    at: datetime  # UTC


@dataclass(frozen=True)
class Mention:
    mention_id: str
    at: datetime  # UTC
    source: str
    brand: str
    url: str
    linked_url: str | None
    text: str


TOPICS = ("social-playbook", "content-roi", "dashboard-tips", "churn-signals", "attribution-101")
OTHER_PAGES = {"/": 1500, "/pricing": 600, "/product": 520, "/contact": 150}
LEGACY_POSTS = (
    ("/blog/kpi-guide", "The complete KPI guide", date(2023, 5, 10), 180),
    ("/blog/seo-basics", "SEO basics for small teams", date(2023, 9, 2), 140),
    ("/blog/email-benchmarks", "Email benchmarks", date(2023, 12, 1), 110),
)
POST_EVERY_DAYS = 9
LAST_POST_DAY = date(2027, 12, 31)


def _followers(account: SocialAccount, day: date) -> int:
    days = (day - EPOCH).days
    return round(account.followers + account.growth * days + 240 * math.sin(days / 11))


def social_day(account: SocialAccount, day: date) -> SocialDay:
    """Deterministic daily insights of a social account."""
    key = (account.platform, account.account_id, day.isoformat())
    trend = 1 + 0.0006 * (day - EPOCH).days
    impressions = round(
        account.impressions * trend * WEEKDAY_FACTOR[day.weekday()] * noise(0.18, *key, "i")
    )
    reach = min(impressions, round(impressions * account.reach_ratio * noise(0.06, *key, "r")))
    clicks = round(impressions * account.click_rate * noise(0.3, *key, "c"))
    interactions = round(impressions * account.engagement_rate * noise(0.25, *key, "e"))
    likes = round(interactions * 0.72)
    comments = round(interactions * 0.17)
    shares = interactions - likes - comments
    followers = _followers(account, day)
    if account.platform == "linkedin" and unit_noise(*key, "no-reach") < 0.15:
        reach_value: int | None = None  # LinkedIn omits uniqueImpressionsCount some days
    else:
        reach_value = reach
    return SocialDay(
        impressions=impressions,
        reach=reach_value,
        engagements=interactions + clicks,
        link_clicks=None if account.platform == "facebook" else clicks,
        likes=likes,
        comments=comments,
        shares=shares,
        followers=followers,
        follower_gain=followers - _followers(account, day - timedelta(days=1)),
    )


def blog_posts() -> list[BlogPost]:
    """The content inventory: three evergreen posts and a new post every ~9 days since EPOCH."""
    posts = [
        BlogPost(101 + i, path, title, published, _post_cost(path), "USD")
        for i, (path, title, published, _) in enumerate(LEGACY_POSTS)
    ]
    n = 0
    while True:
        published = EPOCH + timedelta(days=POST_EVERY_DAYS * n + int(unit_noise("post", n) * 4))
        if published > LAST_POST_DAY:
            return posts
        topic = TOPICS[n % len(TOPICS)]
        path = f"/blog/{topic}-{n + 1}"
        currency = "EUR" if n % 7 == 3 else "USD"  # a freelancer billed in euros
        title = f"{topic.replace('-', ' ').capitalize()} #{n + 1}"
        posts.append(BlogPost(200 + n, path, title, published, _post_cost(path), currency))
        n += 1


def _post_cost(path: str) -> Decimal:
    return Decimal(str(round(250 + 900 * unit_noise("cost", path), 2))).quantize(Decimal("0.01"))


def page_day(property_id: str, day: date, path: str, scale: float = 1.0) -> dict[str, int]:
    """GA4 page-level numbers of one page path on one day (views, engagement seconds, leads)."""
    key = (property_id, day.isoformat(), path)
    season = WEEKDAY_FACTOR[day.weekday()]
    if path in OTHER_PAGES:
        views = round(OTHER_PAGES[path] * scale * season * noise(0.15, *key, "v"))
        seconds_per_view = 31
    else:
        post = _posts_by_path().get(path)
        if post is None or day < post.published:
            return {"screenPageViews": 0, "userEngagementDuration": 0, "leads": 0}
        legacy = {p: base for p, _, _, base in LEGACY_POSTS}
        age = (day - post.published).days
        base = legacy.get(path) or 40 * (0.3 + 2.6 * math.exp(-age / 6))
        views = round(base * scale * season * noise(0.2, *key, "v"))
        seconds_per_view = 52
    return {
        "screenPageViews": views,
        "userEngagementDuration": round(views * seconds_per_view * noise(0.25, *key, "d")),
        "leads": round(views * 0.006 * noise(0.6, *key, "l")),
    }


def page_paths(day: date) -> list[str]:
    """Every page path with a possible page view on ``day``."""
    return list(OTHER_PAGES) + [p.path for p in blog_posts() if p.published <= day]


def comments_on(day: date) -> list[Comment]:
    """Comments posted on ``day`` (UTC), a few per recent post, fewer on old ones."""
    result = []
    for post in blog_posts():
        if post.published > day:
            continue
        age = (day - post.published).days
        rate = 0.25 + 3.0 * math.exp(-age / 5)
        count = int(rate * 2 * unit_noise("comments", post.post_id, day.isoformat()))
        for i in range(count):
            key = ("comment", post.post_id, day.isoformat(), i)
            seconds = int(unit_noise(*key, "t") * 86_400)
            at = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
            comment_id = 10_000 + int(unit_noise(*key, "id") * 2_000_000_000)
            result.append(Comment(comment_id, post.post_id, at))
    return result


def mentions_on(day: date) -> list[Mention]:
    """Social-listening mentions of the brand and its competitors on ``day`` (UTC)."""
    posts = [p for p in blog_posts() if p.published <= day]
    result = []
    for brand, base in MENTION_BASE.items():
        count = round(base * WEEKDAY_FACTOR[day.weekday()] * noise(0.3, "mentions", brand, day))
        for i in range(count):
            key = ("mention", brand, day.isoformat(), i)
            roll, cumulative, source = unit_noise(*key, "s"), 0.0, MENTION_SOURCES[-1][0]
            for name, weight in MENTION_SOURCES:
                cumulative += weight
                if roll < cumulative:
                    source = name
                    break
            seconds = int(unit_noise(*key, "t") * 86_400)
            at = datetime(day.year, day.month, day.day) + timedelta(seconds=seconds)
            mention_id = hashlib.sha256("|".join(map(str, key)).encode()).hexdigest()[:16]
            linked = None
            if brand == SOV_BRAND and posts and unit_noise(*key, "l") < 0.3:
                linked = posts[int(unit_noise(*key, "p") * len(posts))].url
            result.append(
                Mention(
                    mention_id=mention_id,
                    at=at,
                    source=source,
                    brand=brand,
                    url=f"https://{source}.example/post/{mention_id}",
                    linked_url=linked,
                    text=f"What do you think of {brand}? Comparing dashboards this week.",
                )
            )
    return result


_POSTS_CACHE: dict[str, BlogPost] = {}


def _posts_by_path() -> dict[str, BlogPost]:
    if not _POSTS_CACHE:
        _POSTS_CACHE.update({p.path: p for p in blog_posts()})
    return _POSTS_CACHE


# Sales (Stripe), CRM (HubSpot) and customer service (Zendesk)
#
# Driven by the *true* demand behind the GA4 numbers: a GA4 tracking outage hides sessions, leads
# and purchases from analytics, but payments, CRM contacts and tickets still happen. Every object
# has a life (a charge is refunded days later, a contact moves through lifecycle stages, a ticket is
# replied to, solved, closed and rated); ``now`` decides how far that life has got, exactly as an
# API answers differently on different days.
# --------------------------------------------------------------------------------------------------
STRIPE_CURRENCIES = (
    ("usd", 0.55),
    ("eur", 0.15),
    ("gbp", 0.08),
    ("nok", 0.05),
    ("sek", 0.05),
    ("jpy", 0.07),
    ("kwd", 0.05),
)
PRICE_PER_USD = {
    "usd": 1.0,
    "eur": 0.92,
    "gbp": 0.79,
    "nok": 10.7,
    "sek": 10.4,
    "jpy": 149.0,
    "kwd": 0.308,
}
MINOR_EXPONENT = {"jpy": 0, "kwd": 3}  # every other demo currency: 2
HUBSPOT_SOURCE = {
    "Organic Search": "ORGANIC_SEARCH",
    "Direct": "DIRECT_TRAFFIC",
    "Paid Search": "PAID_SEARCH",
    "Paid Social": "PAID_SOCIAL",
    "Organic Social": "SOCIAL_MEDIA",
    "Email": "EMAIL_MARKETING",
    "Referral": "REFERRALS",
}
LIFECYCLE = ("lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity", "customer")
CUSTOM_PIPELINE = "733941828"
DEAL_STAGES = {  # pipeline -> (open stage, won stage, lost stage)
    "default": ("qualifiedtobuy", "closedwon", "closedlost"),
    CUSTOM_PIPELINE: ("1093114600", "1093114602", "1093114603"),
}


def _span(hours: float) -> timedelta:
    """A duration in whole seconds (APIs send timestamps to the second)."""
    return timedelta(seconds=int(hours * 3600))


def _at(day: date, fraction: float) -> datetime:
    """The UTC instant ``fraction`` of the way through ``day`` (whole seconds)."""
    return datetime.combine(day, time(0), tzinfo=UTC) + timedelta(seconds=int(fraction * 86400))


@dataclass(frozen=True)
class Charge:
    """A Stripe charge and its future: pending -> succeeded, a refund, a dispute."""

    id: str
    created: datetime
    amount: int  # minor units of currency
    currency: str  # lower case, as Stripe sends it
    customer: str | None
    failed: bool
    settles: datetime  # pending until then (cards settle at once, bank debits in days)
    refund_amount: int
    refunded_at: datetime | None
    disputed_at: datetime | None

    def status(self, now: datetime) -> str:
        if self.failed:
            return "failed"
        return "succeeded" if now >= self.settles else "pending"

    def amount_refunded(self, now: datetime) -> int:
        if self.refunded_at is None or now < self.refunded_at or self.status(now) != "succeeded":
            return 0
        return self.refund_amount


@dataclass(frozen=True)
class Contact:
    """A HubSpot contact and the lifecycle stages it reaches (stage, from when)."""

    id: str
    created: datetime
    source: str
    stages: tuple[tuple[datetime, str], ...]

    def stage(self, now: datetime) -> str:
        return [s for at, s in self.stages if at <= now][-1]

    def last_modified(self, now: datetime) -> datetime:
        return [at for at, _ in self.stages if at <= now][-1] + timedelta(seconds=1)


@dataclass(frozen=True)
class Deal:
    """A HubSpot deal: open from ``created``; closed (won or lost) at ``closes`` if ever."""

    id: str
    created: datetime
    closes: datetime | None
    won: bool
    amount: Decimal | None  # major units of currency
    currency: str | None  # None: the portal's default currency
    pipeline: str

    def is_closed(self, now: datetime) -> bool:
        return self.closes is not None and self.closes <= now

    def stage(self, now: datetime) -> str:
        open_stage, won, lost = DEAL_STAGES[self.pipeline]
        if not self.is_closed(now):
            return open_stage
        return won if self.won else lost

    def last_modified(self, now: datetime) -> datetime:
        moment = self.closes if self.is_closed(now) else self.created
        return moment + timedelta(seconds=2)  # type: ignore[operator]


@dataclass(frozen=True)
class Rating:
    """A CSAT survey: offered after solving, maybe answered, a bad answer maybe revised to good."""

    id: int
    offered: datetime
    answered: datetime | None
    first_score: str  # good | bad
    revised: datetime | None  # bad -> good at this moment

    def score(self, now: datetime) -> str:
        if self.answered is None or now < self.answered:
            return "offered"
        if self.revised is not None and now >= self.revised:
            return "good"
        return self.first_score

    def updated_at(self, now: datetime) -> datetime:
        return max(t for t in (self.offered, self.answered, self.revised) if t and t <= now)


@dataclass(frozen=True)
class Ticket:
    """A Zendesk ticket: created, first reply, solved, closed (or deleted as spam), rated."""

    id: int
    created: datetime
    replied: datetime | None
    reply_minutes: int | None  # calendar minutes
    reply_business_minutes: int | None
    solved: datetime | None
    closed: datetime | None
    deleted: datetime | None
    channel: str
    priority: str
    waits_on_customer: bool
    rating: Rating | None

    def status(self, now: datetime) -> str:
        if self.deleted is not None and now >= self.deleted:
            return "deleted"
        if self.replied is None or now < self.replied:
            return "new"
        if self.solved is None or now < self.solved:
            return "pending" if self.waits_on_customer else "open"
        return "solved" if now < self.closed else "closed"  # type: ignore[operator]

    def is_replied(self, now: datetime) -> bool:
        return self.replied is not None and now >= self.replied

    def updated_at(self, now: datetime) -> datetime:
        moments = [self.created, self.replied, self.solved, self.closed, self.deleted]
        if self.rating:
            moments += [self.rating.offered, self.rating.answered, self.rating.revised]
        return max(t for t in moments if t is not None and t <= now)

    def rating_at(self, now: datetime) -> Rating | None:
        return self.rating if self.rating and self.rating.offered <= now else None


class BusinessActivity:
    """Charges, CRM contacts and deals, and support tickets of the demo company, per UTC day."""

    def __init__(self, company: Company) -> None:
        self.company = company
        self._cache: dict[tuple[str, date], Any] = {}

    def _memo(self, kind: str, day: date, build: Callable[[], Any]) -> Any:
        key = (kind, day)
        if key not in self._cache:
            self._cache[key] = build()
        return self._cache[key]

    def true_totals(self, day: date) -> dict[str, Any]:
        """Sessions, key events and leads per channel that really happened (outage undone)."""

        def build() -> dict[str, Any]:
            incident = incident_on(day)
            undo = 1 / incident.factor if incident and incident.kind == "tracking_outage" else 1.0
            totals: dict[str, Any] = {"sessions": 0.0, "key_events": 0.0, "leads": {}}
            for property_id in self.company.property_ids:
                for channel in CHANNEL_GROUPS:
                    cd = self.company.channel_day(property_id, day, channel)
                    totals["sessions"] += cd.sessions * undo
                    totals["key_events"] += cd.key_events * undo
                    totals["leads"][channel] = totals["leads"].get(channel, 0) + cd.leads * undo
            return totals

        return self._memo("totals", day, build)

    # Stripe -------------------------------------------------------------------------------
    def _charge_count(self, day: date) -> int:
        return round(self.true_totals(day)["key_events"] * 1.04 * noise(0.05, "charges", day))

    @staticmethod
    def _is_new_customer(day: date, k: int) -> bool:
        return unit_noise("charge", day, k, "guest") >= 0.40

    @staticmethod
    def _returning_from(day: date, k: int) -> date | None:
        """The earlier day whose new customers charge ``k`` of ``day`` returns from, if it is a
        returning customer's charge (one in the last 60 days)."""
        roll = unit_noise("charge", day, k, "guest")
        if not 0.05 <= roll < 0.40:
            return None
        return day - timedelta(days=1 + int(unit_noise("charge", day, k, "back") * 60))

    def _customer(self, day: date, k: int) -> str | None:
        if unit_noise("charge", day, k, "guest") < 0.05:
            return None  # a guest checkout: no customer object
        if earlier := self._returning_from(day, k):
            slots = [
                j for j in range(self._charge_count(earlier)) if self._is_new_customer(earlier, j)
            ]
            if slots:
                j = slots[int(unit_noise("charge", day, k, "pick") * len(slots))]
                return f"cus_{earlier:%Y%m%d}{j:04d}"
        return f"cus_{day:%Y%m%d}{k:04d}"

    def charges_on(self, day: date) -> list[Charge]:
        """Charges created on the UTC ``day``."""
        return self._memo(
            "charges", day, lambda: [self._charge(day, k) for k in range(self._charge_count(day))]
        )

    @staticmethod
    def _charge_created(day: date, k: int) -> datetime:
        return _at(day, unit_noise("charge", day, k, "t"))

    def _charge(self, day: date, k: int) -> Charge:
        """Charge ``k`` of the UTC ``day``."""
        key = ("charge", day, k)
        created = self._charge_created(day, k)
        pick, currency = unit_noise(*key, "cur"), "usd"
        for code, share in STRIPE_CURRENCIES:
            if pick < share:
                currency = code
                break
            pick -= share
        usd = 86.5 * noise(0.4, *key, "amount")
        amount = round(usd * PRICE_PER_USD[currency] * 10 ** MINOR_EXPONENT.get(currency, 2))
        status_roll = unit_noise(*key, "status")
        refund_roll = unit_noise(*key, "refund")
        refund_amount = 0
        if refund_roll < 0.06:
            refund_amount = amount
        elif refund_roll < 0.10:
            refund_amount = round(amount * (0.3 + 0.4 * unit_noise(*key, "partial")))
        refunded_at = (
            created + _span(24 + 456 * unit_noise(*key, "refund_at")) if refund_amount else None
        )
        slow = 0.05 <= status_roll < 0.08  # bank debit: pending for three days
        digest = hashlib.sha256(f"{day}{k}".encode()).hexdigest()[:10]
        return Charge(
            id=f"ch_3{day:%Y%m%d}{k:04d}{digest}",
            created=created,
            amount=amount,
            currency=currency,
            customer=self._customer(day, k),
            failed=status_roll < 0.05,
            settles=created + timedelta(days=3 if slow else 0),
            refund_amount=refund_amount if status_roll >= 0.05 else 0,
            refunded_at=refunded_at if status_roll >= 0.05 else None,
            disputed_at=created + timedelta(days=10)
            if unit_noise(*key, "dispute") < 0.005
            else None,
        )

    RETURN_DAYS: ClassVar[int] = 61  # a returning customer comes back within 60 days

    def _customer_slot(self, customer: str) -> tuple[date, int] | None:
        """The day and slot of the charge that created a customer (``cus_<day><slot>``)."""
        try:
            day, slot = datetime.strptime(customer[4:12], "%Y%m%d").date(), int(customer[12:])
        except ValueError:
            return None
        return (day, slot) if slot < self._charge_count(day) else None

    def customer_created(self, customer: str) -> datetime | None:
        """When a customer object was created: with the charge that made it. None for an id the
        company never issued."""
        found = self._customer_slot(customer)
        return self._charge_created(*found) if found else None

    def _returns(self, day: date) -> dict[date, list[int]]:
        """The returning charges of ``day`` by the day their customers were new."""

        def build() -> dict[date, list[int]]:
            found: dict[date, list[int]] = {}
            for k in range(self._charge_count(day)):
                if origin := self._returning_from(day, k):
                    found.setdefault(origin, []).append(k)
            return found

        return self._memo("returns", day, build)

    def customer_charges(self, customer: str, until: date) -> list[Charge]:
        """Every charge of a customer created up to the UTC day ``until``, oldest first: the
        charge that created it and the returning charges of the next 60 days."""
        found = self._customer_slot(customer)
        if found is None:
            return []
        origin, slot = found
        charges = [self._charge(origin, slot)]
        day = origin + timedelta(days=1)
        while day <= min(until, origin + timedelta(days=self.RETURN_DAYS)):
            for k in self._returns(day).get(origin, []):
                if self._customer(day, k) == customer:
                    charges.append(self._charge(day, k))
            day += timedelta(days=1)
        return [c for c in charges if c.customer == customer and c.created.date() <= until]

    # HubSpot ------------------------------------------------------------------------------
    def contacts_on(self, day: date) -> list[Contact]:
        """Contacts created on the UTC ``day``: web form leads by source, plus a few imports."""

        def build() -> list[Contact]:
            contacts: list[Contact] = []
            seq = 0
            leads = self.true_totals(day)["leads"]
            for channel, source in HUBSPOT_SOURCE.items():
                for k in range(round(leads[channel] * 0.92 * noise(0.1, "contacts", day, channel))):
                    key = ("contact", day, channel, k)
                    created = _at(day, unit_noise(*key, "t"))
                    roll = unit_noise(*key, "stage")
                    if roll < 0.08:
                        path: tuple[str, ...] = ("subscriber",)
                    else:
                        reached = sum(roll >= cut for cut in (0.68, 0.83, 0.91, 0.96))
                        path = LIFECYCLE[: reached + 1]
                    step = _span(24 * (2 + 3 * unit_noise(*key, "pace")))
                    stages = tuple((created + i * step, s) for i, s in enumerate(path))
                    contacts.append(
                        Contact(str(day.toordinal() * 1000 + seq), created, source, stages)
                    )
                    seq += 1
            for k in range(round(3 * noise(0.6, "imports", day))):
                key = ("import", day, k)
                created = _at(day, unit_noise(*key, "t"))
                stage = "other" if unit_noise(*key, "stage") < 0.5 else "subscriber"
                contacts.append(
                    Contact(
                        str(day.toordinal() * 1000 + seq), created, "OFFLINE", ((created, stage),)
                    )
                )
                seq += 1
            return contacts

        return self._memo("contacts", day, build)

    def _deal(
        self, key: tuple, created: datetime, closes: datetime | None, won: bool, ident: int
    ) -> Deal:
        roll = unit_noise(*key, "currency")
        currency = (
            "USD" if roll < 0.70 else "EUR" if roll < 0.85 else "GBP" if roll < 0.95 else None
        )
        amount = None
        if closes is not None or unit_noise(*key, "has_amount") < 0.6:
            amount = Decimal(str(round(1500 + 22500 * unit_noise(*key, "amount") ** 2, 2)))
        pipeline = CUSTOM_PIPELINE if unit_noise(*key, "pipeline") < 0.2 else "default"
        return Deal(str(ident), created, closes, won, amount, currency, pipeline)

    def deals_closing_on(self, day: date) -> list[Deal]:
        """Deals that close (won or lost) on the UTC ``day``, created 7-60 days before."""

        def build() -> list[Deal]:
            leads = sum(self.true_totals(day)["leads"].values())
            deals = []
            n_won = round(leads * 0.035 * noise(0.3, "won", day))
            n_lost = round(leads * 0.05 * noise(0.3, "lost", day))
            for k in range(n_won + n_lost):
                key = ("deal", day, k)
                closes = _at(day, unit_noise(*key, "t"))
                created = closes - _span(24 * (7 + 53 * unit_noise(*key, "age")))
                deals.append(
                    self._deal(key, created, closes, k < n_won, day.toordinal() * 1000 + k)
                )
            return deals

        return self._memo("deals_closing", day, build)

    def open_deals_created_on(self, day: date) -> list[Deal]:
        """Deals created on the UTC ``day`` that stay open (no close date)."""

        def build() -> list[Deal]:
            leads = sum(self.true_totals(day)["leads"].values())
            return [
                self._deal(
                    ("open_deal", day, k),
                    _at(day, unit_noise("open_deal", day, k, "t")),
                    None,
                    False,
                    day.toordinal() * 1000 + 500 + k,
                )
                for k in range(round(leads * 0.02 * noise(0.5, "open", day)))
            ]

        return self._memo("deals_open", day, build)

    # Zendesk ------------------------------------------------------------------------------
    def tickets_on(self, day: date) -> list[Ticket]:
        """Tickets created on the UTC ``day``."""

        def build() -> list[Ticket]:
            tickets = []
            n = round(self.true_totals(day)["sessions"] * 0.011 * noise(0.15, "tickets", day))
            for k in range(n):
                key = ("ticket", day, k)
                created = _at(day, unit_noise(*key, "t"))
                ident = day.toordinal() * 1000 + k
                channel_roll = unit_noise(*key, "channel")
                channel = (
                    "web" if channel_roll < 0.5 else "email" if channel_roll < 0.85 else "chat"
                )
                priority = ("low", "normal", "normal", "high", "urgent")[
                    int(unit_noise(*key, "p") * 5)
                ]
                if unit_noise(*key, "spam") < 0.01:
                    tickets.append(
                        Ticket(
                            ident,
                            created,
                            None,
                            None,
                            None,
                            None,
                            None,
                            created + timedelta(hours=2),
                            channel,
                            priority,
                            False,
                            None,
                        )
                    )
                    continue
                replied = minutes = business = solved = closed = rating = None
                if unit_noise(*key, "reply") >= 0.04:
                    minutes = round(math.exp(math.log(5) + unit_noise(*key, "rt") * math.log(400)))
                    business = round(minutes * (0.35 + 0.3 * unit_noise(*key, "bt")))
                    replied = created + timedelta(minutes=minutes)
                    if unit_noise(*key, "solve") >= 0.07:
                        solved = replied + _span(1 + 95 * unit_noise(*key, "st"))
                        closed = solved + timedelta(days=4)
                        if unit_noise(*key, "survey") < 0.6:
                            offered = solved + timedelta(hours=1)
                            answered = None
                            revised = None
                            first = "good" if unit_noise(*key, "score") < 0.84 else "bad"
                            if unit_noise(*key, "answer") < 0.55:
                                answered = offered + _span(1 + 47 * unit_noise(*key, "at"))
                                if first == "bad" and unit_noise(*key, "revise") < 0.25:
                                    revised = answered + timedelta(days=2)
                            rating = Rating(ident * 10 + 1, offered, answered, first, revised)
                tickets.append(
                    Ticket(
                        ident,
                        created,
                        replied,
                        minutes,
                        business,
                        solved,
                        closed,
                        None,
                        channel,
                        priority,
                        unit_noise(*key, "wait") < 0.3,
                        rating,
                    )
                )
            return tickets

        return self._memo("tickets", day, build)


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
