"""Lead recovery: rank dropped or unworked leads that deserve another call, each with its reason.

A logistic regression is trained on leads whose outcome is known (converted = 1, disqualified/dropped = 0) using
firmographics and what their calls said (pricing asked, callbacks, budget, decision maker, competitor,
objections, customer sentiment). Pool leads (dropped, or open and untouched for ``stale_days``) are scored
out-of-fold when they were in training. The score blends three parts: ``0.5 × model probability + 0.25 ×
similarity to converted leads (mean cosine of the 5 nearest) + 0.25 × intent``, where intent is what the prospect
asked for and did not get (a callback never made: 0.5; pricing asked: 0.25, twice or more: 0.5). Missed callbacks
are kept out of the model on purpose: in the history they go with lost leads because nobody called back, which is
the neglect this ranking exists to undo. Each lead gets plain reasons ("asked to be called back on
3 March in the evening; never called back", "asked about pricing twice").
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from retain.conversations.cadence import lead_touches
from retain.warehouse import Warehouse

RECOVERY_COLUMNS = ["rank", "lead_id", "company", "owner_id", "status", "score", "model_probability", "similarity",
                    "intent", "touches", "last_touch_at", "callback_due_at", "reasons"]
CALL_FEATURES = ["pricing_asks", "budget", "decision_maker", "competitor",
                 "objections", "next_steps", "customer_sentiment", "customer_questions", "rep_talk_share"]
_TWICE = {1: "once", 2: "twice", 3: "three times"}


def lead_call_features(events: pd.DataFrame, call_metrics: pd.DataFrame, touches: pd.DataFrame) -> pd.DataFrame:
    """Per lead: counts of call events and call behaviour, and whether a requested callback was missed."""
    calls = call_metrics[["conversation_id", "lead_id", "customer_sentiment", "customer_questions", "rep_talk_share"]]
    calls = calls.dropna(subset=["lead_id"])
    ev = events.merge(calls[["conversation_id", "lead_id"]], on="conversation_id")
    cust = ev[ev["role"] == "customer"]
    counts = pd.DataFrame(index=pd.Index(sorted(set(calls["lead_id"])), name="lead_id"))
    for col, event, frame in (("pricing_asks", "pricing_discussed", cust), ("callbacks", "callback_requested", cust),
                              ("budget", "budget", ev), ("decision_maker", "decision_maker", ev),
                              ("competitor", "competitor_mentioned", ev), ("objections", "objection", ev),
                              ("next_steps", "next_steps_agreed", ev)):
        counts[col] = frame[frame["event"] == event].groupby("lead_id").size().reindex(counts.index, fill_value=0)
    beh = calls.groupby("lead_id")[["customer_sentiment", "customer_questions", "rep_talk_share"]].mean()
    counts = counts.join(beh)
    cb = ev[ev["event"] == "callback_requested"].dropna(subset=["due_at"])
    last_cb = cb.sort_values("due_at").groupby("lead_id").last()[["due_at", "due_expression"]]
    counts = counts.join(last_cb)
    last_touch = touches.set_index("lead_id")["last_touch_at"]
    due = pd.to_datetime(counts["due_at"], utc=True)
    counts["callback_missed"] = (due.notna() & ~(counts.index.map(last_touch).to_series(index=counts.index) >= due)
                                 ).astype(int)
    return counts


def recover_leads(wh: Warehouse, as_of: dt.date, events: pd.DataFrame, call_metrics: pd.DataFrame, *,
                  stale_days: int = 30, top: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Ranked pool of leads worth another call (:data:`RECOVERY_COLUMNS`)."""
    touches = lead_touches(wh, as_of)
    if touches.empty:
        return pd.DataFrame(columns=RECOVERY_COLUMNS)
    # in lead order: the folds and the fit must not depend on the order an engine returns rows in
    feats = touches.sort_values("lead_id").set_index("lead_id").join(
        lead_call_features(events, call_metrics, touches))
    for col in CALL_FEATURES:
        if col not in feats:
            feats[col] = 0.0
    cutoff = pd.Timestamp(as_of, tz="UTC") + pd.Timedelta(days=1)
    last = pd.to_datetime(feats["last_touch_at"], utc=True)
    feats["days_since_touch"] = ((cutoff - last).dt.days).fillna(9999).clip(upper=9999)
    feats["age_days"] = (cutoff - pd.to_datetime(feats["created_at"], utc=True)).dt.days
    converted = feats["converted_at"].notna()
    lost = feats["status"].isin(["disqualified", "dropped"]) & ~converted
    open_ = ~converted & ~lost
    pool = (feats["status"] == "dropped") & ~converted | (open_ & (feats["days_since_touch"] >= stale_days))
    x = _design(feats)
    labelled = converted | lost
    y = converted[labelled].astype(int)
    prob = pd.Series(np.nan, index=feats.index)
    if y.nunique() == 2 and y.value_counts().min() >= 3:
        model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.5, random_state=seed))
        folds = StratifiedKFold(n_splits=min(5, int(y.value_counts().min())), shuffle=True, random_state=seed)
        prob[labelled] = cross_val_predict(model, x[labelled], y, cv=folds, method="predict_proba")[:, 1]
        model.fit(x[labelled], y)
        if (~labelled).any():
            prob[~labelled] = model.predict_proba(x[~labelled])[:, 1]
    else:
        prob[:] = converted.mean() if len(feats) else 0.0
    feats["model_probability"] = prob
    feats["similarity"] = _similarity(x, converted)
    for col in ("callbacks", "callback_missed"):
        feats[col] = feats[col].fillna(0) if col in feats else 0
    intent = (0.5 * (feats["callback_missed"] > 0) + 0.25 * (feats["pricing_asks"].fillna(0) > 0)
              + 0.25 * (feats["pricing_asks"].fillna(0) > 1))
    feats["intent"] = intent.clip(upper=1.0)
    feats["score"] = (0.5 * feats["model_probability"].fillna(0) + 0.25 * feats["similarity"].fillna(0)
                      + 0.25 * feats["intent"])
    ranked = feats[pool].rename_axis("lead_id").reset_index().sort_values(
        ["score", "lead_id"], ascending=[False, True], kind="stable").set_index("lead_id")
    if top:
        ranked = ranked.head(top)
    ranked = ranked.assign(reasons=_reasons(ranked).to_numpy(),
                           callback_due_at=pd.to_datetime(ranked["due_at"], utc=True)).reset_index()
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked[RECOVERY_COLUMNS]


def _design(feats: pd.DataFrame) -> pd.DataFrame:
    num = feats[CALL_FEATURES].astype(float).fillna(0.0)
    num["log_employees"] = np.log1p(feats["employees"].astype(float).fillna(0))
    # touches and recency are left out: converted leads keep being touched after converting (target leakage)
    cats = pd.get_dummies(feats[["source", "industry", "region"]].astype("string").fillna("?"), dtype=float)
    return pd.concat([num, cats], axis=1)


def _similarity(x: pd.DataFrame, converted: pd.Series, k: int = 5) -> pd.Series:
    """Mean cosine similarity to the ``k`` most similar converted leads (firmographic + call features)."""
    if converted.sum() == 0:
        return pd.Series(0.0, index=x.index)
    z = (x - x.mean()) / x.std(ddof=0).replace(0, 1)
    z = z.to_numpy() / np.maximum(np.linalg.norm(z.to_numpy(), axis=1, keepdims=True), 1e-9)
    won = z[converted.to_numpy()]
    sims = z @ won.T
    sims[converted.to_numpy(), :] = np.where(np.isclose(sims[converted.to_numpy(), :], 1.0), -1, sims[
        converted.to_numpy(), :])  # a converted lead is not its own neighbour
    kk = min(k, won.shape[0])
    top = np.partition(sims, -kk, axis=1)[:, -kk:]  # the kk largest per lead, in no order (a mean needs none)
    return pd.Series(np.clip(top.mean(axis=1), 0, 1), index=x.index)


def _reasons(r: pd.DataFrame) -> pd.Series:
    """One short sentence per lead, built column-wise (no row loop)."""
    due = pd.to_datetime(r["due_at"], utc=True) if "due_at" in r else pd.Series(pd.NaT, index=r.index)
    hour = due.dt.hour.fillna(10)
    part = np.select([hour < 12, hour < 17], ["in the morning", "in the afternoon"], "in the evening")
    when = "on " + due.dt.day.astype("Int64").astype("string") + " " + due.dt.month_name().astype("string") + " " + part
    callback = pd.Series(np.where((r["callbacks"] > 0) & due.notna(), "asked to be called back " + when.fillna(""), ""),
                         index=r.index)
    callback = callback + np.where((callback != "") & (r["callback_missed"] > 0), "; never called back", "")
    asks = r["pricing_asks"].fillna(0).astype(int)
    times = asks.map(_TWICE).fillna(asks.astype(str) + " times")
    parts = [
        callback,
        pd.Series(np.where(asks > 0, "asked about pricing " + times, ""), index=r.index),
        pd.Series(np.where(r["budget"] > 0, "talked about budget", ""), index=r.index),
        pd.Series(np.where(r["decision_maker"] > 0, "decision maker came up", ""), index=r.index),
        pd.Series(np.where(r["next_steps"] > 0, "next steps were discussed", ""), index=r.index),
        pd.Series(np.where(r["touches"] <= 1, "dropped after " + r["touches"].astype(int).astype(str) + " touch(es)",
                           ""), index=r.index),
        pd.Series(np.where(r["similarity"] >= 0.5, "similar to won customers (" + r["industry"].fillna("same profile")
                           .astype(str) + ")", ""), index=r.index),
    ]
    text = parts[0].astype(str)
    for piece in parts[1:]:
        piece = piece.astype(str)
        text = text + np.where((text != "") & (piece != ""), "; ", "") + piece
    return text.where(text != "", "model score")
