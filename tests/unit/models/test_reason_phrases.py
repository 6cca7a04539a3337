"""Reason codes read as sentences with units and a comparison, and every model feature has a template."""

import pytest

from retain.models.features import CATEGORICAL, FEATURES
from retain.models.reasons import TEMPLATES, Direction, features_without_template, phrase, reason


def test_every_feature_the_models_emit_has_a_template():
    assert features_without_template() == []
    assert set(FEATURES) | set(CATEGORICAL) <= set(TEMPLATES) | {"segment"}


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_each_template_reads_without_raw_values(feature):
    text = phrase(feature, 3.0, {"licences": 10.0}, peer=2.0)
    assert "similar accounts" in text and "{" not in text and "3.0)" not in text
    assert phrase(feature, float("nan")).startswith("no ")


def test_phrases_with_units_and_comparison():
    assert phrase("utilisation", 0.06, {"licences": 704.0}, peer=0.71) == \
        "licences used: 6 % of 704 seats; similar accounts: 71 %"
    assert phrase("tenure_days", 870.0) == "customer for 2.4 years"
    assert phrase("days_since_activity", 35.0, peer=12.0) == "last contact 35 days ago; similar accounts: 12 days"
    assert phrase("mrr_change_90d", -0.0001) == "MRR change over 90 days: +0 %"  # never "-0"
    assert phrase("segment", "smb") == "segment: smb"
    assert phrase("days_to_renewal", None) == "no renewal date on file"
    assert phrase("licences", None) == "no data on licences"
    with pytest.raises(KeyError, match="no reason template"):
        phrase("no_such_feature", 1.0)


def test_reason_carries_its_direction():
    assert reason("open_tickets", 0.3, 4.0)["direction"] == Direction.RAISES == "raises"
    protective = reason("tenure_days", -0.2, 900.0)
    assert protective["direction"] == "lowers" and protective["phrase"] == "customer for 2.5 years"
