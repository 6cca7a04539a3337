"""Precision/recall of trackers, questions, callback times and redaction on the labelled fixtures.

Run ``python tests/unit/conversations/quality.py`` to print the figures and every miss.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from retain.conversations.questions import count_questions
from retain.conversations.redact import redact
from retain.conversations.timeexpr import resolve
from retain.conversations.tracker_spec import load_playbook
from retain.conversations.trackers import TrackerMatcher

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "conversations"


def _rows(name: str) -> list[list[str]]:
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def _pr(tp: int, fp: int, fn: int) -> dict:
    return {"precision": tp / (tp + fp) if tp + fp else 1.0, "recall": tp / (tp + fn) if tp + fn else 1.0,
            "tp": tp, "fp": fp, "fn": fn}


def tracker_quality() -> tuple[dict, list[str]]:
    rows = _rows("trackers.tsv")
    utt = pd.DataFrame({"conversation_id": "fx", "seq": range(len(rows)), "role": [r[1] for r in rows],
                        "start_seconds": 0.0, "end_seconds": 5.0, "text": [r[0] for r in rows]})
    pb = load_playbook()
    hits = TrackerMatcher(pb.trackers).hits(utt)
    found = hits.groupby("seq")["tracker"].agg(set).to_dict()
    tp = fp = fn = 0
    misses = []
    for i, r in enumerate(rows):
        want = {t for t in (r[2] if len(r) > 2 else "").split(",") if t}
        got = found.get(i, set())
        tp, fp, fn = tp + len(want & got), fp + len(got - want), fn + len(want - got)
        if want != got:
            misses.append(f"{r[0]!r}: expected {sorted(want)}, got {sorted(got)}")
    return _pr(tp, fp, fn), misses


def question_quality() -> tuple[dict, list[str]]:
    tp = fp = fn = 0
    misses = []
    for text, label in _rows("questions.tsv"):
        got, want = count_questions(text) > 0, label == "1"
        tp, fp, fn = tp + (got and want), fp + (got and not want), fn + (want and not got)
        if got != want:
            misses.append(f"{text!r}: expected {want}, got {got}")
    return _pr(tp, fp, fn), misses


def callback_quality() -> tuple[dict, list[str]]:
    """A resolution counts when it equals the labelled time; a time where none is labelled is a false positive."""
    tp = fp = fn = 0
    misses = []
    for row in _rows("callbacks.tsv"):
        started, text, want = row[0], row[1], (row[2] if len(row) > 2 else "").strip()
        got = resolve(text, dt.datetime.fromisoformat(started).replace(tzinfo=dt.UTC))
        got_s = got.due_at.strftime("%Y-%m-%d %H:%M") if got else ""
        if want and got_s == want:
            tp += 1
        else:
            fp += bool(got_s)
            fn += bool(want)
            if got_s != want:
                misses.append(f"{text!r}: expected {want or 'none'}, got {got_s or 'none'}")
    return _pr(tp, fp, fn), misses


def redaction_quality() -> tuple[dict, list[str]]:
    """Counted per PII item: a label in the expected text is a positive."""
    tp = fp = fn = 0
    misses = []
    labels = ("[PHONE]", "[EMAIL]", "[ID]", "[CARD]")
    for text, want in _rows("redaction.tsv"):
        got = redact(text)
        for label in labels:
            w, g = want.count(label), got.count(label)
            tp, fp, fn = tp + min(w, g), fp + max(g - w, 0), fn + max(w - g, 0)
        if got != want:
            misses.append(f"{text!r}: expected {want!r}, got {got!r}")
    return _pr(tp, fp, fn), misses


MEASURES = {"trackers": tracker_quality, "questions": question_quality, "callback times": callback_quality,
            "redaction": redaction_quality}

if __name__ == "__main__":
    for name, measure in MEASURES.items():
        figures, misses = measure()
        print(f"{name:15s} precision {figures['precision']:.3f}  recall {figures['recall']:.3f}  "
              f"(tp {figures['tp']}, fp {figures['fp']}, fn {figures['fn']})")
        for miss in misses:
            print("   miss:", miss)


# -- the thresholds (figures: `python tests/unit/conversations/test_calls_quality.py`) ----------------------

import pytest  # noqa: E402


@pytest.mark.parametrize("name", sorted(MEASURES))
def test_precision_and_recall_at_least_0_9(name):
    figures, misses = MEASURES[name]()
    assert figures["precision"] >= 0.9, misses
    assert figures["recall"] >= 0.9, misses
    assert figures["tp"] >= 15  # the fixture is not trivially small
