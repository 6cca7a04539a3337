"""CRM-tag correction: compare manual tags with what the calls say; suggest corrections and missing tags.

Rules (customer side, English and Chinese) infer ``budget`` (none / yes), ``decision_maker`` (yes / no),
``competitor`` (which) and ``interested_product`` (a product named on the call, by either side).
Each inference is compared
with the tag on the call's lead (or account): a different value is a ``correction``, no tag is ``missing``.
Every suggestion quotes the words and the call time; accepting one writes a tag with source ``inferred``.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd

from retain.conversations.tracker_spec import TrackerSpec
from retain.conversations.trackers import TrackerMatcher
from retain.errors import IngestError, NotFoundError
from retain.ingest import ingest_frames
from retain.warehouse import Warehouse

SUGGESTION_COLUMNS = ["suggestion_id", "entity_type", "entity_id", "tag", "current_value", "suggested_value", "kind",
                      "evidence", "conversation_id", "said_at"]

TAG_RULES: tuple[tuple[str, str, str], ...] = (
    ("budget", "none", r"\bno budget|(?:don't|do not|didn't) have (?:the |a |any )?budget|budget (?:is|was|got) "
                       r"(?:cut|frozen|gone|spent)|can't afford|(?:have|need) to find (?:the )?budget|"
                       r"没有?.{0,6}预算|预算(?:还)?(?:不够|有限|紧张|被砍)"),
    ("budget", "yes", r"(?:we|i) (?:have|'ve got|got) (?:a |the |some )?budget|budget (?:is |was |has been )?"
                      r"(?:approved|allocated|set aside|signed off)|we budgeted|(?<![没无])有预算|"
                      r"预算(?:已经)?批(?:了|下来)|预算(?:很)?充足|预算没问题"),
    ("decision_maker", "yes", r"i(?:'m| am) the decision maker|i make the (?:call|decision)|i sign off|it's my call|"
                              r"i decide|我说了算|我来拍板|我拍板|我来决定|我就是负责人|我做决定"),
    ("decision_maker", "no", r"(?:check|talk|speak|run it by) (?:with )?my (?:boss|manager|ceo|cfo|team|director)|"
                             r"not my decision|need (?:approval|sign-off|sign off) from|\b(?!i\b)\w+ signs off|"
                             r"拍板的是|问(?:一下|问)?(?:领导|老板)|"
                             r"领导(?:来)?决定|老板(?:来)?决定|我做不了主|需要(?:领导)?审批|不是我(?:来)?决定"),
)


def _rule_trackers(product_names: dict[str, str]) -> list[TrackerSpec]:
    specs = [TrackerSpec(name=f"tag.{tag}.{value}", kind="regex", pattern=pattern, speaker="customer")
             for tag, value, pattern in TAG_RULES]
    for pid, name in product_names.items():
        specs.append(TrackerSpec(name=f"tag.interested_product.{pid}", keywords=(name,), word_forms=False))
    return specs


def inferred_tags(utterances: pd.DataFrame, conversations: pd.DataFrame, events: pd.DataFrame,
                  product_names: dict[str, str] | None = None) -> pd.DataFrame:
    """What the calls say, latest call first: entity, tag, value, evidence, call time."""
    hits = TrackerMatcher(_rule_trackers(product_names or {})).hits(utterances)
    parts = hits["tracker"].str.split(".", n=2, expand=True) if len(hits) else None
    rows = pd.DataFrame({
        "conversation_id": hits["conversation_id"], "seq": hits["seq"], "hit_seconds": hits["hit_seconds"],
        "tag": parts[1] if parts is not None else pd.Series(dtype=str),
        "value": parts[2] if parts is not None else pd.Series(dtype=str),
    })
    comp = events[(events["event"] == "competitor_mentioned") & (events["role"] == "customer")]
    rows = pd.concat([rows, pd.DataFrame({"conversation_id": comp["conversation_id"], "seq": comp["seq"],
                                          "hit_seconds": comp["hit_seconds"], "tag": "competitor",
                                          "value": comp["detail"]})], ignore_index=True)
    if rows.empty:
        return pd.DataFrame(columns=["entity_type", "entity_id", "tag", "value", "evidence", "conversation_id",
                                     "said_at"])
    conv = conversations.set_index("conversation_id")
    rows["entity_type"] = rows["conversation_id"].map(conv["lead_id"]).notna().map({True: "lead", False: "account"})
    rows["entity_id"] = rows["conversation_id"].map(conv["lead_id"]).fillna(rows["conversation_id"].map(
        conv["account_id"]))
    rows = rows.dropna(subset=["entity_id"])
    started = pd.to_datetime(rows["conversation_id"].map(conv["started_at"]), utc=True)
    rows["said_at"] = started + pd.to_timedelta(rows["hit_seconds"], unit="s")
    text = utterances.set_index(["conversation_id", "seq"])["text"]
    quote = text.reindex(pd.MultiIndex.from_frame(rows[["conversation_id", "seq"]])).to_numpy()
    rows["evidence"] = ('"' + pd.Series(quote, index=rows.index).astype(str).str.slice(0, 200) + '" (call '
                        + rows["conversation_id"].astype(str) + ", " + rows["said_at"].dt.strftime("%Y-%m-%d %H:%M")
                        + ")")
    latest = rows.sort_values("said_at").drop_duplicates(["entity_type", "entity_id", "tag"], keep="last")
    return latest[["entity_type", "entity_id", "tag", "value", "evidence", "conversation_id", "said_at"]]


def suggest_tags(inferred: pd.DataFrame, tags: pd.DataFrame) -> pd.DataFrame:
    """Corrections (a tag that calls contradict) and missing tags (:data:`SUGGESTION_COLUMNS`)."""
    current = tags.sort_values("tagged_at").drop_duplicates(["entity_type", "entity_id", "tag"], keep="last")
    cur = current[["entity_type", "entity_id", "tag", "value"]].rename(columns={"value": "current_value"})
    s = inferred.merge(cur, on=["entity_type", "entity_id", "tag"], how="left")
    s["current_value"] = s["current_value"].astype("string")
    s = s[s["current_value"].isna() | (s["current_value"].str.casefold() != s["value"].astype(str).str.casefold())]
    s = s.rename(columns={"value": "suggested_value"})
    s["kind"] = s["current_value"].isna().map({True: "missing", False: "correction"})
    key = s["entity_type"] + "|" + s["entity_id"].astype(str) + "|" + s["tag"] + "|" + s["suggested_value"].astype(str)
    s["suggestion_id"] = [hashlib.sha1(k.encode()).hexdigest()[:10] for k in key]
    return s.sort_values(["kind", "said_at"], ascending=[True, False], ignore_index=True)[SUGGESTION_COLUMNS]


def tag_suggestions(wh: Warehouse, as_of: dt.date, utterances: pd.DataFrame, conversations: pd.DataFrame,
                    events: pd.DataFrame) -> pd.DataFrame:
    products = wh.execute(wh.as_of("products", as_of).select("product_id", "name"))
    names = dict(zip(products["product_id"], products["name"], strict=True))
    tags = wh.execute(wh.as_of("tags", as_of).select("entity_type", "entity_id", "tag", "value", "tagged_at"))
    return suggest_tags(inferred_tags(utterances, conversations, events, names), tags)


def accept_suggestion(wh: Warehouse, suggestion_id: str, *, member_id: str | None = None,
                      now: dt.datetime | None = None) -> pd.DataFrame:
    """Write the suggested tag (source ``inferred``, with its evidence); returns the row written."""
    stored = wh.execute(wh.raw_result("tag_suggestions"))
    found = stored[stored["suggestion_id"] == suggestion_id]
    if found.empty:
        raise NotFoundError(f"no tag suggestion '{suggestion_id}'", hint="run `retain tags suggest` to list them")
    s = found.sort_values("as_of").iloc[-1]
    row = pd.DataFrame([{
        "entity_type": s["entity_type"], "entity_id": s["entity_id"], "tag": s["tag"],
        "tagged_at": pd.Timestamp(now or dt.datetime.now(dt.UTC)), "value": s["suggested_value"],
        "source": "inferred", "evidence": s["evidence"], "member_id": member_id,
    }])
    write_tags(wh, row)
    return row


def write_tags(wh: Warehouse, rows: pd.DataFrame) -> None:
    """Upsert tags through ``retain.ingest.ingest_frames`` (strict: all or nothing)."""
    report = ingest_frames(wh, {"tags": rows}, source="retain tags suggest --accept", strict=True)
    if not report.committed or report.quarantined:
        raise IngestError("the tag could not be written", hint=str(report.errors.head(5).to_dict("records")))
