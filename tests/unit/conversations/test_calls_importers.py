import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from retain.conversations.importers import (
    Link,
    TranscriptError,
    assign_roles,
    import_transcripts,
    parse_file,
    parse_files,
    to_frames,
)

FX = Path(__file__).resolve().parents[2] / "fixtures" / "conversations"
T0 = dt.datetime(2026, 3, 4, 15, 0, tzinfo=dt.UTC)


def test_webvtt_voice_tags_and_multiline_cues():
    (t,) = parse_file(FX / "call.vtt")
    assert [u["speaker"] for u in t.turns] == ["Tom Baker", "Sarah Lee", "Tom Baker", "Sarah Lee"]
    assert t.turns[2]["text"] == "It is forty dollars per seat. We can talk discounts."
    assert (t.turns[3]["start"], t.turns[3]["end"]) == (15.0, 19.0)


def test_srt_with_speaker_labels_maps_roles_by_label():
    frames = to_frames(parse_file(FX / "call.srt"), Link(started_at=T0))
    u = frames["utterances"]
    assert list(u["role"]) == ["rep", "customer", "rep", "customer"]
    assert "[PHONE]" in u.at[1, "text"] and "13912345678" not in u.at[1, "text"]
    assert frames["conversations"].at[0, "language"] == "zh"


def test_plain_lines_with_times_and_team_names():
    frames = to_frames(parse_file(FX / "call.txt"), Link(started_at=T0, lead_id="L1", member_id="m1"),
                       team_names=["Tom Baker"])
    u, c = frames["utterances"], frames["conversations"]
    assert list(u["role"]) == ["rep", "customer", "rep", "customer"]
    assert list(u["start_seconds"]) == [0.0, 4.0, 9.0, 15.0]
    assert (u["end_seconds"] <= u["start_seconds"].shift(-1).fillna(1e9)).all()
    assert c.at[0, "lead_id"] == "L1" and c.at[0, "member_id"] == "m1"


def test_retain_json_keeps_ids_and_given_roles_and_redacts_email():
    frames = to_frames(parse_file(FX / "call.json"), speaker_map={"tom baker": "rep"})
    c, u = frames["conversations"], frames["utterances"]
    assert c.at[0, "conversation_id"] == "json_call_1" and c.at[0, "call_type"] == "discovery"
    assert list(u["role"]) == ["rep", "customer"]
    assert u.at[1, "text"] == "We want fewer churned accounts. Email me at [EMAIL]."
    kept = to_frames(parse_file(FX / "call.json"), redact=False)["utterances"]
    assert "dana@acme.io" in kept.at[1, "text"]


def test_bad_files_name_file_and_line_and_all_problems_are_collected():
    with pytest.raises(TranscriptError) as err:
        parse_files([FX / "bad.vtt", FX / "bad.txt", FX / "call.vtt"])
    problems = [(Path(p.file).name, p.line) for p in err.value.problems]
    assert ("bad.vtt", 6) in problems and ("bad.vtt", 9) in problems and ("bad.txt", 1) in problems
    assert "nothing was imported" in err.value.message


def test_continuation_lines_join_the_previous_turn():
    (t,) = parse_file(FX / "ok_continuation.txt")
    assert t.turns[0]["text"] == "hello this continues the line above"


def test_roles_by_map_team_and_the_other_party():
    assert assign_roles(["Ann", "Bob"], {}, ["Ann Smith"]) == {"Ann": "rep", "Bob": "customer"}
    assert assign_roles(["X", "Y", "Z"], {"z": "other"}, []) == {"Z": "other", "X": "other", "Y": "other"}
    assert assign_roles(["Agent", "Caller"], {}, []) == {"Agent": "rep", "Caller": "customer"}


def test_import_writes_calls_and_a_bad_file_writes_nothing(wh):
    with pytest.raises(TranscriptError):
        import_transcripts(wh, [FX / "call.vtt", FX / "bad.vtt"], Link(started_at=T0))
    assert wh.count("conversations") == 0 and wh.count("utterances") == 0
    counts = import_transcripts(wh, [FX / "call.vtt", FX / "call.srt"], Link(started_at=T0))
    assert counts == {"conversations": 2, "utterances": 8}
    texts = wh.execute(wh.raw("utterances").select("text"))["text"]
    assert not texts.str.contains("415-555-0123").any() and texts.str.contains(r"\[PHONE\]").sum() == 2
    import_transcripts(wh, [FX / "call.vtt"], Link(started_at=T0))  # re-import replaces, never duplicates
    assert wh.count("conversations") == 2
    started = wh.execute(wh.raw("conversations").select("started_at"))["started_at"]
    assert (pd.to_datetime(started, utc=True) == pd.Timestamp(T0)).all()
