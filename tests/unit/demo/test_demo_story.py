"""The causal story of docs/demo.md, measured on the generated data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from demo_checks import auc, next_churn, panel, signals, spells


def test_churn_rate_falls_with_products_held(story):
    _, t = story
    p = panel(t)
    rate = p.groupby(p.products.clip(upper=3)).churned.mean()
    assert list(rate.index) == [1, 2, 3]
    assert rate[1] > rate[2] > rate[3]
    assert 0.05 < p.churned.mean() < 0.3  # a plausible 180-day logo churn


def test_detractor_score_sharply_raises_churn_within_90_days(story):
    _, t = story
    nps = t["survey_responses"].query("survey_type == 'nps'")
    day = nps.responded_at.dt.tz_localize(None).to_numpy()
    c = next_churn(t, nps.account_id, day)
    within = (c > day) & (c <= day + np.timedelta64(90, "D"))
    low = (nps.score <= 4).to_numpy()
    assert low.sum() > 50
    assert within[low].mean() > 3 * within.mean()


def test_no_single_signal_predicts_churn_perfectly(story):
    _, t = story
    s = signals(t, panel(t))
    label = s.churned.to_numpy()
    aucs = {}
    for col, sign in (("usage_per_licence", -1), ("tickets", 1), ("last_nps", -1), ("late_invoices", 1)):
        m = s[col].notna().to_numpy()
        aucs[col] = auc(sign * s[col].to_numpy()[m], label[m])
    assert all(a < 0.95 for a in aucs.values()), aucs
    assert aucs["usage_per_licence"] > 0.62, aucs  # informative, though
    assert aucs["last_nps"] > 0.55, aucs


def test_hidden_health_drives_usage(story):
    data, t = story
    h = data.truth["health_weekly"]
    mean_h = h.groupby("account_id").health.mean()
    use = t["usage"].query("feature == 'dashboards'").groupby("account_id").active_users.mean()
    seats = t["subscriptions"].groupby("account_id").quantity.max()
    ratio = (use / seats).dropna()
    assert np.corrcoef(mean_h.reindex(ratio.index), ratio)[0, 1] > 0.4


def test_referrals_come_mostly_from_promoters(story):
    _, t = story
    leads = t["leads"].dropna(subset=["referring_account_id"])
    nps = t["survey_responses"].query("survey_type == 'nps' and score >= 9")
    m = leads[["lead_id", "referring_account_id", "created_at"]].merge(
        nps[["account_id", "responded_at"]], left_on="referring_account_id", right_on="account_id", how="left")
    recent = (m.responded_at < m.created_at) & (m.responded_at >= m.created_at - pd.Timedelta(days=400))
    promoter_share = recent.groupby(m.lead_id).any().mean()
    assert len(leads) > 100 and promoter_share > 0.5


def test_some_leads_dropped_after_one_call_asking_for_a_callback(story):
    _, t = story
    conv, utt, leads = t["conversations"], t["utterances"], t["leads"]
    callback = utt[utt.text.str.contains("call me|打给我|联系我|打过来|给我打电话", regex=True)]
    asked = conv[conv.conversation_id.isin(callback.conversation_id)]
    dropped = leads[leads.status == "dropped"].lead_id
    calls_per_lead = conv.groupby("lead_id").size()
    one_call = asked[asked.lead_id.isin(dropped) & (calls_per_lead.reindex(asked.lead_id).to_numpy() == 1)]
    assert len(one_call) > 30
    assert (one_call.language == "zh").any() and (one_call.language == "en").any()
    acts = t["activities"]
    later = acts.merge(one_call[["lead_id", "started_at"]], on="lead_id")
    assert not (later.occurred_at > later.started_at + pd.Timedelta(minutes=1)).any()


def test_calls_in_english_and_chinese_reflect_the_deal(story):
    _, t = story
    conv, utt, opps = t["conversations"], t["utterances"], t["opportunities"]
    assert 0.2 < (conv.language == "zh").mean() < 0.4
    assert set(utt.role) == {"rep", "customer"}
    assert (utt.end_seconds > utt.start_seconds).all()
    text = utt.groupby("conversation_id").text.apply(" ".join)
    deal = conv.dropna(subset=["opportunity_id"]).merge(opps[["opportunity_id", "is_won", "competitor"]])
    named = deal.dropna(subset=["competitor"])
    said = [c in text[i] for i, c in zip(named.conversation_id, named.competitor, strict=True)]
    assert np.mean(said) > 0.6
    # winners: customers talk more and reps ask more questions
    utt = utt.assign(d=utt.end_seconds - utt.start_seconds, q=utt.text.str.contains(r"\?|？") & (utt.role == "rep"))
    rep_share = utt[utt.role == "rep"].groupby("conversation_id").d.sum() / utt.groupby("conversation_id").d.sum()
    questions = utt.groupby("conversation_id").q.sum()
    closed = deal.dropna(subset=["is_won"]).set_index("conversation_id").is_won.astype(bool)
    assert rep_share.reindex(closed.index)[closed].mean() < rep_share.reindex(closed.index)[~closed].mean()
    assert questions.reindex(closed.index)[closed].mean() > questions.reindex(closed.index)[~closed].mean()
    assert text.str.contains(r"@|\+1 |\+86 ", regex=True).mean() > 0.1  # PII for redaction


def test_some_manual_tags_contradict_the_calls(story):
    data, t = story
    truth = data.truth["tags"]
    share = truth.contradicts_calls.mean()
    assert 0.05 < share < 0.35
    assert set(t["tags"].tag) == {"budget", "interested_product"}


def test_callbacks_resolve_to_the_time_asked_and_only_converted_leads_got_them(story):
    data, t = story
    cb = data.truth["callbacks"]
    assert set(cb.language) == {"en", "zh"} and cb.honoured.any() and (~cb.honoured).any()
    conv = t["conversations"]
    follow = conv.merge(cb[cb.honoured][["lead_id", "due_at"]], on="lead_id")
    kept = follow[(follow.started_at - follow.due_at).abs() <= pd.Timedelta(minutes=30)]
    assert kept.lead_id.nunique() == cb.honoured.sum()
    weekday = cb.due_at.dt.day_of_week
    assert (weekday[cb.requested == "next Monday morning"] == 0).all()
    assert (weekday[cb.requested == "Thursday afternoon"] == 3).all()
    assert (cb.due_at.dt.hour[cb.requested == "tomorrow evening"] == 19).all()


def test_some_churned_accounts_come_back(story):
    """Win-backs: ~10 % of churns with a year to return come back 2-12 months later, on a smaller plan."""
    data, t = story
    sp = spells(t)
    ends = sp.dropna(subset=["churned_on"])
    back = ends.merge(sp.assign(spell_no=sp.spell_no - 1)[["account_id", "spell_no", "started_on"]],
                      on=["account_id", "spell_no"], how="left", suffixes=("", "_again"))
    gap = (back.started_on_again - back.churned_on).dt.days
    assert gap.dropna().between(61, 366).all()
    old = back[back.churned_on <= back.churned_on.max() - pd.Timedelta(days=365)]
    assert 0.05 < old.started_on_again.notna().mean() < 0.2
    truth = data.truth["spells"].astype({"started_on": "datetime64[ns]", "churned_on": "datetime64[ns]"})
    pd.testing.assert_frame_equal(sp, truth[sp.columns], check_dtype=False)  # the hidden spells are the visible ones
    # the returning subscription: a new row, fewer licences than the last one before churn
    subs = t["subscriptions"].assign(started_on=lambda f: pd.to_datetime(f.started_on).astype("datetime64[ns]"))
    core = subs[subs.product_id.isin(["p_starter", "p_professional", "p_enterprise"])]
    returned = back.dropna(subset=["started_on_again"])
    first = core.merge(returned[["account_id", "started_on_again"]], left_on=["account_id", "started_on"],
                       right_on=["account_id", "started_on_again"])
    before = core[core.status == "cancelled"].sort_values("started_on").merge(
        returned[["account_id", "churned_on"]], on="account_id")
    before = before[pd.to_datetime(before.ended_on) == before.churned_on].set_index("account_id").quantity
    assert len(first) == len(returned)
    assert (first.set_index("account_id").quantity < before.reindex(first.account_id).to_numpy()).mean() > 0.8
    # more likely after a price or budget cancellation than after a competitor or no value
    reason = core[core.status == "cancelled"].assign(churned_on=lambda f: pd.to_datetime(f.ended_on))
    old = old.merge(reason[["account_id", "churned_on", "cancel_reason"]].drop_duplicates(["account_id", "churned_on"]),
                    on=["account_id", "churned_on"])
    rate = old.started_on_again.notna().groupby(old.cancel_reason.isin(["price", "budget"])).mean()
    assert rate[True] > 2 * rate[False]
    # a win-back new-business opportunity without a lead
    opps = t["opportunities"]
    wins = opps[opps.name.str.endswith("win-back")]
    assert len(wins) == len(returned) and (wins.opportunity_type == "new_business").all()
    assert wins.lead_id.isna().all() and wins.is_won.astype(bool).all()


def test_most_but_not_all_calls_disclose_the_recording(story):
    """The default playbook's required disclosure tracker fires in most calls, in English and Chinese."""
    from retain.conversations.compliance import compliance
    from retain.conversations.tracker_spec import load_playbook
    from retain.conversations.trackers import TrackerMatcher

    data, t = story
    pb = load_playbook()
    required = [pb.by_name[name] for name in pb.compliance.required]
    assert [r.name for r in required] == ["recording_disclosure"]
    conv, utt = t["conversations"], t["utterances"]
    hits = TrackerMatcher(required).hits(utt)
    qa = compliance(hits, conv, pb.compliance).merge(conv[["conversation_id", "language", "member_id"]])
    made = qa.missing_disclosures == ""
    assert 0.6 < made.mean() < 0.9, made.mean()
    by_language = made.groupby(qa.language).mean()
    assert by_language["en"] > 0.5 and by_language["zh"] > 0.5, by_language
    # weaker reps skip it more often
    skill = data.truth["team_skill"].set_index("member_id").skill
    per_rep = made.groupby(qa.member_id).mean()
    assert np.corrcoef(skill.reindex(per_rep.index), per_rep)[0, 1] > 0.3
