"""Compliance QA per call: forbidden words said by the rep, sensitive words for review, required disclosures."""

from __future__ import annotations

import pandas as pd

from retain.conversations.tracker_spec import ComplianceSpec

COMPLIANCE_COLUMNS = [
    "conversation_id", "forbidden_hits", "sensitive_hits", "missing_disclosures", "compliant", "forbidden_quotes",
]


def compliance(hits: pd.DataFrame, conversations: pd.DataFrame, spec: ComplianceSpec) -> pd.DataFrame:
    """Per call: counts of forbidden/sensitive hits, the required disclosures not made, and ``compliant``."""
    calls = conversations[["conversation_id", "call_type"]].drop_duplicates("conversation_id").set_index(
        "conversation_id")
    out = pd.DataFrame(index=calls.index)
    forb = hits[hits["tracker"].isin(spec.forbidden) & (hits["role"] == "rep")]
    sens = hits[hits["tracker"].isin(spec.sensitive)]
    out["forbidden_hits"] = forb.groupby("conversation_id").size().reindex(out.index, fill_value=0).astype(int)
    out["sensitive_hits"] = sens.groupby("conversation_id").size().reindex(out.index, fill_value=0).astype(int)
    made = hits[hits["tracker"].isin(spec.required)].groupby("conversation_id")["tracker"].agg(set)
    applies = (calls["call_type"].isin(spec.required_call_types) if spec.required_call_types
               else pd.Series(True, index=calls.index))
    required = set(spec.required)
    missing = [
        ", ".join(sorted(required - made.get(cid, set()))) if applies[cid] else ""
        for cid in out.index
    ]
    out["missing_disclosures"] = missing
    out["compliant"] = (out["forbidden_hits"] == 0) & (out["missing_disclosures"] == "")
    quotes = forb.drop_duplicates(["conversation_id", "matched"]).groupby("conversation_id")["matched"].agg("; ".join)
    out["forbidden_quotes"] = quotes.reindex(out.index).fillna("")
    return out.reset_index()[COMPLIANCE_COLUMNS]
