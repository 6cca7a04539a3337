"""Transcript import: Retain JSON, WebVTT, SRT and plain ``Speaker: text`` lines.

Every file is parsed first; if any file is bad, nothing is written and the error names each file and line
(all problems, not just the first). Speakers are mapped to roles (rep / customer / other) by a user mapping, by
team-member names, by labels such as "Rep"/"客户", and when one side is known in a two-person call the other is
the customer. PII is redacted before storage unless asked not to. Rows go to the warehouse through
:func:`write_frames` (the ingest path, strict).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from retain.conversations.redact import redact_many
from retain.conversations.text import detect_language, word_count
from retain.errors import IngestError
from retain.ingest import ingest_frames

ROLES = ("rep", "customer", "other")
_REP_LABELS = {"rep", "agent", "sales", "salesperson", "seller", "ae", "sdr", "csm", "host",
               "销售", "客服", "顾问", "坐席"}
_CUSTOMER_LABELS = {"customer", "client", "prospect", "buyer", "lead", "caller", "客户", "顾客", "买家"}
_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{2})(?:[.,](\d{1,3}))?"
_CUE = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")
_VOICE = re.compile(r"<v(?:\.[^ >]+)?\s+([^>]+)>")
_TAGS = re.compile(r"</?[^>]+>")
_SPEAKER_LINE = re.compile(
    r"^\s*(?:\[?(?P<ts>(?:\d+:)?\d{1,2}:\d{2}(?:[.,]\d+)?)\]?\s*)?"
    r"(?P<speaker>[^:：\[\]]{1,40}?)\s*[:：]\s*(?P<text>.*)$"
)
_PACE_EN = 150 / 60  # words per second, for plain files without times
_PACE_ZH = 4.0  # characters per second


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class TranscriptError(IngestError):
    """One or more transcript files could not be parsed; nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        shown = "\n  ".join(str(p) for p in problems[:20])
        more = f"\n  ... {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            f"{len(problems)} problem(s) in transcript files; nothing was imported:\n  {shown}{more}",
            hint="fix the named lines (cue times 'HH:MM:SS.mmm --> HH:MM:SS.mmm', lines 'Speaker: text') and re-run",
        )
        self.problems = problems


@dataclass
class Transcript:
    """One parsed call before it is stored."""

    source_file: str
    turns: list[dict] = field(default_factory=list)  # speaker, start, end, text, [role]
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    """What the imported calls belong to (command-line options)."""

    lead_id: str | None = None
    opportunity_id: str | None = None
    account_id: str | None = None
    member_id: str | None = None
    started_at: dt.datetime | None = None
    call_type: str | None = None


def _seconds(h, m, s, ms) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + (int((ms or "0").ljust(3, "0")[:3]) / 1000)


def _parse_ts(value: str) -> float:
    parts = re.match(rf"^{_TIME}$", value.strip())
    if not parts:
        raise ValueError(value)
    return _seconds(*parts.groups())


# -- parsers -----------------------------------------------------------------------------------------------


def parse_json(text: str, name: str) -> list[Transcript]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError([Problem(name, exc.lineno, f"invalid JSON: {exc.msg}")]) from exc
    calls = data if isinstance(data, list) else data.get("conversations", [data]) if isinstance(data, dict) else None
    if calls is None:
        raise TranscriptError([Problem(name, 1, "expected an object or a list of conversations")])
    out, problems = [], []
    for i, call in enumerate(calls):
        turns = call.get("utterances") if isinstance(call, dict) else None
        if not isinstance(turns, list):
            problems.append(Problem(name, 1, f"conversation #{i + 1} has no 'utterances' list"))
            continue
        parsed = []
        for j, u in enumerate(turns):
            if not isinstance(u, dict) or not u.get("speaker") or u.get("text") is None:
                problems.append(Problem(name, 1, f"conversation #{i + 1}, utterance #{j + 1}: "
                                                 "needs 'speaker' and 'text'"))
                continue
            start = float(u.get("start", u.get("start_seconds", 0.0)) or 0.0)
            end = float(u.get("end", u.get("end_seconds", start)) or start)
            parsed.append({"speaker": str(u["speaker"]), "start": start, "end": max(end, start),
                           "text": str(u["text"]), "role": u.get("role")})
        meta = {k: v for k, v in call.items() if k != "utterances"}
        out.append(Transcript(name, parsed, meta))
    if problems:
        raise TranscriptError(problems)
    return out


def _cues(text: str, name: str, *, srt: bool) -> list[Transcript]:
    lines = text.splitlines()
    turns, problems = [], []
    i = 0
    if not srt:
        if not lines or not lines[0].lstrip("\ufeff").startswith("WEBVTT"):
            raise TranscriptError([Problem(name, 1, "WebVTT files must start with 'WEBVTT'")])
        i = 1
    while i < len(lines):
        line = lines[i].strip()
        srt_index = srt and line.isdigit() and i + 1 < len(lines) and "-->" in lines[i + 1]
        if not line or line.startswith("NOTE") or srt_index:
            i += 1
            continue
        if "-->" not in line:
            if i + 1 < len(lines) and "-->" in lines[i + 1]:  # WebVTT cue identifier
                i += 1
                continue
            problems.append(Problem(name, i + 1, f"expected a cue time line 'start --> end', got {line[:40]!r}"))
            i += 1
            continue
        match = _CUE.match(line)
        if not match:
            problems.append(Problem(name, i + 1, f"bad cue times {line[:40]!r}"))
            i += 1
            continue
        g = match.groups()
        start, end = _seconds(*g[:4]), _seconds(*g[4:])
        if end < start:
            problems.append(Problem(name, i + 1, "cue ends before it starts"))
        body, i = [], i + 1
        while i < len(lines) and lines[i].strip():
            body.append(lines[i].strip())
            i += 1
        raw = " ".join(body)
        voice = _VOICE.search(raw)
        speaker, words = None, _TAGS.sub("", raw).strip()
        if voice:
            speaker = voice.group(1).strip()
        else:
            m = _SPEAKER_LINE.match(words)
            if m and not m.group("ts"):
                speaker, words = m.group("speaker").strip(), m.group("text").strip()
        if not speaker:
            if turns:  # continuation of the previous speaker
                speaker = turns[-1]["speaker"]
            else:
                problems.append(Problem(name, i, "cue has no speaker ('<v Name>' or 'Name: text')"))
                continue
        turns.append({"speaker": speaker, "start": start, "end": max(end, start), "text": words})
    if problems:
        raise TranscriptError(problems)
    return [Transcript(name, turns)]


def parse_vtt(text: str, name: str) -> list[Transcript]:
    return _cues(text, name, srt=False)


def parse_srt(text: str, name: str) -> list[Transcript]:
    return _cues(text, name, srt=True)


def parse_plain(text: str, name: str) -> list[Transcript]:
    """``Speaker: text`` lines, optionally starting with a time ``[00:01:02]``; times estimated when absent."""
    turns, problems = [], []
    clock = 0.0
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _SPEAKER_LINE.match(line)
        if not m:
            if turns:
                turns[-1]["text"] += " " + line.strip()
                continue
            problems.append(Problem(name, n, f"expected 'Speaker: text', got {line.strip()[:40]!r}"))
            continue
        start = _parse_ts(m.group("ts")) if m.group("ts") else clock
        words = m.group("text").strip()
        pace = _PACE_ZH if detect_language(words) == "zh" else _PACE_EN
        end = start + max(1.0, word_count(words) / pace)
        if turns and m.group("ts") and turns[-1].get("estimated"):
            turns[-1]["end"] = max(turns[-1]["start"], min(turns[-1]["end"], start))
        turns.append({"speaker": m.group("speaker").strip(), "start": start, "end": end, "text": words,
                      "estimated": True})
        clock = end + 0.5
    if not turns and not problems:
        problems.append(Problem(name, 1, "no 'Speaker: text' lines found"))
    if problems:
        raise TranscriptError(problems)
    for t in turns:
        t.pop("estimated", None)
    return [Transcript(name, turns)]


PARSERS = {".json": parse_json, ".vtt": parse_vtt, ".srt": parse_srt, ".txt": parse_plain}


def parse_file(path: Path) -> list[Transcript]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise TranscriptError([Problem(str(path), 0, f"cannot read: {exc}")]) from exc
    parser = PARSERS.get(path.suffix.lower(), parse_plain)
    return parser(text, str(path))


def parse_files(paths: Iterable[Path]) -> list[Transcript]:
    """Parse every file; collect every problem before raising, so one run shows them all."""
    out, problems = [], []
    for path in paths:
        try:
            out.extend(parse_file(Path(path)))
        except TranscriptError as exc:
            problems.extend(exc.problems)
    if problems:
        raise TranscriptError(problems)
    return out


# -- roles -------------------------------------------------------------------------------------------------


def load_speaker_map(path: Path) -> dict[str, str]:
    """A YAML/JSON mapping ``{speakers: {Name: rep|customer|other}}`` (or the bare mapping)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TranscriptError([Problem(str(path), 0, f"cannot read the speaker map: {exc}")]) from exc
    data = data.get("speakers", data) if isinstance(data, dict) else None
    if not isinstance(data, dict):
        raise TranscriptError([Problem(str(path), 1, "expected a mapping 'Name: role'")])
    bad = [Problem(str(path), 1, f"speaker {k!r}: role must be one of {ROLES}")
           for k, v in data.items() if v not in ROLES]
    if bad:
        raise TranscriptError(bad)
    return {str(k).casefold(): v for k, v in data.items()}


def assign_roles(speakers: list[str], speaker_map: Mapping[str, str], team_names: Iterable[str]) -> dict[str, str]:
    """Role per speaker of one call: mapping > team member > label > 'the other person in a two-way call'."""
    team = {n.casefold() for n in team_names if n}
    team_first = {n.split()[0] for n in team if n.split()}
    roles: dict[str, str] = {}
    for s in dict.fromkeys(speakers):
        key = s.casefold().strip()
        if key in speaker_map:
            roles[s] = speaker_map[key]
        elif key in team or key in team_first or key in _REP_LABELS:
            roles[s] = "rep"
        elif key in _CUSTOMER_LABELS:
            roles[s] = "customer"
    unknown = [s for s in dict.fromkeys(speakers) if s not in roles]
    if unknown:
        known_sides = set(roles.values())
        if len(unknown) == 1 and known_sides == {"rep"}:
            roles[unknown[0]] = "customer"
        elif len(unknown) == 1 and known_sides == {"customer"}:
            roles[unknown[0]] = "rep"
        elif not roles and len(unknown) == 2:  # first speaker of a sales call is usually the rep
            roles[unknown[0]], roles[unknown[1]] = "rep", "customer"
        for s in unknown:
            roles.setdefault(s, "other")
    return roles


# -- frames and writing ------------------------------------------------------------------------------------


def _conversation_id(t: Transcript, index: int) -> str:
    if t.meta.get("conversation_id"):
        return str(t.meta["conversation_id"])
    digest = hashlib.sha1(f"{Path(t.source_file).name}|{index}|".encode() + json.dumps(t.turns, default=str).encode())
    return "call_" + digest.hexdigest()[:12]


def to_frames(
    transcripts: list[Transcript],
    link: Link = Link(),
    *,
    speaker_map: Mapping[str, str] | None = None,
    team_names: Iterable[str] = (),
    redact: bool = True,
) -> dict[str, pd.DataFrame]:
    """``conversations`` and ``utterances`` frames in the canonical model."""
    team_names = list(team_names)
    conv_rows, utt_rows = [], []
    for i, t in enumerate(transcripts):
        cid = _conversation_id(t, i)
        meta = t.meta
        roles = assign_roles([u["speaker"] for u in t.turns], speaker_map or {}, team_names)
        started = meta.get("started_at") or link.started_at
        if started is None:
            started = dt.datetime.fromtimestamp(Path(t.source_file).stat().st_mtime, dt.UTC) \
                if Path(t.source_file).exists() else dt.datetime.now(dt.UTC)
        all_text = " ".join(u["text"] for u in t.turns)
        conv_rows.append({
            "conversation_id": cid,
            "started_at": pd.Timestamp(started, tz="UTC") if pd.Timestamp(started).tzinfo is None
            else pd.Timestamp(started).tz_convert("UTC"),
            "duration_seconds": float(max((u["end"] for u in t.turns), default=0.0)),
            "language": meta.get("language") or detect_language(all_text),
            "channel": meta.get("channel", "phone"),
            "call_type": meta.get("call_type") or link.call_type,
            "member_id": meta.get("member_id") or link.member_id,
            "account_id": meta.get("account_id") or link.account_id,
            "lead_id": meta.get("lead_id") or link.lead_id,
            "opportunity_id": meta.get("opportunity_id") or link.opportunity_id,
            "title": meta.get("title") or Path(t.source_file).stem,
            "source_file": Path(t.source_file).name,
        })
        for seq, u in enumerate(t.turns):
            role = u.get("role") if u.get("role") in ROLES else roles[u["speaker"]]
            utt_rows.append({"conversation_id": cid, "seq": seq, "speaker": u["speaker"], "role": role,
                             "start_seconds": float(u["start"]), "end_seconds": float(u["end"]), "text": u["text"]})
    utterances = pd.DataFrame(utt_rows, columns=["conversation_id", "seq", "speaker", "role", "start_seconds",
                                                 "end_seconds", "text"])
    if redact and len(utterances):
        utterances["text"] = redact_many(utterances["text"].tolist())
    return {"conversations": pd.DataFrame(conv_rows), "utterances": utterances}


def write_frames(wh, frames: dict[str, pd.DataFrame], source: str) -> dict[str, int]:
    """Write through ``retain.ingest.ingest_frames`` (strict: all or nothing)."""
    report = ingest_frames(wh, frames, source=source, strict=True)
    if not report.committed or report.quarantined:
        raise IngestError(
            f"the calls were not imported: {_report_errors(report)}",
            hint="fix the links (--lead/--account/--rep must exist) or the rows named above, then re-run",
        )
    return {name: len(df) for name, df in frames.items()}


def _report_errors(report) -> str:
    """The first rejected rows as 'table row N (column): reason', the root causes first."""
    errors = report.errors
    if errors is None or len(errors) == 0:
        return "rows were rejected"
    e = errors.astype(str)
    lines = (e.get("table_name", "") + " row " + e.get("row_number", "?") + " (" + e.get("column_name", "") + "): "
             + e.get("reason", ""))
    primary = ~e.get("reason", pd.Series("", index=e.index)).str.contains("not found in conversations")
    shown = lines[primary] if primary.any() else lines
    more = f"; ... {len(shown) - 5} more" if len(shown) > 5 else ""
    cascade = ""
    if primary.any() and (~primary).any():
        cascade = f" (and {int((~primary).sum())} utterance rows of those calls)"
    return "; ".join(shown.head(5)) + more + cascade


def import_transcripts(wh, paths: Iterable[Path], link: Link = Link(), *, speaker_map_file: Path | None = None,
                       redact: bool = True) -> dict[str, int]:
    """Parse every file (all or nothing), map speakers to roles, redact PII and write the calls."""
    paths = [Path(p) for p in paths]
    missing = [Problem(str(p), 0, "no such file") for p in paths if not p.is_file()]
    if missing:
        raise TranscriptError(missing)
    transcripts = parse_files(paths)
    speaker_map = load_speaker_map(speaker_map_file) if speaker_map_file else {}
    team = wh.execute(wh.raw("team_members").select("name"))["name"].dropna().tolist()
    frames = to_frames(transcripts, link, speaker_map=speaker_map, team_names=team, redact=redact)
    return write_frames(wh, frames, source="retain calls import")
