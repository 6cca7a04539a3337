"""Contact caps across teams: how often a customer may be touched, whoever touches them.

A **touch** is a customer-facing contact: an outbound e-mail or call, or a meeting, in the warehouse's
``activities`` (by any team), plus every customer-facing message Retain itself sends (the outbox). Touches are
counted per contact and per account over rolling windows of ``window_days`` days ending on a day; a cap says how
many are allowed (``at most 3 e-mails per contact per 7 days``). Not counted:

- activities by members whose role is in ``exempt_roles`` (support replies, by default);
- outbox messages whose category is in ``exempt_categories`` (transactional ones, by default), internal alerts.

A message for day *d* breaks a cap when, for some window containing *d* (ending on *d* .. *d* + window - 1), the
touches already in it plus this one exceed the cap: checking only the window ending on *d* would let a message
dated before others slip through. Activities are those known by the last of those days (for a message sent
today, simply everything known). :func:`breaches` reports past windows that exceeded a cap, from ``activities``,
computed in the engine.
"""

from __future__ import annotations

import datetime as dt
import time
import weakref
from enum import StrEnum
from pathlib import Path
from typing import Literal

import ibis
import ibis.expr.types as ir
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retain.specs import load_yaml_spec
from retain.state.outbox import OutboxMessage
from retain.warehouse import Warehouse

DEFAULT_CAPS = Path(__file__).parent / "default_caps.yaml"
DOCS = "docs/delivery.md, section Contact caps"
COUNTED_STATUSES = ("pending", "sending", "sent")  # held, dead or withdrawn: has not touched anyone (yet)
MEETING_TYPES = ("meeting", "qbr", "executive_meeting", "training")
NOT_OUTBOUND = ("inbound", "internal")


class CapChannel(StrEnum):
    """What a cap counts."""

    EMAIL = "email"
    CALL = "call"
    MEETING = "meeting"
    ANY = "any"  # every touch


class CapScope(StrEnum):
    """Whom a cap protects."""

    CONTACT = "contact"
    ACCOUNT = "account"


class CapSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")
    per: CapScope
    channel: CapChannel = CapChannel.EMAIL
    window_days: int = Field(ge=1, le=366)
    max: int = Field(ge=0, le=10_000)

    def counts(self, channel: str) -> bool:
        return self.channel is CapChannel.ANY or self.channel.value == channel


class CapsSpec(BaseModel):
    """A caps file: the caps, and what they never count."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1
    exempt_categories: tuple[str, ...] = ("transactional", "support_reply")
    exempt_roles: tuple[str, ...] = ("support",)
    caps: tuple[CapSpec, ...] = ()

    @model_validator(mode="after")
    def _unique_names(self) -> CapsSpec:
        names = [c.name for c in self.caps]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"cap names must be unique; repeated: {', '.join(twice)}")
        return self

    @property
    def longest(self) -> int:
        return max((c.window_days for c in self.caps), default=1)

    def counted(self, category: str) -> bool:
        return category not in self.exempt_categories


def load_caps(path: str | Path | None = None) -> CapsSpec:
    """The caps at ``path`` (the shipped ones when None); a ConfigError names the file and every bad key."""
    return load_yaml_spec(CapsSpec, path or DEFAULT_CAPS, docs=DOCS)


def configured_caps() -> CapsSpec:
    """The caps the settings name (``RETAIN_CAPS``), else the shipped ones: what every sender checks against, read
    once per send rather than once per message."""
    from retain.delivery.settings import load_settings

    return load_caps(load_settings().caps)


# -- touches ------------------------------------------------------------------------------------------------


def activity_touches(wh: Warehouse, day: dt.date, caps: CapsSpec, start: dt.date | None = None) -> ir.Table:
    """Customer-facing touches in ``activities`` known by ``day`` (from ``start``): contact_id, account_id,
    touch_on, channel, team (the member's team, else role, else ``unknown``). Exempt roles' touches are left out."""
    act = wh.as_of("activities", day)
    team = wh.as_of("team_members", day).select("member_id", "role", "team")
    channel = (ibis.cases((act.activity_type == "email", "email"), (act.activity_type == "call", "call"),
                          (act.activity_type.isin(MEETING_TYPES), "meeting"), else_=ibis.null("string")))
    touches = act.mutate(channel=channel, touch_on=act.occurred_at.date()).filter(
        lambda t: t.channel.notnull() & (t.direction.isnull() | ~t.direction.isin(NOT_OUTBOUND)))
    if start is not None:
        touches = touches.filter(touches.touch_on >= ibis.literal(start, type="date"))
    joined = touches.left_join(team, touches.member_id == team.member_id)
    if caps.exempt_roles:
        joined = joined.filter(joined.role.isnull() | ~joined.role.isin(list(caps.exempt_roles)))
    return joined.select(contact_id=joined.contact_id, account_id=joined.account_id, touch_on=joined.touch_on,
                         channel=joined.channel,
                         team=ibis.coalesce(joined.team, joined.role, ibis.literal("unknown")))


def _activity_counts(wh: Warehouse | None, caps: CapsSpec, day: dt.date, start: dt.date, *,
                     contact_id: str | None = None, account_id: str | None = None) -> dict[tuple, int]:
    """Touches per (key, day, channel) from ``start`` to ``day`` in the warehouse: key is ``contact_id`` when given,
    else ``account_id``. Read through :func:`_touch_block` (activities are known on the day they happen, so a
    block read as of its last day holds exactly what was known by each of its days)."""
    if wh is None:
        return {}
    contact = contact_id is not None
    key = contact_id if contact else account_id
    counts: dict[tuple, int] = {}
    block = _block_of(start)
    while block <= day:
        by_contact, by_account = _touch_block(wh, caps, block)
        rows = by_contact.get(key, ()) if contact else by_account.get(key, ())
        for d, channel, n in rows:
            if start <= d <= day:
                counts[(key, d, channel)] = counts.get((key, d, channel), 0) + n
        block += dt.timedelta(days=BLOCK_DAYS)
    return counts


BLOCK_DAYS = 64
TOUCH_CACHE_SECONDS = 60.0
_blocks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _block_of(day: dt.date) -> dt.date:
    return dt.date.fromordinal(day.toordinal() - day.toordinal() % BLOCK_DAYS)


def forget_touches() -> None:
    """Drop the cached touch counts (they are re-read at most every ``TOUCH_CACHE_SECONDS`` anyway)."""
    _blocks.clear()


def _touch_block(wh: Warehouse, caps: CapsSpec, first: dt.date) -> tuple[dict, dict]:
    """Touch counts of the ``BLOCK_DAYS`` days from ``first``, per contact and per account: one query per block
    and minute, so checking a thousand messages of a campaign does not ask the engine a thousand times."""
    per_wh = _blocks.setdefault(wh, {})
    cache_key, now = (first, caps.exempt_roles), time.monotonic()
    hit = per_wh.get(cache_key)
    if hit is not None and now - hit[0] < TOUCH_CACHE_SECONDS:
        return hit[1]
    last = first + dt.timedelta(days=BLOCK_DAYS - 1)
    t = activity_touches(wh, last, caps, first)
    frame = wh.execute(t.group_by("account_id", "contact_id", "touch_on", "channel").agg(n=t.count()))
    by_contact: dict[str, list] = {}
    by_account: dict[str, list] = {}
    days = pd.to_datetime(frame["touch_on"]).dt.date
    for account, contact, d, channel, n in zip(frame["account_id"], frame["contact_id"], days, frame["channel"],
                                               frame["n"], strict=True):
        if isinstance(contact, str):
            by_contact.setdefault(contact, []).append((d, channel, int(n)))
        if isinstance(account, str):
            by_account.setdefault(account, []).append((d, channel, int(n)))
    if len(per_wh) > 32:
        per_wh.clear()
    per_wh[cache_key] = (now, (by_contact, by_account))
    return by_contact, by_account


def _outbox_counts(session: Session, caps: CapsSpec, start: dt.date, end: dt.date, *,
                   contact_id: str | None = None, account_id: str | None = None) -> dict[tuple, int]:
    m = OutboxMessage
    key = m.contact_id if contact_id is not None else m.account_id
    stmt = (select(key, m.touch_on, m.channel, func.count()).where(
        key == (contact_id if contact_id is not None else account_id), m.customer_facing.is_(True),
        m.status.in_(COUNTED_STATUSES), m.touch_on >= start, m.touch_on <= end)
        .group_by(key, m.touch_on, m.channel))
    if caps.exempt_categories:
        stmt = stmt.where(m.category.not_in(caps.exempt_categories))
    return {(k, d, ch): int(n) for k, d, ch, n in session.execute(stmt)}


def _in_window(counts: dict[tuple, int], cap: CapSpec, end: dt.date) -> int:
    start = end - dt.timedelta(days=cap.window_days - 1)
    return sum(n for (_, d, ch), n in counts.items() if start <= d <= end and cap.counts(ch))


def _merge(*parts: dict[tuple, int]) -> dict[tuple, int]:
    merged: dict[tuple, int] = {}
    for part in parts:
        for k, n in part.items():
            merged[k] = merged.get(k, 0) + n
    return merged


CHANNEL_WORDS = {"email": "e-mail(s)", "call": "call(s)", "meeting": "meeting(s)", "any": "touch(es)"}


def cap_block(session: Session, wh: Warehouse | None, *, contact_id: str | None, account_id: str | None,
              category: str, day: dt.date, caps: CapsSpec | None = None, channel: str = "email") -> str | None:
    """Why a customer-facing ``channel`` message to ``contact_id`` (of ``account_id``) on ``day`` would break a
    cap, in words; None when it would not (or its category is exempt)."""
    caps = caps or load_caps()
    if not caps.counted(category):
        return None
    for scope, key in ((CapScope.CONTACT, contact_id), (CapScope.ACCOUNT, account_id)):
        applicable = [c for c in caps.caps if c.per is scope and c.counts(channel)]
        if key is None or not applicable:
            continue
        longest = max(c.window_days for c in applicable)
        ids = {"contact_id": key} if scope is CapScope.CONTACT else {"account_id": key}
        counts = _merge(
            _activity_counts(wh, caps, day + dt.timedelta(days=longest - 1), day - dt.timedelta(days=longest - 1),
                             **ids),
            _outbox_counts(session, caps, day - dt.timedelta(days=longest - 1), day + dt.timedelta(days=longest - 1),
                           **ids))
        for cap in applicable:
            for offset in range(cap.window_days):
                end = day + dt.timedelta(days=offset)
                already = _in_window(counts, cap, end)
                if already + 1 > cap.max:
                    return (f"{scope.value} {key} already has {already} {CHANNEL_WORDS[cap.channel.value]} in the "
                            f"{cap.window_days} days to {end.isoformat()} (cap {cap.name}: at most {cap.max})")
    return None


def contact_pressure(session: Session, wh: Warehouse | None, account_id: str, day: dt.date,
                     caps: CapsSpec | None = None) -> list[dict]:
    """An account's contact pressure on ``day``: per contact (and for the account) and per cap, the touches in
    the window ending on ``day`` against the cap, with the messages held by caps. Busiest first."""
    caps = caps or load_caps()
    start = day - dt.timedelta(days=caps.longest - 1)
    names: dict[str, str] = {}
    act: dict[tuple, int] = {}
    if wh is not None:
        people = wh.as_of("contacts", day)
        people = people.filter((people.account_id == account_id) & people.left_at.isnull())
        names = {r.contact_id: r.name or r.contact_id
                 for r in wh.execute(people.select("contact_id", "name")).itertuples()}
        t = activity_touches(wh, day, caps, start)
        t = t.filter(t.account_id == account_id)
        frame = wh.execute(t.group_by(contact_id=t.contact_id, touch_on=t.touch_on, channel=t.channel)
                           .agg(n=t.count()))
        act = {(r.contact_id if isinstance(r.contact_id, str) else None, pd.Timestamp(r.touch_on).date(), r.channel):
               int(r.n) for r in frame.itertuples()}
    m = OutboxMessage
    stmt = (select(m.contact_id, m.touch_on, m.channel, func.count()).where(
        m.account_id == account_id, m.customer_facing.is_(True), m.status.in_(COUNTED_STATUSES),
        m.touch_on >= start, m.touch_on <= day).group_by(m.contact_id, m.touch_on, m.channel))
    if caps.exempt_categories:
        stmt = stmt.where(m.category.not_in(caps.exempt_categories))
    sent = {(c, d, ch): int(n) for c, d, ch, n in session.execute(stmt)}
    held = dict(session.execute(select(m.contact_id, func.count()).where(
        m.account_id == account_id, m.status == "held").group_by(m.contact_id)).all())
    counts = _merge(act, sent)
    contacts = sorted(set(names) | {k[0] for k in counts if k[0]} | {c for c in held if c})
    rows = []
    for cap in caps.caps:
        if cap.per is CapScope.ACCOUNT:
            rows.append(_pressure_row(cap, "account", None, account_id, counts, day, sum(held.values())))
            continue
        for contact in contacts:
            mine = {k: n for k, n in counts.items() if k[0] == contact}
            rows.append(_pressure_row(cap, "contact", contact, names.get(contact, contact), mine, day,
                                      held.get(contact, 0)))
    return sorted(rows, key=lambda r: (-r["share"], r["scope"], r["name"], r["cap"]))


def _pressure_row(cap: CapSpec, scope: str, contact_id: str | None, name: str, counts: dict, day: dt.date,
                  held: int) -> dict:
    touches = _in_window(counts, cap, day)
    return {"scope": scope, "contact_id": contact_id, "name": name, "cap": cap.name, "channel": cap.channel.value,
            "window_days": cap.window_days, "touches": touches, "max": cap.max,
            "share": touches / cap.max if cap.max else float(touches > 0), "at_cap": touches >= cap.max,
            "held": held}


# -- past breaches ------------------------------------------------------------------------------------------

BREACH_COLUMNS = ("cap", "per", "key_id", "account_id", "channel", "window_days", "max", "breach_on", "touches",
                  "teams")


def breach_expr(wh: Warehouse, start: dt.date, end: dt.date, caps: CapsSpec) -> ir.Table | None:
    """Every (cap, contact or account, day) in ``start``..``end`` where the touches in the window ending that day
    exceeded the cap, with the teams that touched in that window: one expression, unioned over the caps."""
    parts = []
    for cap in caps.caps:
        first = start - dt.timedelta(days=cap.window_days - 1)
        t = activity_touches(wh, end, caps, first)
        if cap.channel is not CapChannel.ANY:
            t = t.filter(t.channel == cap.channel.value)
        key = t.contact_id if cap.per is CapScope.CONTACT else t.account_id
        t = t.mutate(key_id=key).filter(lambda x: x.key_id.notnull())
        daily = t.group_by("key_id", "touch_on").agg(n=t.count(), account_id=t.account_id.max())
        window = ibis.window(group_by=daily.key_id, order_by=daily.touch_on,
                             preceding=ibis.interval(days=cap.window_days - 1), following=0)
        rolling = daily.mutate(touches=daily.n.sum().over(window))
        over = rolling.filter((rolling.touches > cap.max) & (rolling.touch_on >= ibis.literal(start, type="date")))
        # which teams touched inside each breaching window
        lo = over.touch_on - ibis.interval(days=cap.window_days - 1)
        who = over.join(t, (over.key_id == t.key_id) & (t.touch_on >= lo) & (t.touch_on <= over.touch_on))
        teams = (who.select(key_id=over.key_id, breach_on=over.touch_on, team=t.team).distinct()
                 .group_by("key_id", "breach_on").agg(teams=lambda x: x.team.group_concat(", ", order_by=x.team)))
        part = over.join(teams, (over.key_id == teams.key_id) & (over.touch_on == teams.breach_on))
        parts.append(part.select(
            cap=ibis.literal(cap.name), per=ibis.literal(cap.per.value), key_id=over.key_id,
            account_id=over.account_id, channel=ibis.literal(cap.channel.value),
            window_days=ibis.literal(cap.window_days, type="int64"), max=ibis.literal(cap.max, type="int64"),
            breach_on=over.touch_on, touches=over.touches.cast("int64"), teams=teams.teams))
    if not parts:
        return None
    return ibis.union(*parts) if len(parts) > 1 else parts[0]


def breaches(wh: Warehouse, start: dt.date, end: dt.date, caps: CapsSpec | None = None) -> pd.DataFrame:
    """Past cap breaches from ``activities`` (see :func:`breach_expr`), most touches first."""
    caps = caps or load_caps()
    expr = breach_expr(wh, start, end, caps)
    if expr is None:
        return pd.DataFrame(columns=list(BREACH_COLUMNS))
    frame = wh.execute(expr.order_by([ibis.desc("touches"), "cap", "key_id", "breach_on"]))
    frame["breach_on"] = pd.to_datetime(frame["breach_on"]).dt.date
    return frame[list(BREACH_COLUMNS)]
