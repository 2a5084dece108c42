"""All emulators on one server, sharing the demo company and the Google auth emulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sources.emulators import ahrefs, hubspot, mailchimp, pagespeed, stripe, zendesk
from sources.emulators import google_ads as google_ads_emulator
from sources.emulators.ahrefs import AhrefsEmulator
from sources.emulators.company import (
    SITE_DOMAIN,
    SITE_URL,
    AdsProgram,
    BusinessActivity,
    Company,
    EmailProgram,
    SeoPresence,
    page_url,
)
from sources.emulators.ecb import EcbEmulator
from sources.emulators.ga4 import GA4Emulator, PropertySettings
from sources.emulators.google_ads import GoogleAdsEmulator
from sources.emulators.google_auth import TOKEN_PATH, GoogleAuth, write_demo_service_account
from sources.emulators.mailchimp import MailchimpEmulator
from sources.emulators.meta_ads import DEMO_ACCESS_TOKEN as META_DEMO_ACCESS_TOKEN
from sources.emulators.meta_ads import MetaAdsEmulator
from sources.emulators.pagespeed import PageSpeedEmulator
from sources.emulators.search_console import SearchConsoleEmulator
from sources.emulators.server import EmulatorServer
from sources.emulators.social_content import SocialContentEmulators, social_content_settings

DEMO_PROPERTIES = {"250000001": 1.0, "250000002": 0.35}
# Mixed case on purpose: tracked keywords match queries exactly, ignoring case.
DEMO_TRACKED_KEYWORDS = ("kpi dashboard", "Marketing KPIs", "seo basics", "kpi software")
DEMO_PAGESPEED_PATHS = ("/", "/pricing", "/product", "/blog/kpi-guide", "/blog/seo-basics")


@dataclass
class EmulatorStack:
    server: EmulatorServer
    company: Company
    auth: GoogleAuth
    ga4: GA4Emulator
    ecb: EcbEmulator
    service_account: Path
    social: SocialContentEmulators
    mailchimp: MailchimpEmulator | None = None
    search_console: SearchConsoleEmulator | None = None
    pagespeed: PageSpeedEmulator | None = None
    ahrefs: AhrefsEmulator | None = None
    email: EmailProgram = field(default_factory=EmailProgram)
    seo: SeoPresence = field(default_factory=SeoPresence)
    # Sales, CRM and customer service: one BusinessActivity behind all three.
    stripe: stripe.StripeEmulator | None = None
    hubspot: hubspot.HubSpotEmulator | None = None
    zendesk: zendesk.ZendeskEmulator | None = None

    def pin_business_clock(self, moment: datetime) -> None:
        """Stripe, HubSpot and Zendesk answer as of ``moment`` (their objects change over time:
        refunds, lifecycle stages, ticket states). Tests of old windows pin it near the window,
        or a modified-since pull would stream every change from then until today."""
        for emulator in (self.stripe, self.hubspot, self.zendesk):
            if emulator is not None:
                emulator.now = lambda: moment

    ads: AdsProgram | None = None
    google_ads: GoogleAdsEmulator | None = None
    meta_ads: MetaAdsEmulator | None = None

    def env(self) -> dict[str, str]:
        """The settings that point every connector at this stack."""
        return demo_settings(self.server.base_url, self.service_account, self.company)


def demo_settings(
    base_url: str, service_account: Path, company: Company | None = None
) -> dict[str, str]:
    """Every connector's settings for an emulator stack at ``base_url`` (one entry per source)."""
    company = company or Company(DEMO_PROPERTIES)
    return {
        # GA4
        "GA4_BASE_URL": base_url,
        "GA4_PROPERTY_IDS": ",".join(company.property_ids),
        "GOOGLE_APPLICATION_CREDENTIALS": str(service_account),
        "GOOGLE_OAUTH_TOKEN_URL": base_url + TOKEN_PATH,
        # FX rates
        "FX_BASE_URL": base_url,
        # Mailchimp (the key's -us21 suffix would pick the host; the base URL overrides it)
        "MAILCHIMP_API_KEY": mailchimp.DEMO_API_KEY,
        "MAILCHIMP_BASE_URL": base_url,
        # Search Console (same service account as GA4)
        "SEARCH_CONSOLE_SITE_URLS": SITE_URL,
        "SEARCH_CONSOLE_BASE_URL": base_url,
        "SEO_TRACKED_KEYWORDS": ",".join(DEMO_TRACKED_KEYWORDS),
        # PageSpeed Insights
        "PAGESPEED_API_KEY": pagespeed.DEMO_API_KEY,
        "PAGESPEED_URLS": ",".join(page_url(p) for p in DEMO_PAGESPEED_PATHS),
        "PAGESPEED_BASE_URL": base_url,
        # Backlinks (Ahrefs)
        "AHREFS_API_TOKEN": ahrefs.DEMO_TOKEN,
        "AHREFS_TARGET": SITE_DOMAIN,
        "AHREFS_BASE_URL": base_url,
        # Social insights, mentions, content (issue 6)
        **social_content_settings(base_url, service_account.parent),
        # Stripe
        "STRIPE_BASE_URL": base_url,
        "STRIPE_API_KEY": stripe.DEMO_API_KEY,
        # HubSpot
        "HUBSPOT_BASE_URL": base_url,
        "HUBSPOT_ACCESS_TOKEN": hubspot.DEMO_ACCESS_TOKEN,
        # Zendesk
        "ZENDESK_BASE_URL": base_url,
        "ZENDESK_SUBDOMAIN": zendesk.DEMO_SUBDOMAIN,
        "ZENDESK_EMAIL": zendesk.DEMO_EMAIL,
        "ZENDESK_API_TOKEN": zendesk.DEMO_API_TOKEN,
        # Google Ads (OAuth refresh token at the same token endpoint; a dashed id on purpose)
        "GOOGLE_ADS_CUSTOMER_IDS": "481-516-2342,7020304050",
        "GOOGLE_ADS_LOGIN_CUSTOMER_ID": google_ads_emulator.DEMO_MANAGER_ID,
        "GOOGLE_ADS_DEVELOPER_TOKEN": google_ads_emulator.DEMO_DEVELOPER_TOKEN,
        "GOOGLE_ADS_CLIENT_ID": google_ads_emulator.DEMO_CLIENT_ID,
        "GOOGLE_ADS_CLIENT_SECRET": google_ads_emulator.DEMO_CLIENT_SECRET,
        "GOOGLE_ADS_REFRESH_TOKEN": google_ads_emulator.DEMO_REFRESH_TOKEN,
        "GOOGLE_ADS_BASE_URL": base_url,
        # Meta Ads (the second account reports in NOK)
        "META_AD_ACCOUNT_IDS": "act_798085168510957,801234567890123",
        "META_ACCESS_TOKEN": META_DEMO_ACCESS_TOKEN,
        "META_BASE_URL": base_url,
    }


def build_stack(
    service_account: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    properties: dict[str, float] | None = None,
) -> EmulatorStack:
    """Create (not start) the server with every emulator registered.

    A fresh throwaway service-account key is written to ``service_account``; its ``token_uri``
    points at this server.
    """
    server = EmulatorServer(host, port)
    write_demo_service_account(service_account, server.base_url + TOKEN_PATH)
    auth = GoogleAuth()
    auth.trust_service_account_file(service_account)
    auth.register(server)
    company = Company(properties or DEMO_PROPERTIES)
    ga4 = GA4Emulator(company, auth)
    if "250000002" in ga4.properties:  # a second site, reporting in its own currency and zone
        ga4.properties["250000002"] = PropertySettings("EUR", "Europe/Oslo")
    ga4.register(server)
    ecb = EcbEmulator()
    ecb.register(server)
    # Graph API: report runs (ads) are tried before Pages and IG accounts (social); both share
    # /v27.0/{numeric id}.
    ads = AdsProgram(company)
    google_ads = GoogleAdsEmulator(ads, auth)
    meta_ads = MetaAdsEmulator(ads)
    google_ads.register(server)
    meta_ads.register(server)
    social = SocialContentEmulators.build(server)
    stack = EmulatorStack(server, company, auth, ga4, ecb, service_account, social)
    stack.ads, stack.google_ads, stack.meta_ads = ads, google_ads, meta_ads
    stack.mailchimp = MailchimpEmulator(stack.email)
    stack.search_console = SearchConsoleEmulator(stack.seo, auth)
    stack.pagespeed = PageSpeedEmulator(stack.seo)
    stack.ahrefs = AhrefsEmulator(stack.seo)
    for emulator in (stack.mailchimp, stack.search_console, stack.pagespeed, stack.ahrefs):
        emulator.register(server)
    activity = BusinessActivity(company)
    stack.stripe = stripe.StripeEmulator(activity)
    stack.hubspot = hubspot.HubSpotEmulator(activity)
    stack.zendesk = zendesk.ZendeskEmulator(activity)
    for emulator in (stack.stripe, stack.hubspot, stack.zendesk):
        emulator.register(server)
    return stack
