"""A deterministic synthetic company: the single source of demo and test data for every emulator.

The same date always yields the same numbers (no global random state), with weekly seasonality, a
slow trend, a channel mix and a few injected incidents, so drift checks have something to find and
tests can recompute every expected KPI independently.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

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

    def _customer(self, day: date, k: int) -> str | None:
        roll = unit_noise("charge", day, k, "guest")
        if roll < 0.05:
            return None  # a guest checkout: no customer object
        if roll < 0.40:  # a returning customer from the last 60 days
            earlier = day - timedelta(days=1 + int(unit_noise("charge", day, k, "back") * 60))
            slots = [
                j for j in range(self._charge_count(earlier)) if self._is_new_customer(earlier, j)
            ]
            if slots:
                j = slots[int(unit_noise("charge", day, k, "pick") * len(slots))]
                return f"cus_{earlier:%Y%m%d}{j:04d}"
        return f"cus_{day:%Y%m%d}{k:04d}"

    def charges_on(self, day: date) -> list[Charge]:
        """Charges created on the UTC ``day``."""

        def build() -> list[Charge]:
            charges = []
            for k in range(self._charge_count(day)):
                key = ("charge", day, k)
                created = _at(day, unit_noise(*key, "t"))
                pick, currency = unit_noise(*key, "cur"), "usd"
                for code, share in STRIPE_CURRENCIES:
                    if pick < share:
                        currency = code
                        break
                    pick -= share
                usd = 86.5 * noise(0.4, *key, "amount")
                amount = round(
                    usd * PRICE_PER_USD[currency] * 10 ** MINOR_EXPONENT.get(currency, 2)
                )
                status_roll = unit_noise(*key, "status")
                refund_roll = unit_noise(*key, "refund")
                refund_amount = 0
                if refund_roll < 0.06:
                    refund_amount = amount
                elif refund_roll < 0.10:
                    refund_amount = round(amount * (0.3 + 0.4 * unit_noise(*key, "partial")))
                refunded_at = (
                    created + _span(24 + 456 * unit_noise(*key, "refund_at"))
                    if refund_amount
                    else None
                )
                slow = 0.05 <= status_roll < 0.08  # bank debit: pending for three days
                digest = hashlib.sha256(f"{day}{k}".encode()).hexdigest()[:10]
                charges.append(
                    Charge(
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
                )
            return charges

        return self._memo("charges", day, build)

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
