"""Survey analytics by hand: NPS with its interval, CSAT as % satisfied, comment themes in English and Chinese;
the wording has the same keys in both languages; `retain validate` recognises a programmes file."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from retain.configs import detect_kind, validate_config
from retain.models.survey_insight import best_referral_delay
from retain.surveys import texts
from retain.surveys.actions import Category, category
from retain.surveys.analytics import score_with_interval, themes
from retain.surveys.spec import DEFAULT_PROGRAMMES, Language


def test_nps_and_csat_with_intervals():
    agg = pd.DataFrame({"survey_type": ["nps", "csat"], "period_start": pd.to_datetime(["2024-05-01", "2024-05-01"]),
                        "responses": [10, 4], "promoters": [5, 3], "detractors": [2, 1], "mean_score": [7.5, 3.9]})
    out = score_with_interval(agg)
    nps = out.iloc[0]
    half = 1.96 * math.sqrt((0.5 + 0.2 - 0.3**2) / 10)  # by hand: p=.5, d=.2
    assert nps.score == pytest.approx(30.0) and nps.period == "2024-05"
    assert (nps.score_lo, nps.score_hi) == (pytest.approx(100 * (0.3 - half)), pytest.approx(100 * (0.3 + half)))
    csat = out.iloc[1]
    assert csat.score == pytest.approx(75.0) and csat.score_lo < 75 < csat.score_hi <= 100


@pytest.mark.parametrize(("kind", "score", "expected"), [
    ("nps", 6, Category.DETRACTOR), ("nps", 7, Category.PASSIVE), ("nps", 9, Category.PROMOTER),
    ("csat", 2, Category.DETRACTOR), ("csat", 3, Category.PASSIVE), ("csat", 4, Category.PROMOTER),
    ("ces", 3, Category.DETRACTOR), ("ces", 5, Category.PASSIVE), ("ces", 6, Category.PROMOTER)])
def test_categories_per_scale(kind, score, expected):
    assert category(kind, score) is expected


def test_themes_recur_per_language_with_sentiment():
    comments = pd.DataFrame({"survey_type": ["nps"] * 6, "score": [2, 3, 9, 10, 4, 8], "comment": [
        "Pricing is too high", "the prices keep rising", "Great support team", "support was great",
        "系统太慢，客服回复慢", "客服很好"]})
    out = themes(comments)
    got = {(r.language, r.theme): r for r in out.itertuples()}
    assert set(got) == {("en", "great"), ("en", "support"), ("en", "pricing"), ("zh", "客服")}
    assert got[("en", "support")].mentions == 2 and got[("en", "support")].detractor_share == 0
    assert got[("en", "pricing")].detractor_share == 1 and got[("en", "great")].sentiment > 0.5
    assert got[("zh", "客服")].detractor_share == 0.5


def test_referral_delay_is_the_start_of_the_busiest_band():
    timing = pd.DataFrame({"days_after_survey": ["0-30 days", "31-60 days", "61-90 days"], "referrals": [1, 4, 2],
                           "share_of_promoters": [0.1, 0.4, 0.2]})
    assert best_referral_delay(timing) == 31
    assert best_referral_delay(timing.assign(referrals=0)) == 0


def test_both_languages_have_every_word():
    assert set(texts.WORDS[Language.EN]) == set(texts.WORDS[Language.ZH])
    assert texts.language("zh-CN") is Language.ZH and texts.language(None) is Language.EN
    assert texts.language("fr") is Language.EN


def test_validate_recognises_programmes(tmp_path):
    assert detect_kind(DEFAULT_PROGRAMMES) == "survey_programmes" and validate_config(DEFAULT_PROGRAMMES) == []
    bad = tmp_path / "p.yaml"
    bad.write_text("version: 1\nprogrammes:\n  - {name: a1, survey: nps, trigger: {kind: periodic}}\n"
                   "  - {name: a1, survey: ces, trigger: {kind: qbr_held}}\n")
    issues = validate_config(bad)
    assert [i.key for i in issues] == ["programmes.0.trigger"] and "every_months" in issues[0].message
