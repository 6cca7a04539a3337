"""Per-utterance text features are computed once per distinct text (the calls section's speed-up) and are exactly
what computing them for every utterance gives, in every row, whatever the order and repetition."""

from __future__ import annotations

import numpy as np
import pandas as pd

from retain.conversations import metrics
from retain.conversations.questions import count_questions
from retain.conversations.sentiment import sentiment_scores
from retain.conversations.text import word_count

TEXTS = ["Yes.", "Could you send the pricing?", "这个价格太贵了吗？", "", "Great, thanks a lot!", "Yes.",
         "We are not happy with the support.", "Okay.", "Could you send the pricing?", None, "Okay."]


def utterances(n: int = 400, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    texts = [TEXTS[i] for i in rng.integers(0, len(TEXTS), n)]
    return pd.DataFrame({"conversation_id": [f"c{i % 17}" for i in range(n)], "seq": np.arange(n) // 17,
                         "speaker": "x", "role": rng.choice(["rep", "customer"], n),
                         "start_seconds": np.arange(n, dtype=float), "end_seconds": np.arange(n) + 0.5,
                         "text": texts}).sample(frac=1.0, random_state=seed)  # shuffled: the function sorts


def test_distinct_text_features_equal_per_utterance_features(monkeypatch):
    u = utterances()
    calls = []
    real = metrics.sentiment_scores
    monkeypatch.setattr(metrics, "sentiment_scores", lambda texts: calls.append(len(texts)) or real(texts))
    got = metrics.utterance_features(u)
    texts = got["text"].fillna("").astype(str).tolist()
    assert calls == [len(set(texts))] and calls[0] < len(u) / 10  # once per distinct text
    assert got["words"].tolist() == [word_count(t) for t in texts]
    assert got["questions"].tolist() == [count_questions(t) for t in texts]
    np.testing.assert_allclose(got["sentiment"].to_numpy(), sentiment_scores(texts))
    assert (got["sentiment"] < 0).any() and (got["sentiment"] > 0).any()  # the texts carry both signs
    assert got["questions"].max() >= 1 and got.loc[got["text"].isna(), "words"].eq(0).all()


def test_no_utterance_at_all():
    empty = utterances().head(0)
    got = metrics.utterance_features(empty)
    assert got.empty and {"words", "questions", "sentiment"} <= set(got.columns)
