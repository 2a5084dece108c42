"""Drift benchmark: false alarms, detection, fresh data and cold start of the drift checks.

    .venv/bin/python -m benchmarks.drift                 # 5 synthetic years (seeds 1-5)
    .venv/bin/python -m benchmarks.drift --seeds 1 2 3   # other seeds

Each seed is another year of the demo company (``sources/emulators/company.py`` under
``seeded(seed)``: same shape, other noise) with its own incidents switched off. The daily base
measures of every source come from the generator's own objects (GA4 channel days, charges,
tickets, campaigns, social days, ads campaign days, Search Console totals, mentions), the
benchmark injects incidents of known day, kind, size and direction into those measures, turns
them into the catalog's daily KPI values and judges every KPI with ``evaluate_kpi_drift`` and
the rules the ``<kpi>__drift`` checks use (``pipelines/defs/kpi_checks.py``). It does not run Dagster
or dbt: the judging is the same code, the KPI values are the formulas of ``config/kpis.yml`` on
the generator's numbers (FX at fixed rates). A printed report, not a timed test; the guard on
one seed is ``tests/kpi/test_drift_benchmark.py``.
"""

from __future__ import annotations

import argparse
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sources.emulators.company as co
from pipelines.defs.kpi_checks import DRIFT_PARAMS, evaluate_kpi_drift, settling_rule
from pipelines.kpi.catalog import Kpi, load_catalog
from pipelines.kpi.drift import DriftDay, DriftParams

Measures = dict[str, float]
FX_USD = {"USD": 1.0, "EUR": 1.08, "NOK": 0.094}  # account currency -> USD, fixed
COLD_START_DAYS = 56  # the first eight weeks of a series are its cold start
SIZES = (0.10, 0.20, 0.30, 0.50)
ADEQUATE_SCALE = 0.10  # a KPI whose day-to-day noise is at most this is adequately sized
AS_OF_HOUR = 6  # the daily schedule runs at 06:00


# --------------------------------------------------------------------------------------------
# Base measures of one day, from the generator
# --------------------------------------------------------------------------------------------
class Generator:
    """The demo company's sources for one seed (build it inside ``co.seeded(seed)``)."""

    def __init__(self) -> None:
        self.company = co.Company()
        self.business = co.BusinessActivity(self.company)
        self.ads = co.AdsProgram(self.company)
        self.email = co.EmailProgram()
        self.seo = co.SeoPresence()

    def measures(self, day: date, now: datetime) -> Measures:
        m: Measures = defaultdict(float)
        self._ga4(day, m)
        self._ads(day, m)
        self._stripe(day, m, now)
        self._zendesk(day, m, now)
        self._hubspot(day, m)
        self._social(day, m)
        self._email(day, m, now)
        self._search(day, m)
        for brand in co.MENTION_BASE:
            count = sum(1 for x in co.mentions_on(day) if x.brand == brand)
            m["mentions.total"] += count
            m["mentions.brand"] += count if brand == co.SOV_BRAND else 0
        return m

    def _ga4(self, day: date, m: Measures) -> None:
        for channel in co.CHANNEL_GROUPS:
            cd = self.company.channel_day(self.company.property_ids[0], day, channel)
            m["ga4.sessions"] += cd.sessions
            m["ga4.engaged"] += cd.engaged_sessions
            m["ga4.key_events"] += cd.key_events
            m["ga4.users"] += cd.total_users
            m["ga4.leads"] += cd.leads
            if channel != "Direct":
                m["ga4.revenue_marketing"] += float(cd.purchase_revenue)
            if channel == "Organic Search":
                m["ga4.organic_sessions"] += cd.sessions
                m["ga4.organic_engaged"] += cd.engaged_sessions

    def _ads(self, day: date, m: Measures) -> None:
        for campaign in self.ads.campaigns:
            ad = self.ads.campaign_day(campaign, day)
            usd = FX_USD[self.ads.accounts[campaign.account_id].currency]
            m["ads.impressions"] += ad.impressions
            m["ads.clicks"] += ad.clicks
            m["ads.spend"] += float(ad.spend) * usd
            m["ads.conversions"] += float(ad.conversions)
            m["ads.conversion_value"] += float(ad.conversion_value) * usd

    def _stripe(self, day: date, m: Measures, now: datetime) -> None:
        for charge in self.business.charges_on(day):
            if charge.status(now) != "succeeded":
                continue
            scale = co.PRICE_PER_USD[charge.currency] * 10 ** co.MINOR_EXPONENT.get(
                charge.currency, 2
            )
            m["stripe.charges"] += 1
            m["stripe.amount"] += charge.amount / scale
            m["stripe.revenue"] += (charge.amount - charge.amount_refunded(now)) / scale
            if charge.customer and charge.customer.startswith(f"cus_{day:%Y%m%d}"):
                m["stripe.new_customers"] += 1  # the customer's first charge (ids carry the day)

    def _zendesk(self, day: date, m: Measures, now: datetime) -> None:
        for ticket in self.business.tickets_on(day):
            if ticket.status(now) == "deleted":
                continue
            m["zendesk.tickets"] += 1
            m["zendesk.resolved"] += ticket.status(now) in ("solved", "closed")
            if ticket.is_replied(now) and ticket.reply_minutes is not None:
                m["zendesk.replied"] += 1
                m["zendesk.reply_minutes"] += ticket.reply_minutes

        for earlier in range(8):  # ratings count on the day they were created (offered)
            for ticket in self.business.tickets_on(day - timedelta(days=earlier)):
                rating = ticket.rating_at(now)
                if rating is None or rating.offered.date() != day:
                    continue
                if (score := rating.score(now)) in ("good", "bad"):
                    m[f"zendesk.csat_{score}"] += 1

    def _hubspot(self, day: date, m: Measures) -> None:
        m["hubspot.leads"] += sum(c.source != "OFFLINE" for c in self.business.contacts_on(day))

    def _social(self, day: date, m: Measures) -> None:
        for account in co.SOCIAL_ACCOUNTS:
            sd = co.social_day(account, day)
            m["social.impressions"] += sd.impressions
            m["social.engagements"] += sd.engagements
            m["social.reach"] += sd.reach or 0
            m["social.reach_missing"] += sd.reach is None
            m["social.follower_gain"] += sd.follower_gain
            if sd.link_clicks is not None:
                m["social.link_clicks"] += sd.link_clicks
                m["social.clicked_impressions"] += sd.impressions

    def _email(self, day: date, m: Measures, now: datetime) -> None:
        for campaign in self.email.campaigns_sent_on(day):
            if campaign.send_time > now:
                continue
            totals = self.email.totals(campaign, now)
            m["email.delivered"] += campaign.delivered
            m["email.opens"] += totals.unique_opens
            m["email.clicks"] += totals.unique_subscriber_clicks
            m["email.unsubscribes"] += totals.unsubscribed
            m["email.forwards"] += totals.forwards
            if totals.orders is not None:
                m["email.orders"] += totals.orders
                m["email.ecommerce_delivered"] += campaign.delivered

    def _search(self, day: date, m: Measures) -> None:
        total = self.seo.search_total(day)
        m["gsc.clicks"] += total.clicks
        m["gsc.impressions"] += total.impressions
        m["gsc.position_weighted"] += total.position * total.impressions


def _ratio(num: str, den: str) -> Callable[[Measures], tuple[float | None, float | None]]:
    def value(m: Measures) -> tuple[float | None, float | None]:
        d = m.get(den, 0.0)
        return (m.get(num, 0.0) / d if d else None), d

    return value


def _sum(name: str) -> Callable[[Measures], tuple[float | None, float | None]]:
    return lambda m: (m.get(name, 0.0), None)


def _bounce(sessions: str, engaged: str) -> Callable[[Measures], tuple[float | None, float | None]]:
    def value(m: Measures) -> tuple[float | None, float | None]:
        s = m.get(sessions, 0.0)
        return ((s - m.get(engaged, 0.0)) / s if s else None), s

    return value


def _partial_unless_all(
    name: str, missing: str
) -> Callable[[Measures], tuple[float | None, float | None]]:
    """A sum over accounts that is partial (never judged) when an account did not report it."""
    return lambda m: (None if m.get(missing) else m.get(name, 0.0), None)


def _csat(m: Measures) -> tuple[float | None, float | None]:
    rated = m.get("zendesk.csat_good", 0.0) + m.get("zendesk.csat_bad", 0.0)
    return (m.get("zendesk.csat_good", 0.0) / rated if rated else None), rated


def _per_lead(m: Measures) -> tuple[float | None, float | None]:
    leads = m.get("ga4.leads", 0.0)
    return (m.get("ads.spend", 0.0) / leads if leads else None), leads


def _email_rate(num: str, den: str = "email.delivered"):
    def value(m: Measures) -> tuple[float | None, float | None]:
        d = m.get(den, 0.0)
        return (m.get(num, 0.0) / d if d else None), (d if d else None)

    return value


# kpi id -> its daily value and denominator from the day's base measures (config/kpis.yml)
FORMULAS: dict[str, Callable[[Measures], tuple[float | None, float | None]]] = {
    "digital.site_traffic": _sum("ga4.sessions"),
    "digital.bounce_rate": _bounce("ga4.sessions", "ga4.engaged"),
    "digital.conversion_rate": _ratio("ga4.key_events", "ga4.sessions"),
    "digital.cost_per_lead": _per_lead,
    "digital.roi": _ratio("ga4.revenue_marketing", "ads.spend"),
    "digital.users": _sum("ga4.users"),
    "marketing.site_traffic": _sum("ga4.sessions"),
    "marketing.conversion_rate": _ratio("hubspot.leads", "ga4.sessions"),
    "marketing.cost_per_lead": _ratio("ads.spend", "hubspot.leads"),
    "marketing.new_leads": _sum("hubspot.leads"),
    "sales.revenue": _sum("stripe.revenue"),
    "sales.new_customers": _sum("stripe.new_customers"),
    "sales.avg_transaction_value": _ratio("stripe.amount", "stripe.charges"),
    "customer_service.csat": _csat,
    "customer_service.avg_response_time": _ratio("zendesk.reply_minutes", "zendesk.replied"),
    "customer_service.resolved_share": _ratio("zendesk.resolved", "zendesk.tickets"),
    "social.engagement_rate": _ratio("social.engagements", "social.impressions"),
    "social.reach": _partial_unless_all("social.reach", "social.reach_missing"),
    "social.follower_growth": _sum("social.follower_gain"),
    "social.ctr": _ratio("social.link_clicks", "social.clicked_impressions"),
    "social.share_of_voice": _ratio("mentions.brand", "mentions.total"),
    "email.open_rate": _email_rate("email.opens"),
    "email.ctr": _email_rate("email.clicks"),
    "email.conversion_rate": _email_rate("email.orders", "email.ecommerce_delivered"),
    "email.unsubscribe_rate": _email_rate("email.unsubscribes"),
    "email.forward_rate": _email_rate("email.forwards"),
    "paid_ads.ctr": _ratio("ads.clicks", "ads.impressions"),
    "paid_ads.cpc": _ratio("ads.spend", "ads.clicks"),
    "paid_ads.conversion_rate": _ratio("ads.conversions", "ads.clicks"),
    "paid_ads.impressions": _sum("ads.impressions"),
    "paid_ads.roas": _ratio("ads.conversion_value", "ads.spend"),
    "seo.organic_traffic": _sum("ga4.organic_sessions"),
    "seo.bounce_rate": _bounce("ga4.organic_sessions", "ga4.organic_engaged"),
    "seo.keyword_rankings": _ratio("gsc.position_weighted", "gsc.impressions"),
    "seo.search_clicks": _sum("gsc.clicks"),
    "seo.search_impressions": _sum("gsc.impressions"),
    "seo.search_ctr": _ratio("gsc.clicks", "gsc.impressions"),
}
# What fills in after the day (judged only once settled): email reports, ticket outcomes, ratings.
LATE_MEASURES = ("email.", "zendesk.")


# --------------------------------------------------------------------------------------------
# Incidents
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Incident:
    """An injected incident: ``kind`` on ``source`` from ``day`` for ``days`` days, moving its
    measures by ``size`` (a fraction) in ``direction`` (``down`` or ``up``)."""

    day: date
    days: int
    kind: str  # outage | slump | spike | tracking_change
    source: str
    size: float
    direction: str

    def covers(self, day: date) -> bool:
        return self.day <= day < self.day + timedelta(days=self.days)

    def apply(self, m: Measures) -> Measures:
        hit = dict(m)
        down, up = 1 - self.size, 1 + self.size
        if self.kind == "outage":  # a source loses part of a day's data
            for name in m:
                if name.startswith(self.source + "."):
                    hit[name] = m[name] * down
        elif self.kind == "slump":  # organic search loses visits (GA4 and Search Console)
            lost = m["ga4.organic_sessions"] * self.size
            lost_engaged = m["ga4.organic_engaged"] * self.size
            hit["ga4.organic_sessions"] -= lost
            hit["ga4.organic_engaged"] -= lost_engaged
            hit["ga4.sessions"] -= lost
            hit["ga4.engaged"] -= lost_engaged
            for name in ("gsc.clicks", "gsc.impressions", "gsc.position_weighted"):
                hit[name] = m[name] * down
        elif self.kind == "spike" and self.source == "ads":  # spend runs away: CPC up
            hit["ads.spend"] = m["ads.spend"] * up
        elif self.kind == "spike" and self.source == "zendesk":  # a backlog: slower replies
            hit["zendesk.reply_minutes"] = m["zendesk.reply_minutes"] * up
        elif self.kind == "tracking_change" and self.source == "ga4_engagement":
            bounced = (m["ga4.sessions"] - m["ga4.engaged"]) * up  # bounce rate up
            hit["ga4.engaged"] = max(m["ga4.sessions"] - bounced, 0.0)
            organic_bounced = (m["ga4.organic_sessions"] - m["ga4.organic_engaged"]) * up
            hit["ga4.organic_engaged"] = max(m["ga4.organic_sessions"] - organic_bounced, 0.0)
        elif self.kind == "tracking_change" and self.source == "ga4_key_events":
            hit["ga4.key_events"] = m["ga4.key_events"] * down  # a key event dropped
        return hit


# kind, source, days, direction (of the measures)
MENU: tuple[tuple[str, str, int, str], ...] = (
    ("outage", "ga4", 1, "down"),
    ("outage", "ads", 1, "down"),
    ("outage", "social", 1, "down"),
    ("outage", "gsc", 1, "down"),
    ("outage", "stripe", 1, "down"),
    ("outage", "mentions", 1, "down"),
    ("slump", "organic", 3, "down"),
    ("spike", "ads", 1, "up"),
    ("spike", "zendesk", 1, "up"),
    ("tracking_change", "ga4_engagement", 14, "up"),
    ("tracking_change", "ga4_key_events", 14, "down"),
)
QUIET_DAYS = 60  # a quiet stretch: no incident for two months
GRACE_DAYS = 1  # alerts the day after an incident still belong to it


def schedule(seed: int, start: date, end: date) -> list[Incident]:
    """Incidents every 6-15 days from the third week, sizes 10-50%, and one quiet stretch."""
    incidents: list[Incident] = []
    quiet_start = start + timedelta(days=150 + int(co.unit_noise("quiet", seed) * 60))
    day = start + timedelta(days=14 + int(co.unit_noise("first", seed) * 7))
    k = 0
    while day <= end:
        if not quiet_start <= day < quiet_start + timedelta(days=QUIET_DAYS):
            kind, source, days, direction = MENU[int(co.unit_noise("kind", seed, k) * len(MENU))]
            size = SIZES[int(co.unit_noise("size", seed, k) * len(SIZES))]
            incidents.append(Incident(day, days, kind, source, size, direction))
            day += timedelta(days=days)
        day += timedelta(days=6 + int(co.unit_noise("gap", seed, k) * 10))
        k += 1
    return incidents


# --------------------------------------------------------------------------------------------
# Series and judging
# --------------------------------------------------------------------------------------------
Series = dict[str, tuple[dict[date, float | None], dict[date, float | None]]]


def kpi_series(measures: dict[date, Measures], kpis: Iterable[Kpi]) -> Series:
    series: Series = {}
    for kpi in kpis:
        values: dict[date, float | None] = {}
        denominators: dict[date, float | None] = {}
        for day, m in measures.items():
            values[day], denominators[day] = FORMULAS[kpi.id](m)
        series[kpi.id] = (values, denominators)
    return series


def judge(
    kpi: Kpi,
    values: dict[date, float | None],
    denominators: dict[date, float | None],
    today: date,
    params: DriftParams = DRIFT_PARAMS,
) -> dict[date, DriftDay]:
    """The ``<kpi>__drift`` check's evaluation as of ``today`` (nothing provisional)."""
    return evaluate_kpi_drift(
        kpi, values, denominators, lambda _d: False, settling_rule(kpi, today), params
    )


def move(clean: float | None, hit: float | None) -> float | None:
    if clean is None or hit is None or clean == 0:
        return None
    return hit / clean - 1


def bad_way(kpi: Kpi, change: float) -> bool:
    return change < 0 if kpi.direction == "higher" else change > 0


def size_bucket(change: float) -> float | None:
    """The largest benchmark size the move reaches (10/20/30/50%), None below 10%."""
    reached = [s for s in SIZES if abs(change) >= s * 0.95]
    return max(reached) if reached else None


def clean_scale(values: dict[date, float | None]) -> float:
    """The KPI's day-to-day noise: 1.4826 MAD of log(value / same-weekday median of 8 weeks)."""
    residuals = []
    for day, value in values.items():
        past = [values.get(day - timedelta(days=7 * k)) for k in range(1, 9)]
        points = [p for p in past if p and p > 0]
        if len(points) >= 4 and value and value > 0:
            residuals.append(math.log(value / statistics.median(points)))
    if len(residuals) < 20:
        return math.inf
    center = statistics.median(residuals)
    return 1.4826 * statistics.median(abs(r - center) for r in residuals)


@dataclass
class Detection:
    kpi: str
    family: str
    incident: Incident
    change: float
    adequate: bool
    delay: int | None  # days from the incident's start to the first alert; None: missed
    cold: bool


@dataclass
class SeedResult:
    seed: int
    judged_days: set[date] = field(default_factory=set)
    cold_days: set[date] = field(default_factory=set)
    warn_days: dict[date, list[str]] = field(default_factory=dict)  # false alarms (WARN+)
    error_days: dict[date, list[str]] = field(default_factory=dict)  # false alarms (ERROR)
    detections: list[Detection] = field(default_factory=list)
    fresh_judged: int = 0
    fresh_alarms: list[str] = field(default_factory=list)
    kpi_scale: dict[str, float] = field(default_factory=dict)
    incidents: int = 0


@dataclass
class SeedData:
    """One synthetic year's KPI series, clean and with incidents, and the morning views of the
    late-filling KPIs: (today, their series as of 06:00 that day, the same days' final series)."""

    seed: int
    start: date
    end: date
    kpis: list[Kpi]
    clean: Series
    hit: Series
    incidents: list[Incident]
    fresh: list[tuple[date, Series, Series]]


def build_seed(seed: int, start: date, days: int, fresh_checks: int = 12) -> SeedData:
    """Generate one synthetic year (seed ``seed``) and inject its incidents."""
    kpis = [k for k in load_catalog().kpis if k.id in FORMULAS]
    end = start + timedelta(days=days - 1)
    final = datetime.combine(end + timedelta(days=60), time(AS_OF_HOUR), tzinfo=UTC)
    with co.seeded(seed):
        original = co.incident_on
        co.incident_on = lambda _day: None  # the demo's own incidents off: ours are known
        try:
            generator = Generator()
            clean = {
                start + timedelta(days=i): generator.measures(start + timedelta(days=i), final)
                for i in range(days)
            }
            incidents = schedule(seed, start, end)
            hit = {day: _apply(incidents, day, m) for day, m in clean.items()}
            late = [k for k in kpis if set(k.sources) & {"mailchimp", "zendesk"}]
            fresh = [
                _morning(generator, late, clean, hit, incidents, today)
                for today in _fresh_days(start + timedelta(days=seed), end, fresh_checks)
            ]
        finally:
            co.incident_on = original
    return SeedData(
        seed, start, end, kpis, kpi_series(clean, kpis), kpi_series(hit, kpis), incidents, fresh
    )


def _fresh_days(start: date, end: date, checks: int) -> list[date]:
    step = max((end - start).days // (checks + 1), 1)
    days = [start + timedelta(days=COLD_START_DAYS + n * step) for n in range(1, checks + 1)]
    return [d for d in days if d <= end]


def _morning(
    generator: Generator,
    late: list[Kpi],
    clean: dict[date, Measures],
    hit: dict[date, Measures],
    incidents: list[Incident],
    today: date,
) -> tuple[date, Series, Series]:
    """The late-filling KPIs as the 06:00 run on ``today`` sees them (the last 14 days as of
    then), and the same days' final values."""
    now = datetime.combine(today, time(AS_OF_HOUR), tzinfo=UTC)
    fresh = {d: m for d, m in hit.items() if d < today}
    for back in range(1, 15):
        day = today - timedelta(days=back)
        if day not in clean:
            continue
        as_of = generator.measures(day, now)
        merged = {k: (as_of.get(k, 0.0) if _late(k) else v) for k, v in clean[day].items()}
        fresh[day] = _apply(incidents, day, merged)
    final = {d: hit[d] for d in fresh}
    return today, kpi_series(fresh, late), kpi_series(final, late)


def judge_seed(data: SeedData, params: DriftParams = DRIFT_PARAMS) -> SeedResult:
    """Judge one synthetic year: false alarms, detections and alarms on unsettled days."""
    result = SeedResult(data.seed, incidents=len(data.incidents))
    today = data.end + timedelta(days=60)
    for kpi in data.kpis:
        result.kpi_scale[kpi.id] = clean_scale(data.clean[kpi.id][0])
        _judge_kpi(kpi, data.clean, data.hit, data.incidents, data.start, today, params, result)
    by_id = {k.id: k for k in data.kpis}
    for today, fresh, final in data.fresh:
        for kpi_id, (values, denominators) in fresh.items():
            judged = judge(by_id[kpi_id], values, denominators, today, params)
            for back in range(1, 15):
                day = today - timedelta(days=back)
                evaluated = judged.get(day)
                change = move(final[kpi_id][0].get(day), values.get(day))
                if evaluated is None or change is None or abs(change) <= 0.01:
                    continue  # settled: the value is final (within 1%)
                result.fresh_judged += evaluated.score is not None
                if evaluated.severity:
                    result.fresh_alarms.append(f"{kpi_id} {day} as of {today} {change:+.0%}")
    return result


def _apply(incidents: list[Incident], day: date, m: Measures) -> Measures:
    for incident in incidents:
        if incident.covers(day):
            m = incident.apply(m)
    return m


def _in_incident(incidents: list[Incident], day: date) -> bool:
    return any(i.day <= day < i.day + timedelta(days=i.days + GRACE_DAYS) for i in incidents)


def _judge_kpi(
    kpi: Kpi,
    clean_kpis: Series,
    hit_kpis: Series,
    incidents: list[Incident],
    start: date,
    today: date,
    params: DriftParams,
    result: SeedResult,
) -> None:
    values, denominators = hit_kpis[kpi.id]
    judged = judge(kpi, values, denominators, today, params)
    cold_end = start + timedelta(days=COLD_START_DAYS)
    for day, evaluated in judged.items():
        if evaluated.score is None:
            continue
        (result.cold_days if day < cold_end else result.judged_days).add(day)
        if evaluated.severity and not _in_incident(incidents, day):
            result.warn_days.setdefault(day, []).append(f"{kpi.id} {evaluated.change:+.0%}")
            if evaluated.severity == "ERROR":
                result.error_days.setdefault(day, []).append(kpi.id)
    adequate = result.kpi_scale[kpi.id] <= ADEQUATE_SCALE
    clean_values = clean_kpis[kpi.id][0]
    for incident in incidents:
        change = move(clean_values.get(incident.day), values.get(incident.day))
        if change is None or not bad_way(kpi, change) or size_bucket(change) is None:
            continue
        denominator = denominators.get(incident.day)
        if kpi.min_denominator and (denominator or 0) < kpi.min_denominator:
            continue
        delay = None
        for offset in range(incident.days + GRACE_DAYS):
            evaluated = judged.get(incident.day + timedelta(days=offset))
            if evaluated is not None and evaluated.severity:
                delay = offset
                break
        result.detections.append(
            Detection(
                kpi.id, kpi.channel, incident, change, adequate, delay, incident.day < cold_end
            )
        )


def _late(name: str) -> bool:
    return name.startswith(LATE_MEASURES)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------
@dataclass
class Summary:
    judged: int
    warn_days: int
    error_days: int
    cold_judged: int
    cold_warn_days: int
    cold_error_days: int
    detected_30_next_day: float  # adequate KPIs moved >= 30% the bad way, caught day 0 or 1
    missed_30: list[str]
    fresh_alarms: int

    @property
    def warn_per_30(self) -> float:
        return 30 * self.warn_days / max(self.judged, 1)

    @property
    def error_per_180(self) -> float:
        return 180 * self.error_days / max(self.judged, 1)


def summarize(results: list[SeedResult]) -> Summary:
    judged = sum(len(r.judged_days) for r in results)
    cold = sum(len(r.cold_days) for r in results)

    def count(days: dict[date, list[str]], keep: set[date]) -> int:
        return sum(d in keep for d in days)

    steady = [d for r in results for d in r.detections if not d.cold and d.adequate]
    big = [d for d in steady if size_bucket(d.change) in (0.3, 0.5)]
    caught = [d for d in big if d.delay is not None and d.delay <= 1]
    return Summary(
        judged=judged,
        warn_days=sum(count(r.warn_days, r.judged_days) for r in results),
        error_days=sum(count(r.error_days, r.judged_days) for r in results),
        cold_judged=cold,
        cold_warn_days=sum(count(r.warn_days, r.cold_days) for r in results),
        cold_error_days=sum(count(r.error_days, r.cold_days) for r in results),
        detected_30_next_day=len(caught) / len(big) if big else 1.0,
        missed_30=[
            f"seed {r.seed} {d.kpi} {d.incident.kind}/{d.incident.source} {d.incident.day} "
            f"{d.change:+.0%}"
            for r in results
            for d in r.detections
            if d in big and d not in caught
        ],
        fresh_alarms=sum(len(r.fresh_alarms) for r in results),
    )


def render(results: list[SeedResult]) -> str:
    s = summarize(results)
    lines = [
        f"Drift benchmark: {len(results)} synthetic years (seeds "
        f"{', '.join(str(r.seed) for r in results)}), "
        f"{len(FORMULAS)} KPIs, {sum(r.incidents for r in results)} incidents",
        "",
        "False alarms (days with an alert and no incident, company-wide, all KPIs):",
        f"  steady state  {s.judged:5d} judged days: WARN+ {s.warn_days:3d} days = "
        f"{s.warn_per_30:.2f} per 30 (goal <= 1); ERROR {s.error_days:3d} days = "
        f"{s.error_per_180:.2f} per 180 (goal <= 1)",
        f"  cold start    {s.cold_judged:5d} judged days (first {COLD_START_DAYS} days): WARN+ "
        f"{s.cold_warn_days:3d} days = {30 * s.cold_warn_days / max(s.cold_judged, 1):.2f} per 30; "
        f"ERROR {s.cold_error_days:3d} days = "
        f"{180 * s.cold_error_days / max(s.cold_judged, 1):.2f} per 180",
        "",
        "False-alarm days per KPI family (steady state, per 30 judged days):",
    ]
    families: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in results:
        for day in r.judged_days:
            warned = {k.split(".")[0] for k in r.warn_days.get(day, [])}
            errored = {k.split(".")[0] for k in r.error_days.get(day, [])}
            for family in warned:
                families[family][0] += 1
            for family in errored:
                families[family][1] += 1
    catalog_families = sorted({k.split(".")[0] for k in FORMULAS})
    for family in catalog_families:
        warn, error = families[family]
        lines.append(
            f"  {family:18} WARN+ {30 * warn / max(s.judged, 1):.2f}  "
            f"ERROR {30 * error / max(s.judged, 1):.2f}"
        )
    lines += ["", "Detection of bad-way moves (steady state; adequate = day-to-day noise <= 10%):"]
    lines.append(
        f"  {'size':>6}  {'adequate KPIs':>22}  {'day 0 or 1':>10}  {'median delay':>12}  "
        f"{'all KPIs':>16}"
    )
    steady = [d for r in results for d in r.detections if not d.cold]
    for size in SIZES:
        bucket = [d for d in steady if size_bucket(d.change) == size]
        good = [d for d in bucket if d.adequate]
        lines.append(
            f"  {size:>6.0%}  {_rate(good):>22}  {_rate(good, within=1):>10}  "
            f"{_median_delay(good):>12}  {_rate(bucket):>16}"
        )
    lines += ["", "Detection by KPI family (adequate KPIs, moves >= 30%, caught day 0 or 1):"]
    by_family: dict[str, list[Detection]] = defaultdict(list)
    for d in steady:
        if d.adequate and size_bucket(d.change) in (0.3, 0.5):
            by_family[d.family].append(d)
    for family in sorted(by_family):
        lines.append(f"  {family:18} {_rate(by_family[family], within=1)}")
    upward = [
        d for d in steady if d.adequate and size_bucket(d.change) in (0.3, 0.5) and d.change > 0
    ]
    lines += [
        "",
        f"Both directions: bad-way moves upward >= 30% (CPC, cost per lead, bounce rate, "
        f"response time): {_rate(upward, within=1)} caught day 0 or 1",
    ]
    if s.missed_30:
        lines.append("Missed (adequate, >= 30%): " + "; ".join(s.missed_30[:12]))
    cold = [d for r in results for d in r.detections if d.cold]
    lines.append(
        f"Cold start detection (>= 30%, adequate): "
        f"{_rate([d for d in cold if d.adequate and size_bucket(d.change) in (0.3, 0.5)], 1)}"
    )
    fresh_judged = sum(r.fresh_judged for r in results)
    lines += [
        "",
        f"Fresh data: {fresh_judged} judged KPI-days whose value was not final yet (email, "
        f"tickets, ratings as of 06:00); alarms on them: {s.fresh_alarms} (goal 0)",
    ]
    for r in results:
        lines += [f"  seed {r.seed}: {a}" for a in r.fresh_alarms[:5]]
    inadequate = sorted({k for r in results for k, v in r.kpi_scale.items() if v > ADEQUATE_SCALE})
    lines.append("")
    lines.append(
        "Not adequately sized (day-to-day noise > 10%, a 30% move is not certain to stand out): "
        + ", ".join(inadequate)
    )
    return "\n".join(lines)


def _rate(detections: list[Detection], within: int | None = None) -> str:
    if not detections:
        return "-"
    caught = [
        d for d in detections if d.delay is not None and (within is None or d.delay <= within)
    ]
    return f"{len(caught)}/{len(detections)} ({len(caught) / len(detections):.0%})"


def _median_delay(detections: list[Detection]) -> str:
    delays = [d.delay for d in detections if d.delay is not None]
    return f"{statistics.median(delays):.0f} d" if delays else "-"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 1, 1))
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args(argv)
    results = [judge_seed(build_seed(seed, args.start, args.days)) for seed in args.seeds]
    print(render(results))


if __name__ == "__main__":
    main()
