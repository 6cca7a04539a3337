"""Properties of ``act`` over random histories of signals: a second run on a day changes nothing, and at every
moment an account holds at most one live CTA per (type, reason), which is open exactly while its signal fires
(or is snoozed)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from tests.unit.action.act_company import DAY, company, health, rules_file

from retain.action import act, load_rules
from retain.action.lifecycle import snooze
from retain.state.actions import Cta, CtaStatus
from retain.state.db import make_engine, session_factory, upgrade

ACCOUNTS = ("a1", "a2", "a3", "a5")
RULES = """\
- {name: critical, type: risk, reason: Critical factor, trigger: {kind: critical_factor}, owner: csm}
- {name: renewal, type: risk, reason: Renewal at risk, trigger: {kind: renewal_due, within_days: 365, health_below: 50}}
- {name: grade, type: risk, reason: Critical factor, trigger: {kind: health_grade_drop, lookback_days: 7}}
"""
# "grade" shares its type and reason with "critical": one live CTA for both (dedupe across rules)
# a step: for each account (total, critical factor?), and whether to snooze the first open CTA
step = st.tuples(st.lists(st.tuples(st.sampled_from([20.0, 45.0, 60.0, 85.0]), st.booleans()),
                          min_size=len(ACCOUNTS), max_size=len(ACCOUNTS)), st.booleans())


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture],
          phases=(Phase.explicit, Phase.reuse, Phase.generate))  # shrinking a DuckDB-backed case takes minutes
@given(steps=st.lists(step, min_size=1, max_size=4))
def test_act_is_idempotent_and_never_duplicates(steps, tmp_path_factory):
    folder = Path(tmp_path_factory.mktemp("rules"))
    config = load_rules(rules_file(folder, RULES))
    wh = company()
    engine = make_engine("sqlite://")
    upgrade(engine)
    with session_factory(engine)() as db:
        for i, (signals, snooze_one) in enumerate(steps):
            day = DAY + dt.timedelta(days=7 * i)
            health(wh, day, {a: (t, "red" if t < 40 else "yellow" if t < 70 else "green",
                                 "champion_left" if c else None) for a, (t, c) in zip(ACCOUNTS, signals, strict=True)})
            act(wh, db, day, config)
            assert act(wh, db, day, config).changed == 0  # the second run on a day changes nothing
            live = list(db.scalars(select(Cta).where(Cta.open_key.is_not(None))))
            keys = [(c.account_id, c.type, c.reason) for c in live]
            assert len(keys) == len(set(keys))  # never two live CTAs with the same account, type and reason
            assert all(c.status in (CtaStatus.OPEN, CtaStatus.SNOOZED) for c in live)
            critical = {a for a, (_, c) in zip(ACCOUNTS, signals, strict=True) if c}
            assert critical <= {c.account_id for c in live if c.reason == "Critical factor"}
            low = {a for a, (t, _) in zip(ACCOUNTS, signals, strict=True) if t < 50}
            assert {c.account_id for c in live if c.rule == "renewal"} == low  # live exactly while it fires
            if snooze_one and live and live[0].status == CtaStatus.OPEN:
                snooze(db, live[0].id, day + dt.timedelta(days=10), "busy", "prop", day=day)
    engine.dispose()
