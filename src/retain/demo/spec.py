"""What the demo company looks like: its size, time span and seed, plus the fixed catalogue it sells from."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_END = dt.date(2026, 10, 31)

SEGMENTS = ("smb", "mid_market", "enterprise")
SEGMENT_SHARE = (0.62, 0.28, 0.10)
# Mean of the hidden health per segment: larger customers are better served and a little healthier.
SEGMENT_HEALTH = (-0.15, 0.05, 0.25)
# Licences bought at the start: log-normal around these medians.
SEGMENT_SEATS = (8, 45, 260)
SEGMENT_EMPLOYEES = (40, 400, 4000)

INDUSTRIES = (
    "software", "financial_services", "healthcare", "retail", "manufacturing", "education", "logistics",
    "media", "professional_services", "telecom",
)
# region, countries, share, language share (zh) on calls
REGIONS = {
    "north_america": (("US", "CA"), 0.40),
    "emea": (("GB", "DE", "FR", "NL", "SE"), 0.25),
    "apac": (("SG", "AU", "JP", "IN"), 0.15),
    "china": (("CN",), 0.20),
}
CHANNELS = ("inbound", "outbound", "referral", "partner", "paid")
CHANNEL_SHARE = (0.33, 0.27, 0.14, 0.12, 0.14)
CAMPAIGNS = (
    "webinar_q1", "summit", "content_seo", "linkedin_ads", "partner_week", "cold_sequence_a", "cold_sequence_b",
)

# product_id, name, family, is_addon, list price per licence per month, feature it unlocks, launch (days from start)
PRODUCTS = (
    ("p_starter", "Retain Starter", "core", False, 25.0, None, -900),
    ("p_professional", "Retain Professional", "core", False, 45.0, None, -900),
    ("p_enterprise", "Retain Enterprise", "core", False, 70.0, None, -700),
    ("p_analytics", "Advanced Analytics", "addon", True, 12.0, "analytics", -400),
    ("p_automation", "Workflow Automation", "addon", True, 10.0, "automation", -200),
    ("p_api", "API & Integrations", "addon", True, 8.0, "api", 120),
    ("p_premium_support", "Premium Support", "addon", True, 6.0, None, -300),
    ("p_services", "Implementation Services", "services", False, 0.0, None, -900),
)
PRODUCT_INDEX = {p[0]: i for i, p in enumerate(PRODUCTS)}
CORE_BY_SEGMENT = ("p_starter", "p_professional", "p_enterprise")
ADDONS = ("p_analytics", "p_automation", "p_api", "p_premium_support")
CORE_FEATURES = ("dashboards", "reports", "alerts")
COMPETITORS = ("Gainsight", "ChurnZero", "Totango", "Vitally", "Planhat")
CANCEL_REASONS = ("price", "competitor", "no_value", "budget", "acquired", "other")


class DemoProfile(StrEnum):
    """The shape of the demo company: which kind of business, hence which tables and signals exist."""

    SAAS = "saas"  # B2B SaaS: seats, add-ons, CRM, calls (the default)
    BANK = "bank"  # retail bank: product holdings without seats, branch and digital activity, loyalty surveys
    APP = "app"  # consumer subscription app: trials, monthly/annual plans, product events without user ids


# accounts and years when the spec does not give them, per profile
PROFILE_DEFAULTS: dict[DemoProfile, tuple[int, float]] = {
    DemoProfile.SAAS: (3000, 3.0),
    DemoProfile.BANK: (5000, 3.0),
    DemoProfile.APP: (10_000, 1.5),
}


class DemoSpec(BaseModel):
    """Size and shape of the demo company. Same spec, same seed: byte-identical files.

    ``accounts`` and ``years`` default per profile (:data:`PROFILE_DEFAULTS`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = 1
    profile: DemoProfile = Field(DemoProfile.SAAS, description="Kind of company: saas, bank or app.")
    accounts: int = Field(3000, ge=20, le=200_000, description="Customer accounts created over the span.")
    years: float = Field(3.0, gt=0.25, le=10, description="Years of history ending at `end`.")
    seed: int = Field(7, ge=0, description="Random seed.")
    end: dt.date = Field(DEFAULT_END, description="Last day of data.")
    zh_share: float = Field(0.3, ge=0, le=1, description="Share of calls held in Chinese.")

    @model_validator(mode="before")
    @classmethod
    def _profile_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        try:
            profile = DemoProfile(data.get("profile", DemoProfile.SAAS))
        except ValueError:
            return data  # the field validator names the valid profiles
        accounts, years = PROFILE_DEFAULTS[profile]
        filled = {k: v for k, v in data.items() if v is not None or k not in ("accounts", "years")}
        filled.setdefault("accounts", accounts)
        filled.setdefault("years", years)
        return filled

    @model_validator(mode="after")
    def _span(self) -> DemoSpec:
        if self.end.year < 2000:
            raise ValueError("end must be after 2000")
        return self

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=round(self.years * 365.25) - 1)
