"""Who the customers are: segment, region, industry, channel, size, owners; and the people working there."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from retain.demo._base import DAY, NO_DAY, Clock, arrow_table, ids, lookup, pick, stream
from retain.demo.names import company_names, domains, person_names, phones
from retain.demo.spec import (
    CAMPAIGNS,
    CHANNEL_SHARE,
    CHANNELS,
    INDUSTRIES,
    REGIONS,
    SEGMENT_EMPLOYEES,
    SEGMENT_SEATS,
    SEGMENT_SHARE,
    SEGMENTS,
    DemoSpec,
)
from retain.demo.team import REGION_NAMES, Team


@dataclass
class Accounts:
    account_id: np.ndarray
    name: np.ndarray
    created_day: np.ndarray  # first day as a customer (first subscription starts that day)
    created_sec: np.ndarray
    segment: np.ndarray  # index into SEGMENTS
    region: np.ndarray  # region name
    country: np.ndarray
    industry: np.ndarray
    channel: np.ndarray
    campaign: np.ndarray
    employees: np.ndarray
    seats: np.ndarray  # licences bought at the start
    monthly: np.ndarray  # billed monthly (most smb) rather than yearly
    owner: np.ndarray  # index into team (rep)
    csm: np.ndarray  # index into team (csm)
    chinese: np.ndarray  # the account speaks Chinese with us
    parent: np.ndarray  # index of the parent account (an earlier enterprise customer), -1 when none

    def __len__(self) -> int:
        return len(self.account_id)


def _assign(rng: np.random.Generator, team: Team, role: str, regions: np.ndarray) -> np.ndarray:
    """A team member of ``role`` in the account's region; busier people get more accounts (uneven books)."""
    out = np.empty(len(regions), dtype=np.int64)
    for region in REGION_NAMES:
        rows = np.flatnonzero(regions == region)
        people = team.of_role(role, region)
        if len(people) == 0:
            people = team.of_role(role)
        weight = rng.gamma(4.0, 1.0, len(people))
        out[rows] = people[rng.choice(len(people), len(rows), p=weight / weight.sum())]
    return out


def speaks_chinese(rng: np.random.Generator, region: np.ndarray, zh_share: float) -> np.ndarray:
    """Chinese-speaking companies: all of the China region, then APAC and a few elsewhere to reach ``zh_share``."""
    elsewhere = max(0.0, (zh_share - REGIONS["china"][1]) / (1 - REGIONS["china"][1]))
    u = rng.random(len(region))
    return (region == "china") | np.where(region == "apac", u < min(1.0, 3.0 * elsewhere), u < 0.5 * elsewhere)


def build_accounts(spec: DemoSpec, clock: Clock, team: Team) -> Accounts:
    rng = stream(spec, "accounts")
    n = spec.accounts
    # growth: each year a little more new business than the last (density ~ exp(g t))
    g = 0.45 / 365.0
    u = rng.random(n)
    span = clock.n_days - 14
    created = clock.start + np.floor(np.log1p(u * np.expm1(g * span)) / g).astype(np.int64)
    created = np.sort(created)
    created_sec = created * DAY + rng.integers(8 * 3600, 19 * 3600, n)
    segment = rng.choice(len(SEGMENTS), n, p=SEGMENT_SHARE)
    region_names = np.asarray(REGION_NAMES, dtype=object)
    region = region_names[rng.choice(len(REGIONS), n, p=[s for _, s in REGIONS.values()])]
    country = np.empty(n, dtype=object)
    for r, (countries, _) in REGIONS.items():
        rows = np.flatnonzero(region == r)
        country[rows] = pick(rng, countries, len(rows))
    chinese = speaks_chinese(rng, region, spec.zh_share)
    seats = np.maximum(1, np.round(np.asarray(SEGMENT_SEATS)[segment] * rng.lognormal(0, 0.5, n))).astype(np.int64)
    employees = np.maximum(seats * 2, np.round(np.asarray(SEGMENT_EMPLOYEES)[segment] * rng.lognormal(0, 0.6, n)))
    monthly = (segment == 0) & (rng.random(n) < 0.8)
    channel = pick(rng, CHANNELS, n, CHANNEL_SHARE)
    campaign = np.where(np.isin(channel, ["inbound", "paid", "outbound"]), pick(rng, CAMPAIGNS, n), None)
    # about 4% are subsidiaries of an enterprise customer signed earlier
    ent = np.flatnonzero(segment == 2)
    earlier = np.searchsorted(ent, np.arange(n))  # enterprise accounts before each one (sorted by creation)
    child = (segment < 2) & (earlier > 0) & (rng.random(n) < 0.04)
    parent = np.full(n, -1, dtype=np.int64)
    parent[child] = ent[np.floor(rng.random(child.sum()) * earlier[child]).astype(np.int64)]
    return Accounts(
        account_id=ids("acc_", n), name=company_names(rng, n, chinese), created_day=created,
        created_sec=created_sec, segment=segment, region=region, country=country,
        industry=pick(rng, INDUSTRIES, n), channel=channel, campaign=campaign.astype(object),
        employees=employees.astype(np.int64), seats=seats, monthly=monthly,
        owner=_assign(rng, team, "rep", region), csm=_assign(rng, team, "csm", region), chinese=chinese,
        parent=parent,
    )


def accounts_table(acc: Accounts, team: Team, referred_by: np.ndarray) -> pa.Table:
    channel = np.where(referred_by != None, "referral", acc.channel)  # noqa: E711 (object array)
    channel = np.where((channel == "referral") & (referred_by == None), "inbound", channel)  # noqa: E711
    return arrow_table("accounts", {
        "account_id": acc.account_id, "name": acc.name, "created_at": acc.created_sec,
        "segment": np.asarray(SEGMENTS, dtype=object)[acc.segment], "industry": acc.industry, "region": acc.region,
        "country": acc.country, "employees": acc.employees, "owner_id": team.member_id[acc.owner],
        "csm_id": team.member_id[acc.csm], "acquisition_channel": channel, "campaign": acc.campaign,
        "referred_by_account_id": referred_by,
        "parent_account_id": np.where(acc.parent >= 0, acc.account_id[np.maximum(acc.parent, 0)], None),
    })


@dataclass
class Contacts:
    contact_id: np.ndarray
    account: np.ndarray  # index into accounts
    role: np.ndarray
    name: np.ndarray
    created_sec: np.ndarray
    left_sec: np.ndarray
    table: pa.Table

    def random_of(self, rng: np.random.Generator, account: np.ndarray, at_sec: np.ndarray | None = None) -> np.ndarray:
        """A random contact row of each given account, one already there at ``at_sec`` (the first one otherwise)."""
        first = np.searchsorted(self.account, account, side="left")
        last = np.searchsorted(self.account, account, side="right")
        pick = first + np.floor(rng.random(len(account)) * (last - first)).astype(np.int64)
        if at_sec is not None:
            pick = np.where(self.created_sec[pick] <= at_sec, pick, first)
        return pick

    def first_of_role(self, n_accounts: int, role: str) -> np.ndarray:
        """Per account the index of its first contact with ``role`` (any contact when none), as contact rows."""
        out = np.full(n_accounts, -1, dtype=np.int64)
        rows = np.flatnonzero(self.role == role)[::-1]
        out[self.account[rows]] = rows
        missing = out < 0
        any_rows = np.arange(len(self.account))[::-1]
        fallback = np.full(n_accounts, -1, dtype=np.int64)
        fallback[self.account[any_rows]] = any_rows
        out[missing] = fallback[missing]
        return out


CONTACT_ROLES = ("champion", "decision_maker", "executive_sponsor", "billing", "user", "technical", "other")
TITLES = {
    "champion": "Head of Customer Success", "decision_maker": "VP Operations", "executive_sponsor": "COO",
    "billing": "Finance Manager", "user": "Analyst", "technical": "IT Lead", "other": "Coordinator",
}


def build_contacts(spec: DemoSpec, clock: Clock, acc: Accounts, champion_leave_day: np.ndarray) -> Contacts:
    """Contacts per account (more at bigger accounts). Champions who leave get a ``left_at`` and a successor."""
    rng = stream(spec, "contacts")
    per = np.array([2, 4, 7])[acc.segment] + rng.integers(0, 3, len(acc))
    account = np.repeat(np.arange(len(acc)), per)
    rank = np.arange(len(account)) - np.repeat(np.cumsum(per) - per, per)
    role_by_rank = np.array(["champion", "decision_maker", "billing", "executive_sponsor", "technical"], dtype=object)
    role = np.where(rank < len(role_by_rank), role_by_rank[np.minimum(rank, len(role_by_rank) - 1)],
                    pick(rng, ("user", "user", "technical", "other"), len(account)))
    created = acc.created_sec[account] + rng.integers(0, 3600, len(account))  # entered with the account
    left = np.full(len(account), NO_DAY)
    champ = (role == "champion") & (champion_leave_day[account] != NO_DAY)
    left[champ] = champion_leave_day[account[champ]] * DAY + 10 * 3600
    # the successor champion appears three to eight weeks later
    succ_acc = account[champ]
    succ_created = left[champ] + rng.integers(21, 56, len(succ_acc)) * DAY
    keep = succ_created <= clock.end * DAY
    account = np.concatenate([account, succ_acc[keep]])
    role = np.concatenate([role, np.full(keep.sum(), "champion", dtype=object)])
    created = np.concatenate([created, succ_created[keep]])
    left = np.concatenate([left, np.full(keep.sum(), NO_DAY)])
    order = np.lexsort((created, account))
    account, role, created, left = account[order], role[order], created[order], left[order]
    n = len(account)
    chinese = acc.chinese[account]
    name, local = person_names(rng, n, chinese)
    email = local + "@" + domains(acc.name, account)
    is_primary = (role == "champion") & (left == NO_DAY)
    contact_id = ids("con_", n, 7)
    table = arrow_table("contacts", {
        "contact_id": contact_id, "account_id": acc.account_id[account], "created_at": created, "name": name,
        "email": email, "phone": phones(rng, n, chinese), "title": lookup(TITLES, role),
        "role": role, "is_primary": is_primary, "left_at": left, "language": np.where(chinese, "zh", "en"),
    })
    return Contacts(contact_id, account, role, name, created, left, table)
