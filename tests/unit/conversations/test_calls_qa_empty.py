import pandas as pd

from retain.conversations.sop import qa_scores


def test_qa_scores_survive_calls_without_compliance_rows():
    """A warehouse whose calls matched no compliance rule gives an all-null column, not a crash."""
    flow = pd.DataFrame({"conversation_id": ["c1"], "stages_done": [""], "stages_missing": [""],
                         "stages_out_of_order": [""], "sop_score": [80.0]})
    compliance = pd.DataFrame({"conversation_id": ["c2"], "forbidden_hits": [0], "missing_disclosures": [None]})
    calls = pd.DataFrame({"conversation_id": ["c1"], "member_id": ["m1"]})
    qa = qa_scores(flow, compliance, calls)
    assert qa.loc[0, "qa_score"] == 80.0 and qa.loc[0, "member_id"] == "m1"
