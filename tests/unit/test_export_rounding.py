"""CSV exports round numbers to what they mean and keep them numeric."""

import pandas as pd

from retain.exports import csv_text, decimals, safe_frame


def test_decimals_by_meaning():
    assert [decimals(c) for c in ("arr", "clv", "mrr_lost", "churn_probability", "health_total", "score",
                                  "health_change", "nrr")] == [2, 2, 4, 4, 1, 1, 1, 4]
    assert decimals("expansion_mrr") == 2


def test_csv_text_rounds_floats_and_leaves_other_cells():
    text = csv_text([{"name": "A", "arr": 34.38896426956128, "churn_probability": 0.123456789,
                      "health_total": 55.55, "health_change": -0.04, "products_held": 3}],
                    ["name", "arr", "churn_probability", "health_total", "health_change", "products_held"])
    assert text.splitlines()[1] == "A,34.39,0.1235,55.5,0.0,3"


def test_safe_frame_rounds_and_keeps_numbers_numeric():
    out = safe_frame(pd.DataFrame({"clv": [34.38896426956128], "p_alive": [0.987654], "total": [-0.04],
                                   "n": [2]}))
    assert out.to_dict("records") == [{"clv": 34.39, "p_alive": 0.9877, "total": 0.0, "n": 2}]
    assert pd.api.types.is_float_dtype(out["clv"]) and str(out["total"].iloc[0]) == "0.0"
