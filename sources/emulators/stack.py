"""All emulators on one server, sharing the demo company and the Google auth emulator."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sources.emulators import google_ads as google_ads_emulator
from sources.emulators.company import AdsProgram, Company
from sources.emulators.ecb import EcbEmulator
from sources.emulators.ga4 import GA4Emulator, PropertySettings
from sources.emulators.google_ads import GoogleAdsEmulator
from sources.emulators.google_auth import TOKEN_PATH, GoogleAuth, write_demo_service_account
from sources.emulators.meta_ads import DEMO_ACCESS_TOKEN as META_DEMO_ACCESS_TOKEN
from sources.emulators.meta_ads import MetaAdsEmulator
from sources.emulators.server import EmulatorServer

DEMO_PROPERTIES = {"250000001": 1.0, "250000002": 0.35}


@dataclass
class EmulatorStack:
    server: EmulatorServer
    company: Company
    auth: GoogleAuth
    ga4: GA4Emulator
    ecb: EcbEmulator
    service_account: Path
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
    stack = EmulatorStack(server, company, auth, ga4, ecb, service_account)
    stack.ads = AdsProgram(company)
    stack.google_ads = GoogleAdsEmulator(stack.ads, auth)
    stack.meta_ads = MetaAdsEmulator(stack.ads)
    stack.google_ads.register(server)
    stack.meta_ads.register(server)
    return stack
