"""A health component with no data is drawn as missing, never as a score of 0."""

from retain.web.charts import component_bars


def test_missing_component_has_no_bar_and_says_no_data():
    fig = component_bars([{"component": "usage", "score": 62.4}, {"component": "surveys", "score": None},
                          {"component": "billing", "score": float("nan")}, {"component": "support", "score": 0.0}])
    bar = fig["data"][0]
    assert bar["x"] == [62.4, None, None, 0.0]  # a real 0 stays 0
    assert bar["text"] == ["62", "", "", "0"]
    notes = {a["y"]: a["text"] for a in fig["layout"]["annotations"]}
    assert notes == {"surveys": "no data", "billing": "no data"}
    assert component_bars([]) is None
