"""Meta Marketing API emulator: ad account node, ``act_{id}/insights`` (sync and async jobs).

Answers like Marketing API v27.0 (versions Meta still serves on 2026-12-02: v25.0, v26.0,
v27.0; an expired one answers error 2635 like the real API): every number a string, ``actions`` / ``action_values`` arrays omitted
when empty, a purchase reported under several aliases (``omni_purchase``, ``purchase``,
``offsite_conversion.fb_pixel_purchase``), cursor paging whose last page has cursors but no
``next`` (and a first page shorter than ``limit`` that is not the last), usage headers on every
answer, OAuthException error bodies (code 190 for a bad token). Throttling is injected as a
:class:`Fault` built by :func:`throttle_fault` (HTTP 400, code 80000, usage headers).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from sources.emulators.company import AdCampaign, AdDay, AdsProgram
from sources.emulators.server import EmulatorServer, Fault, Request, Response

VERSION = r"(?P<version>v\d+\.\d+)"
ACCOUNT = rf"/{VERSION}/act_(?P<account>\d+)"
INSIGHTS = rf"/{VERSION}/act_(?P<account>\d+)/insights"
REPORT_RUN = rf"/{VERSION}/(?P<run>\d+)"
REPORT_RUN_INSIGHTS = rf"/{VERSION}/(?P<run>\d+)/insights"
DEMO_ACCESS_TOKEN = "EAAGemulatorSystemUserToken0123456789abcdef"
DEFAULT_LIMIT = 25
MAX_LIMIT = 500
SERVED_VERSIONS = ("v25.0", "v26.0", "v27.0")
DEFAULT_FIELDS = "account_id,campaign_id,campaign_name,impressions,spend,date_start,date_stop"


def graph_error(
    message: str, code: int, *, subcode: int | None = None, status: int = 400
) -> Response:
    error: dict[str, Any] = {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "fbtrace_id": "A" + secrets.token_urlsafe(16),
    }
    if subcode is not None:
        error["error_subcode"] = subcode
    return Response(status, {"error": error})


def throttle_fault(
    regain_minutes: int = 1, *, code: int = 80000, account_id: str = "", times: int = 1
) -> Fault:
    """An ads-insights rate-limit answer: HTTP 400 with the throttle code and usage headers."""
    usage = {
        account_id or "0": [
            {
                "type": "ads_insights",
                "call_count": 100,
                "total_cputime": 41,
                "total_time": 44,
                "estimated_time_to_regain_access": regain_minutes,
                "ads_api_access_tier": "standard_access",
            }
        ]
    }
    messages = {
        4: "(#4) Application request limit reached",
        17: "(#17) User request limit reached",
        613: "(#613) Calls to this api have exceeded the rate limit.",
    }
    return Fault(
        path=r"/insights$",
        status=400,
        times=times,
        body={
            "error": {
                "message": messages.get(
                    code,
                    f"(#{code}) There have been too many calls from this ad-account. Wait a bit "
                    "and try again. For more info, please refer to https://developers.facebook.com/"
                    "docs/graph-api/overview/rate-limiting.",
                ),
                "type": "OAuthException",
                "code": code,
                "error_subcode": 2446079,
                "fbtrace_id": "AthrottleEmulator",
            }
        },
        headers={
            "X-Business-Use-Case-Usage": json.dumps(usage),
            "X-App-Usage": json.dumps({"call_count": 28, "total_time": 25, "total_cputime": 25}),
        },
    )


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(base64.b64decode(padded).decode().split(":")[1])


@dataclass
class ReportRun:
    account_id: str
    params: dict[str, str]
    polls: int = 0


@dataclass
class MetaAdsEmulator:
    ads: AdsProgram
    access_token: str = DEMO_ACCESS_TOKEN
    polls_to_complete: int = 2
    uneven_pages: bool = True
    today: Callable[[], date] = date.today
    runs: dict[str, ReportRun] = field(default_factory=dict)
    sync_requests: int = 0
    versions_seen: list[str] = field(default_factory=list)

    def register(self, server: EmulatorServer) -> None:
        server.route("GET", INSIGHTS, self.insights)
        server.route("POST", INSIGHTS, self.create_report_run)
        server.route("GET", REPORT_RUN_INSIGHTS, self.report_run_insights)
        server.route("GET", ACCOUNT, self.account)
        server.route("GET", REPORT_RUN, self.report_run)

    # Auth and headers ---------------------------------------------------------------------------
    def _denied(self, request: Request) -> Response | None:
        version = request.match.group("version") if request.match else ""
        self.versions_seen.append(version)
        if version not in SERVED_VERSIONS:
            return graph_error(
                f"(#2635) You are calling a deprecated version of the Ads API. Please update to "
                f"the latest version: {SERVED_VERSIONS[-1]}.",
                2635,
            )
        header = request.header("authorization") or ""
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        token = token or request.arg("access_token") or request.form().get("access_token")
        if not token:
            return graph_error("An access token is required to request this resource.", 104)
        if token != self.access_token:
            return graph_error("Invalid OAuth access token - Cannot parse access token", 190)
        return None

    def _unknown_account(self, account_id: str) -> Response | None:
        if account_id in self.ads.account_ids("meta_ads"):
            return None
        return graph_error(
            f"Unsupported get request. Object with ID 'act_{account_id}' does not exist, cannot be "
            "loaded due to missing permissions, or does not support this operation. Please read "
            "the Graph API documentation at https://developers.facebook.com/docs/graph-api",
            100,
            subcode=33,
        )

    @staticmethod
    def _usage(response: Response, account_id: str) -> Response:
        response.headers.update(
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {
                        account_id: [
                            {
                                "type": "ads_insights",
                                "call_count": 3,
                                "total_cputime": 2,
                                "total_time": 2,
                                "estimated_time_to_regain_access": 0,
                                "ads_api_access_tier": "standard_access",
                            }
                        ]
                    }
                ),
                "X-App-Usage": json.dumps({"call_count": 1, "total_time": 1, "total_cputime": 1}),
                "X-Ad-Account-Usage": json.dumps(
                    {
                        "acc_id_util_pct": 0.5,
                        "reset_time_duration": 0,
                        "ads_api_access_tier": "standard_access",
                    }
                ),
            }
        )
        return response

    # Endpoints --------------------------------------------------------------------------------
    def account(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        account_id = request.match.group("account") if request.match else ""
        if unknown := self._unknown_account(account_id):
            return unknown
        acc = self.ads.accounts[account_id]
        full = {
            "id": f"act_{account_id}",
            "account_id": account_id,
            "name": acc.name,
            "currency": acc.currency,
            "timezone_name": acc.time_zone,
        }
        wanted = (request.arg("fields") or "id").split(",")
        body = {k: v for k, v in full.items() if k in wanted or k == "id"}
        return self._usage(Response(body=body), account_id)

    def insights(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        account_id = request.match.group("account") if request.match else ""
        if unknown := self._unknown_account(account_id):
            return unknown
        params = {k: v[0] for k, v in request.query.items()}
        try:
            rows = self._rows(account_id, params)
        except ValueError as exc:
            return graph_error(f"(#100) {exc}", 100)
        self.sync_requests += 1
        return self._usage(self._page(request, rows, params), account_id)

    def create_report_run(self, request: Request) -> Response:
        if denied := self._denied(request):
            return denied
        account_id = request.match.group("account") if request.match else ""
        if unknown := self._unknown_account(account_id):
            return unknown
        params = {**{k: v[0] for k, v in request.query.items()}, **request.form()}
        params.pop("access_token", None)
        try:
            self._rows(account_id, params)  # validate now, like the API does
        except ValueError as exc:
            return graph_error(f"(#100) {exc}", 100)
        run_id = str(6_000_000_000_000_000 + secrets.randbelow(10**15))
        self.runs[run_id] = ReportRun(account_id, params)
        return self._usage(Response(body={"report_run_id": run_id}), account_id)

    def report_run(self, request: Request) -> Response | None:
        run_id = request.match.group("run") if request.match else ""
        run = self.runs.get(run_id)
        if run is None:
            return None  # not a report run: another Graph node (a Page, an IG account)
        if denied := self._denied(request):
            return denied
        run.polls += 1
        done = run.polls >= self.polls_to_complete
        time_range = json.loads(run.params.get("time_range") or "{}")
        return Response(
            body={
                "id": run_id,
                "account_id": run.account_id,
                "async_status": "Job Completed" if done else "Job Running",
                "async_percent_completion": 100 if done else 50,
                "date_start": time_range.get("since"),
                "date_stop": time_range.get("until"),
            }
        )

    def report_run_insights(self, request: Request) -> Response | None:
        run_id = request.match.group("run") if request.match else ""
        run = self.runs.get(run_id)
        if run is None:
            return None  # not a report run: another Graph node's insights
        if denied := self._denied(request):
            return denied
        if run.polls < self.polls_to_complete:
            return graph_error("(#100) The report is not ready yet", 100)
        params = {**run.params, **{k: v[0] for k, v in request.query.items()}}
        return self._usage(
            self._page(request, self._rows(run.account_id, run.params), params), run.account_id
        )

    # Data -------------------------------------------------------------------------------------
    def _rows(self, account_id: str, params: dict[str, str]) -> list[dict[str, Any]]:
        if params.get("level", "campaign") != "campaign":
            raise ValueError("the emulator serves level=campaign")
        if params.get("time_increment") != "1":
            raise ValueError("the emulator serves time_increment=1")
        try:
            time_range = json.loads(params["time_range"])
            start = date.fromisoformat(time_range["since"])
            end = min(date.fromisoformat(time_range["until"]), self.today())
        except (KeyError, ValueError, TypeError):
            raise ValueError(
                "Param time_range must be a JSON object with since and until"
            ) from None
        fields = (params.get("fields") or DEFAULT_FIELDS).split(",")
        rows = []
        day = start
        while day <= end:
            for campaign in self.ads.campaigns_of(account_id):
                ad_day = self.ads.campaign_day(campaign, day)
                if ad_day.is_empty:  # no delivery: no row
                    continue
                full = self._full_row(account_id, campaign, day, ad_day)
                rows.append({k: full[k] for k in fields if k in full})
            day += timedelta(days=1)
        return rows

    def _full_row(
        self, account_id: str, campaign: AdCampaign, day: date, ad: AdDay
    ) -> dict[str, Any]:
        account = self.ads.accounts[account_id]
        link = ad.clicks
        row: dict[str, Any] = {
            "account_id": account_id,
            "account_currency": account.currency,
            "campaign_id": campaign.campaign_id,
            "campaign_name": campaign.name,
            "impressions": str(ad.impressions),
            "clicks": str(round(link * 1.6)),  # all clicks: link clicks plus likes, expands, ...
            "inline_link_clicks": str(link),
            "spend": f"{ad.spend:.2f}",
            "date_start": day.isoformat(),
            "date_stop": day.isoformat(),
        }
        purchases = int(ad.conversions)
        value = ad.conversion_value
        actions = [
            {"action_type": "link_click", "value": str(link), "7d_click": str(link)},
            {"action_type": "landing_page_view", "value": str(round(link * 0.72))},
        ]
        values = []
        if purchases:
            web = purchases - purchases // 6  # the pixel sees the web share; omni adds the app
            web_value = (value * web / purchases).quantize(Decimal("0.01"))
            aliases = [
                ("omni_purchase", purchases, value),
                ("offsite_conversion.fb_pixel_purchase", web, web_value),
            ]
            if account.currency == "USD":  # this account also reports the bare event
                aliases.insert(1, ("purchase", purchases, value))
            for name, count, amount in aliases:
                actions.append({"action_type": name, "value": str(count), "7d_click": str(count)})
                values.append({"action_type": name, "value": f"{amount}", "7d_click": f"{amount}"})
        leads = round(link * 0.01)
        if leads:
            actions.append({"action_type": "lead", "value": str(leads)})
        row["actions"] = actions
        if values:  # omitted entirely when there are none
            row["action_values"] = values
        return row

    def _page(
        self, request: Request, rows: list[dict[str, Any]], params: dict[str, str]
    ) -> Response:
        limit = min(int(params.get("limit") or DEFAULT_LIMIT), MAX_LIMIT)
        offset = _offset(params["after"]) + 1 if params.get("after") else 0
        size = limit - 1 if self.uneven_pages and offset == 0 and limit > 1 else limit
        page = rows[offset : offset + size]
        body: dict[str, Any] = {"data": page}
        if page:
            body["paging"] = {
                "cursors": {"before": _cursor(offset), "after": _cursor(offset + len(page) - 1)}
            }
            if offset + len(page) < len(rows):
                query = {k: v for k, v in params.items() if k != "access_token"}
                query["after"] = body["paging"]["cursors"]["after"]
                host = request.header("host") or "127.0.0.1"
                body["paging"]["next"] = f"http://{host}{request.path}?{urlencode(query)}"
        return Response(body=body)
