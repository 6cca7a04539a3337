"""Where health and the churn model disagree by much, each side's reasons (issue 11, "Readable and honest")."""

from __future__ import annotations

from retain.state.insight import disagreement
from retain.state.queries import MIXED_CURRENCIES, one_currency

COMPONENTS = [{"component": "usage", "score": 92.0}, {"component": "support", "score": 35.0},
              {"component": "surveys", "score": None}, {"component": "relationship", "score": 71.0}]
REASONS = ["champion left", {"phrase": "licences used: 6 % of 704 seats", "direction": "raises"},
           {"phrase": "long-standing customer: 870 days", "direction": "lowers"}]


def account(grade: str | None, churn: float | None, **extra) -> dict:
    return {"health_grade": grade, "health_total": 80.0, "churn_probability": churn, "components": COMPONENTS,
            "reasons": REASONS} | extra


def test_green_health_with_high_churn_gives_the_strongest_components_and_the_risks():
    d = disagreement(account("green", 0.64), 90)
    assert d.health == "green health (80.0)" and d.model == "64% churn within 90 days"
    assert d.health_reasons == ["usage 92/100", "relationship 71/100", "support 35/100"]  # no data: not a reason
    assert d.model_reasons == [REASONS[1]]


def test_red_health_with_low_churn_gives_the_cap_weakest_components_and_what_protects():
    d = disagreement(account("red", 0.05, score_note="capped at 40: champion left", health_total=38.0), 90)
    assert d.health == "red health (38.0)"
    assert d.health_reasons == ["capped at 40: champion left", "support 35/100", "relationship 71/100",
                                "usage 92/100"]
    assert d.model_reasons == [REASONS[2]]


def test_no_disagreement_when_they_agree_or_a_side_is_missing():
    assert disagreement(account("red", 0.2), 90) is None  # the model's watch band: not "by much"
    assert disagreement(account("green", 0.49), 90) is None
    assert disagreement(account("yellow", 0.9), 90) is None
    assert disagreement(account(None, 0.9), 90) is None and disagreement(account("red", None), 90) is None


def test_a_total_over_several_currencies_says_so():
    assert one_currency("USD", "USD") == "USD" and one_currency(None, None) is None
    assert one_currency("EUR", "USD") == MIXED_CURRENCIES
