import numpy as np
import pandas as pd
import pytest

from retain.conversations.tracker_spec import PlaybookSpec, TrackerSpec, load_playbook
from retain.conversations.trackers import TrackerMatcher, naive_hits, normalize_texts, required_literals
from retain.errors import ConfigError

TEXTS = [
    "What's the PRICE? Prices went up, pricing is priced", "我们想知道价格，多少钱？",
    "We use Salesforce and hubspot. salesforces", "20% off today, 15 % discount", "no discount but 10% off",
    "budget needs to approve by the companies", "Ｐｒｉｃｅ list", "the prick", "prices2 price2", "ﬁne price",
    "哈哈哈哈", "", "next steps: next step, nextsteps",
]
SPECS = [
    TrackerSpec(name="pricing", keywords=("price", "cost", "价格", "多少钱", "next steps", "company")),
    TrackerSpec(name="comp", keywords=("salesforce", "HubSpot"), word_forms=False),
    TrackerSpec(name="both", keywords=("budget", "approve"), match="all"),
    TrackerSpec(name="two_of", keywords=("budget", "approve", "price"), match="n_of", n=2),
    TrackerSpec(name="disc", kind="regex", pattern=r"\b\d+ ?% (?:off|discount)", exclude="no discount"),
    TrackerSpec(name="q", keywords=("price",), questions_only=True, speaker="customer"),
    TrackerSpec(name="laugh", keywords=("哈哈",)),
    TrackerSpec(name="digits", kind="regex", pattern=r"\d\d"),
]


def _utt(texts, roles=None):
    return pd.DataFrame({"conversation_id": "c1", "seq": range(len(texts)),
                         "role": roles or ["customer", "rep"] * (len(texts) // 2) + ["customer"] * (len(texts) % 2),
                         "start_seconds": 0.0, "end_seconds": 10.0, "text": texts})


def test_fast_matcher_finds_exactly_the_naive_hits():
    norm, _ = normalize_texts(TEXTS)
    fast = TrackerMatcher(SPECS).raw_hits(norm)
    slow = naive_hits(SPECS, norm)
    assert len(fast) > 20
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), slow)


def test_fast_equals_naive_on_random_text_with_the_default_playbook():
    rng = np.random.default_rng(7)
    words = ["price", "prices", "pricing", "budget", "call", "me", "back", "tomorrow", "价格", "预算", "再打给我", "hi",
             "how", "are", "you", "doing", "salesforce", "销售易", "guarantee", "next", "step", "steps", "?", ",",
             "30%", "off", "太贵", "了", "the", "a", "decision", "maker", "approve", "proposal"]
    texts = [" ".join(rng.choice(words, size=rng.integers(1, 15))) for _ in range(400)]
    specs = load_playbook().trackers
    norm, _ = normalize_texts(texts)
    fast = TrackerMatcher(specs).raw_hits(norm)
    assert len(fast) > 100
    pd.testing.assert_frame_equal(fast.reset_index(drop=True), naive_hits(specs, norm))


def test_hits_apply_scope_modes_exclusions_and_map_spans_back():
    hits = TrackerMatcher(SPECS).hits(_utt(TEXTS))
    by = hits.groupby("tracker")
    pricing = by.get_group("pricing")
    assert set(pricing[pricing["seq"] == 0]["matched"]) == {"PRICE", "Prices", "pricing", "priced"}
    assert set(pricing["matched"]) >= {"价格", "多少钱", "companies", "Ｐｒｉｃｅ", "next steps", "next step"}
    assert "prick" not in set(pricing["matched"])
    assert set(by.get_group("comp")["matched"]) == {"Salesforce", "hubspot"}  # no word forms: 'salesforces' missed
    assert set(by.get_group("both")["seq"]) == {5}
    assert set(by.get_group("two_of")["seq"]) == {5}
    disc = by.get_group("disc")
    assert set(disc["matched"]) == {"20% off", "15 % discount"}  # utterance 4 excluded by 'no discount'
    q = by.get_group("q")
    assert list(q["seq"]) == [0] and list(q["matched"]) == ["PRICE"]  # the question sentence only, customer only
    fine = pricing[pricing["seq"] == 9].iloc[0]
    assert TEXTS[9][fine["start_char"]:fine["end_char"]] == "price"  # 'ﬁ' ligature widens the normalised text
    assert fine["hit_seconds"] == pytest.approx(10 * 4 / len(TEXTS[9]), abs=0.01)


def test_required_literals_from_parsed_regex():
    assert required_literals(r"(?:price|cost) per seat") == [" per seat"]
    assert required_literals(r"\b\d+ ?% (?:off|discount)") == ["discount", "off"]
    assert required_literals(r"\d+") is None


def test_regex_without_literal_is_screened_and_still_exact():
    specs = [TrackerSpec(name="num", kind="regex", pattern=r"\d{3,}"),
             TrackerSpec(name="word", kind="regex", pattern=r"[a-z]+ly\b")]
    texts = ["call 12345 now", "quickly then slowly", "no", "12"]
    norm, _ = normalize_texts(texts)
    pd.testing.assert_frame_equal(TrackerMatcher(specs).raw_hits(norm).reset_index(drop=True), naive_hits(specs, norm))


def test_semantic_trackers_use_the_encoder_and_are_skipped_without_it():
    def encoder(texts):  # a toy bag-of-letters embedding, unit length
        v = np.array([[t.count(ch) for ch in "abcdefghijklmnopqrstuvwxyz"] for t in texts], dtype=float) + 1e-9
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    spec = TrackerSpec(name="money", kind="semantic", examples=("how much does it cost",), threshold=0.95)
    utt = _utt(["how much does it cost", "zzz qqq"])
    assert list(TrackerMatcher([spec], encoder=encoder).hits(utt)["seq"]) == [0]
    assert TrackerMatcher([spec]).hits(utt).empty


def test_playbook_validation_reports_every_problem(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("version: 1\ntrackers:\n  - {name: a, kind: regex, pattern: '(unclosed'}\n"
                   "  - {name: b, kind: keyword}\n  - {name: c, keywords: [x], match: n_of, n: 3}\n"
                   "  - {name: d, keywords: [x], colour: red}\n")
    with pytest.raises(ConfigError) as err:
        load_playbook(bad)
    msg = err.value.message
    assert "4 problem(s)" in msg and "invalid regular expression" in msg and "needs 'keywords'" in msg
    assert "colour" in msg
    with pytest.raises(ValueError, match="unknown trackers"):
        PlaybookSpec(version=1, trackers=(TrackerSpec(name="a", keywords=("x",)),),
                     compliance={"required": ["nope"]})


def test_default_playbook_loads_with_sop_and_compliance():
    pb = load_playbook()
    assert [s.name for s in pb.sop.stages] == ["greeting", "needs_discovery", "solution", "pricing", "next_steps"]
    assert pb.benchmarks["cold_call"] == 0.55 and pb.benchmarks["discovery"] == 0.43


def test_parallel_slices_give_the_same_hits():
    norm, _ = normalize_texts(TEXTS * 7)
    matcher = TrackerMatcher(SPECS)
    pd.testing.assert_frame_equal(matcher.raw_hits(norm, n_jobs=2), matcher.raw_hits(norm, n_jobs=1))


def test_regex_matches_never_cross_utterances():
    specs = [TrackerSpec(name="span", kind="regex", pattern=r"end\W+start"),
             TrackerSpec(name="dot", kind="regex", pattern=r"lit.*")]
    texts = ["the end", "start here lit", "lit a", "end - start"]
    norm, _ = normalize_texts(texts)
    fast = TrackerMatcher(specs).raw_hits(norm).reset_index(drop=True)
    pd.testing.assert_frame_equal(fast, naive_hits(specs, norm))
    assert set(fast["utt"]) == {1, 2, 3}


def test_committed_json_schema_matches_the_spec():
    import json
    from pathlib import Path

    import retain.conversations

    path = Path(retain.conversations.__file__).with_name("playbook.schema.json")
    assert json.loads(path.read_text(encoding="utf-8")) == PlaybookSpec.model_json_schema()


def test_each_distinct_text_is_matched_once_and_its_hits_repeated_for_every_utterance():
    """Repeated texts (greetings, short answers) in any order: the hits are those of matching every utterance on
    its own, roles still decide the speaker scope per utterance."""
    from retain.conversations.trackers import repeat_hits

    rng = np.random.default_rng(0)
    texts = [TEXTS[i] for i in rng.integers(0, len(TEXTS), 60)]
    norm, _ = normalize_texts(texts)
    codes, distinct = pd.factorize(pd.Series(texts, dtype=object), sort=False)
    matcher = TrackerMatcher(SPECS)
    distinct_norm, _ = normalize_texts(list(distinct))
    once = repeat_hits(matcher.raw_hits(distinct_norm), codes)
    pd.testing.assert_frame_equal(once, matcher.raw_hits(norm).reset_index(drop=True))
    roles = list(rng.choice(["customer", "rep"], len(texts)))
    hits = matcher.hits(_utt(texts, roles))
    assert len(hits) > 60
    for seq in (0, 17, 59):
        alone = matcher.hits(_utt([texts[seq]], [roles[seq]]))
        mine = hits[hits["seq"] == seq].drop(columns="seq").reset_index(drop=True)
        pd.testing.assert_frame_equal(mine, alone.drop(columns="seq").reset_index(drop=True), check_dtype=False)
