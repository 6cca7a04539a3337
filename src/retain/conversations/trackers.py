"""Tracker matching, fast: every keyword of every tracker in one Aho–Corasick automaton, regexes prefiltered.

How it stays fast on millions of utterances:

* texts are normalised (NFKC + casefold) once and joined into one string per chunk; one automaton pass finds every
  keyword occurrence of every tracker; numpy turns positions into utterances and checks word boundaries;
* English keywords match word forms: the automaton holds the stem ("pric" for price) and a hit counts when the
  whole word stems the same (prices, priced, pricing); Chinese keywords match as substrings (no word boundaries);
* each regex has a required literal extracted from its parsed pattern (``(?:price|cost) per seat`` needs
  " per seat"); those literals go in the same automaton, so a regex only runs on utterances that contain its
  literal. Regexes without a usable literal are screened together by one combined alternation;
* scope (speaker role, questions only), ``all``/``n_of`` and exclusions are applied afterwards on the hit table.

:func:`naive_hits` is the reference: one ``re`` pattern per keyword and regex over each utterance. Both produce
identical raw hits (tests and ``bench/bench_trackers.py`` check it).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain

import ahocorasick
import numpy as np
import pandas as pd

from retain.conversations.questions import count_questions, is_question_sentence
from retain.conversations.text import has_cjk, normalize, stem
from retain.conversations.tracker_spec import SpeakerScope, TrackerKind, TrackerSpec

try:  # Python 3.11+: the regex parser is private but stable
    from re import _constants as _sre_c
    from re import _parser as _sre_p
except ImportError:  # pragma: no cover
    import sre_constants as _sre_c  # type: ignore[no-redef]
    import sre_parse as _sre_p  # type: ignore[no-redef]

HIT_COLUMNS = [
    "conversation_id", "seq", "role", "tracker", "category", "kind", "keyword", "matched",
    "start_char", "end_char", "hit_seconds",
]
MODE_EXACT, MODE_FORMS, MODE_CJK, MODE_LITERAL = 0, 1, 2, 3
_CHUNK = 200_000
# patterns whose matches could depend on where an utterance ends (anchors, lookarounds): never run on joined text
_JOIN_UNSAFE = re.compile(r"\^|\$|\\[AZzG]|\(\?<?[=!]|\(\?[aiLmsux-]*\)")
_SEP = "\x00"


# -- keyword keys ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    tracker: int
    keyword: int  # index in the tracker's keywords (or -1 for a regex literal)
    mode: int
    last_word_offset: int  # where the last word starts inside the key (word forms)
    target_stem: str


def _keyword_entry(tracker: int, kw_index: int, keyword: str, word_forms: bool) -> tuple[str, _Entry]:
    norm = " ".join(normalize(keyword).split())
    if has_cjk(norm) or not re.search(r"[a-z0-9]", norm):
        return norm, _Entry(tracker, kw_index, MODE_CJK, 0, "")
    if not word_forms or not re.search(r"[a-z]$", norm):
        return norm, _Entry(tracker, kw_index, MODE_EXACT, 0, "")
    head, _, last = norm.rpartition(" ")
    target = stem(last)
    key_last = target[:-1] if target.endswith("y") else target
    if not last.startswith(key_last):  # irregular form: match it exactly
        return norm, _Entry(tracker, kw_index, MODE_EXACT, 0, "")
    key = f"{head} {key_last}" if head else key_last
    return key, _Entry(tracker, kw_index, MODE_FORMS, len(key) - len(key_last), target)


# -- regex literals ----------------------------------------------------------------------------------------


def required_literals(pattern: str, flags: int = re.IGNORECASE) -> list[str] | None:
    """Literals one of which every match of ``pattern`` must contain (lower-cased), or None if none is usable."""
    try:
        parsed = _sre_p.parse(pattern, flags)
    except re.error:
        return None
    best = _seq_literals(list(parsed))
    if not best or min(len(x) for x in best) < 2:
        return None
    return sorted(set(best))


def _seq_literals(items: list) -> list[str] | None:
    candidates: list[list[str]] = []
    run: list[str] = []
    for op, arg in items:
        if op is _sre_c.LITERAL:
            run.append(chr(arg).casefold())
            continue
        if op is _sre_c.AT:
            continue  # zero-width (\b, ^): the literal run goes on
        if run:
            candidates.append(["".join(run)])
            run = []
        if op is _sre_c.SUBPATTERN:
            sub = _seq_literals(list(arg[-1]))
            if sub:
                candidates.append(sub)
        elif op is _sre_c.BRANCH:
            alts = [_seq_literals(list(b)) for b in arg[1]]
            if alts and all(alts):
                candidates.append([x for a in alts for x in a])  # type: ignore[union-attr]
        elif op in (_sre_c.MAX_REPEAT, _sre_c.MIN_REPEAT, _sre_c.POSSESSIVE_REPEAT) and arg[0] >= 1:
            sub = _seq_literals(list(arg[2]))
            if sub:
                candidates.append(sub)
    if run:
        candidates.append(["".join(run)])
    if not candidates:
        return None
    return max(candidates, key=lambda c: (min(len(x) for x in c), -len(c)))


# -- the matcher -------------------------------------------------------------------------------------------


def _combined_screen(patterns: list[str]) -> re.Pattern | None:
    """One alternation that finds whether any of ``patterns`` matches (patterns with back-references or inline
    global flags cannot be combined safely: then a pattern that matches everything is returned)."""
    if not patterns:
        return None
    if any(re.search(r"\\[1-9]|\(\?P=|\(\?[aiLmsux]+\)", p) for p in patterns):
        return re.compile("")
    try:
        return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)
    except re.error:
        return re.compile("")


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


def normalize_texts(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    """Normalised texts; indices of those whose length changed are re-normalised per character so that a
    position in the normalised text maps back to the original (see :func:`_map_back`). The same texts in a row
    (the call analysis matches trackers, fillers and tags on one set of utterances) are normalised once."""
    norm, changed = _normalized(tuple(texts))
    return list(norm), list(changed)


@lru_cache(maxsize=1)
def _normalized(texts: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    norm = [normalize(t) for t in texts]
    changed = [i for i, (a, b) in enumerate(zip(norm, texts, strict=True)) if len(a) != len(b or "")]
    for i in changed:
        norm[i] = "".join(normalize(ch) for ch in texts[i])
    return tuple(norm), tuple(changed)


def _map_back(text: str, positions: np.ndarray) -> np.ndarray:
    ends = np.cumsum([len(normalize(ch)) for ch in text])
    return np.searchsorted(ends, positions, side="right")


class TrackerMatcher:
    """All keyword and regex trackers compiled once; ``hits(utterances)`` returns one row per hit.

    ``utterances`` needs ``conversation_id, seq, role, start_seconds, end_seconds, text``.
    ``encoder`` (texts -> unit vectors) enables semantic trackers; without it they are skipped.
    """

    def __init__(self, trackers: Sequence[TrackerSpec], encoder: Callable[[list[str]], np.ndarray] | None = None):
        self.trackers = list(trackers)
        self.encoder = encoder
        self._examples: dict[int, np.ndarray] | None = None
        self._automaton = ahocorasick.Automaton()
        self._entries: list[list[_Entry]] = []
        self._key_len: list[int] = []
        keys: dict[str, int] = {}
        self._regex_literal: dict[int, bool] = {}
        self._screened: list[int] = []
        for t_idx, spec in enumerate(self.trackers):
            if spec.kind is TrackerKind.KEYWORD:
                for k_idx, kw in enumerate(spec.keywords):
                    key, entry = _keyword_entry(t_idx, k_idx, kw, spec.word_forms)
                    self._add(keys, key, entry)
            elif spec.kind is TrackerKind.REGEX:
                lits = required_literals(spec.pattern or "")
                if lits:
                    for lit in lits:
                        self._add(keys, lit, _Entry(t_idx, -1, MODE_LITERAL, 0, ""))
                else:
                    self._screened.append(t_idx)
        self._screen = _combined_screen([self.trackers[i].pattern or "" for i in self._screened])
        if keys:
            self._automaton.make_automaton()
        self._has_keys = bool(keys)
        self._n_entries = np.array([len(e) for e in self._entries], dtype=np.int64)
        self._flat = [e for es in self._entries for e in es]
        self._first = np.concatenate([[0], np.cumsum(self._n_entries)[:-1]]).astype(np.int64)
        self._mode = np.array([e.mode for e in self._flat], dtype=np.int8)
        self._tracker_of = np.array([e.tracker for e in self._flat], dtype=np.int64)
        self._keyword_of = np.array([e.keyword for e in self._flat], dtype=np.int64)

    def _add(self, keys: dict[str, int], key: str, entry: _Entry) -> None:
        if key not in keys:
            keys[key] = len(self._entries)
            self._entries.append([])
            self._automaton.add_word(key, keys[key])
            self._key_len.append(len(key))
        self._entries[keys[key]].append(entry)

    # raw matching ------------------------------------------------------------------------------------------

    def raw_hits(self, norm: list[str], n_jobs: int | None = None) -> pd.DataFrame:
        """Raw hits on normalised texts: utt, tracker, keyword, start, end (normalised positions).

        ``n_jobs`` processes share the work by contiguous slices of utterances (forked, so nothing is pickled
        but the hit tables); default: every core for 100,000 utterances or more, else one.
        """
        jobs = n_jobs or ((os.cpu_count() or 1) if len(norm) >= PARALLEL_FROM else 1)
        if jobs > 1 and len(norm) > 1 and "fork" in mp.get_all_start_methods():
            global _SHARED
            _SHARED = (self, norm)
            try:
                bounds = np.linspace(0, len(norm), 2 * jobs + 1).astype(int)
                with ProcessPoolExecutor(jobs, mp_context=mp.get_context("fork")) as pool:
                    parts = list(pool.map(_slice_hits, zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True)))
            finally:
                _SHARED = None
            return pd.concat(parts, ignore_index=True).sort_values(["utt", "tracker", "start", "end"],
                                                                   ignore_index=True)
        return self._raw_hits_serial(norm)

    def _raw_hits_serial(self, norm: list[str]) -> pd.DataFrame:
        parts = [self._keyword_hits(norm[i : i + _CHUNK], i) for i in range(0, len(norm), _CHUNK)]
        parts.append(self._regex_hits(norm, parts))
        frame = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else None
        if frame is None:
            return pd.DataFrame({c: pd.Series(dtype="int64") for c in ("utt", "tracker", "keyword", "start", "end")})
        return frame[frame["keyword"] != -2].sort_values(["utt", "tracker", "start", "end"], ignore_index=True)

    def _keyword_hits(self, texts: list[str], offset: int) -> pd.DataFrame:
        empty = pd.DataFrame({c: np.array([], dtype=np.int64) for c in ("utt", "tracker", "keyword", "start", "end")})
        if not self._has_keys or not texts:
            return empty
        big = _SEP.join(texts)
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
        found = list(self._automaton.iter(big))
        if not found:
            return empty
        pairs = np.fromiter(chain.from_iterable(found), dtype=np.int64, count=2 * len(found))
        ends, key_ids = pairs[0::2] + 1, pairs[1::2]
        begins = ends - np.asarray(self._key_len, dtype=np.int64)[key_ids]
        found = np.arange(len(key_ids))
        # expand each key to its entries
        n_entries, flat, first = self._n_entries, self._flat, self._first
        reps = n_entries[key_ids]
        hit_idx = np.repeat(np.arange(len(found)), reps)
        entry_idx = np.repeat(first[key_ids], reps) + (np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps))
        mode = self._mode[entry_idx]
        b, e = begins[hit_idx], ends[hit_idx]
        codes = np.frombuffer(big.encode("utf-32-le"), dtype=np.uint32)
        letter = (codes >= 97) & (codes <= 122)
        word = letter | ((codes >= 48) & (codes <= 57))
        word_pad = np.concatenate([[False], word, [False]])  # index i+1 is char i
        latin = (mode == MODE_EXACT) | (mode == MODE_FORMS)
        ok = ~latin | ~word_pad[b]  # char before is not a word char
        ok &= (mode != MODE_EXACT) | ~word_pad[e + 1]
        # word forms: extend to the end of the word and compare stems
        forms = np.flatnonzero(ok & (mode == MODE_FORMS))
        if len(forms):
            non_letter = np.append(np.flatnonzero(~letter), len(big))
            word_end = non_letter[np.searchsorted(non_letter, e[forms])]
            digits_after = word_pad[word_end + 1] & ~np.concatenate([letter, [False]])[word_end]
            ent = [flat[i] for i in entry_idx[forms]]
            good = np.fromiter(
                (stem(big[bb + en.last_word_offset : we]) == en.target_stem
                 for bb, we, en in zip(b[forms].tolist(), word_end.tolist(), ent, strict=True)),
                dtype=bool, count=len(forms),
            )
            ok[forms] = good & ~digits_after
            e = e.copy()
            e[forms] = word_end
        literal = mode == MODE_LITERAL
        utt = np.searchsorted(starts, b, side="right") - 1
        tracker = self._tracker_of[entry_idx]
        keyword = self._keyword_of[entry_idx].copy()
        keyword[literal] = -2  # regex literal: a candidate, not a hit
        keep = ok
        return pd.DataFrame({
            "utt": utt[keep] + offset, "tracker": tracker[keep], "keyword": keyword[keep],
            "start": (b - starts[utt])[keep], "end": (e - starts[utt])[keep],
        })

    def _regex_hits(self, norm: list[str], keyword_parts: list[pd.DataFrame]) -> pd.DataFrame:
        cands: dict[int, np.ndarray] = {}
        for part in keyword_parts:
            lit = part[part["keyword"] == -2]
            for t_idx, grp in lit.groupby("tracker", sort=False):
                prev = cands.get(int(t_idx))
                u = grp["utt"].to_numpy()
                cands[int(t_idx)] = u if prev is None else np.concatenate([prev, u])
        if self._screen is not None:
            screen = self._screen.search
            hit_utts = np.fromiter((i for i, t in enumerate(norm) if screen(t)), dtype=np.int64)
            for t_idx in self._screened:
                cands[t_idx] = hit_utts
        rows_u, rows_t, rows_s, rows_e = [], [], [], []
        norm_arr = np.asarray(norm, dtype=object) if cands else None
        norm_len = np.fromiter(map(len, norm), dtype=np.int64, count=len(norm)) if cands else None
        for t_idx, utts in cands.items():
            pattern = self.trackers[t_idx].pattern or ""
            rx = _compile(pattern)
            u_list = np.unique(utts)
            if _JOIN_UNSAFE.search(pattern):
                per_utt = u_list.tolist()
            else:  # one finditer over the joined candidates; utterances a match runs across are redone alone
                joined = _SEP.join(norm_arr[u_list].tolist())
                lengths = norm_len[u_list]
                starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]])
                spans = np.array([m.span() for m in rx.finditer(joined)], dtype=np.int64).reshape(-1, 2)
                spans = spans[spans[:, 1] > spans[:, 0]]
                first = np.searchsorted(starts, spans[:, 0], side="right") - 1
                last = np.searchsorted(starts, np.maximum(spans[:, 1] - 1, spans[:, 0]), side="right") - 1
                crossing = np.unique(np.concatenate([first[first != last], last[first != last]]))
                ok = ~np.isin(first, crossing)
                rows_u.append(u_list[first[ok]])
                rows_t.append(np.full(int(ok.sum()), t_idx, dtype=np.int64))
                rows_s.append(spans[ok, 0] - starts[first[ok]])
                rows_e.append(spans[ok, 1] - starts[first[ok]])
                per_utt = u_list[crossing].tolist()
            found = [(u, m.start(), m.end()) for u in per_utt for m in rx.finditer(norm[u]) if m.end() > m.start()]
            if found:
                arr = np.array(found, dtype=np.int64)
                rows_u.append(arr[:, 0])
                rows_t.append(np.full(len(arr), t_idx, dtype=np.int64))
                rows_s.append(arr[:, 1])
                rows_e.append(arr[:, 2])
        rows_u, rows_t, rows_s, rows_e = _cat(rows_u), _cat(rows_t), _cat(rows_s), _cat(rows_e)
        return pd.DataFrame({"utt": rows_u, "tracker": rows_t, "keyword": np.full(len(rows_u), -1, dtype=np.int64),
                             "start": rows_s, "end": rows_e})

    # full pipeline -----------------------------------------------------------------------------------------

    def hits(self, utterances: pd.DataFrame, n_jobs: int | None = None) -> pd.DataFrame:
        """One row per hit, after scope, match mode and exclusions (columns :data:`HIT_COLUMNS`).

        Each distinct text is normalised and matched once, its raw hits then repeated for every utterance that
        says it: calls repeat their greetings and short answers (the demo's 406,318 utterances hold 18,971
        distinct texts). Scope and exclusions are applied per utterance afterwards, as before."""
        texts = utterances["text"].fillna("").astype(str).tolist()
        codes, distinct = pd.factorize(pd.Series(texts, dtype=object), sort=False)
        distinct_norm, distinct_changed = normalize_texts(list(distinct))
        norm = [distinct_norm[c] for c in codes.tolist()]
        changed = np.flatnonzero(np.isin(codes, distinct_changed)).tolist() if distinct_changed else []
        raw = repeat_hits(self.raw_hits(distinct_norm, n_jobs), codes)
        raw = pd.concat([raw, self._semantic_hits(utterances, texts)], ignore_index=True)
        return finish_hits(self.trackers, utterances, texts, norm, changed, raw)

    def _semantic_hits(self, utterances: pd.DataFrame, texts: list[str]) -> pd.DataFrame:
        """Utterances whose cosine to a tracker's nearest example reaches its threshold (span: the whole
        utterance). Only utterances in some semantic tracker's scope (speaker, questions) are encoded, each
        distinct text once; example vectors are computed once per matcher."""
        sem = [i for i, t in enumerate(self.trackers) if t.kind is TrackerKind.SEMANTIC]
        cols = ("utt", "tracker", "keyword", "start", "end")
        if not sem or self.encoder is None or not texts:
            return pd.DataFrame({c: np.array([], dtype=np.int64) for c in cols})
        roles = utterances["role"].astype(str).to_numpy()
        base = np.fromiter((bool(t.strip()) for t in texts), dtype=bool, count=len(texts))
        scope: dict[int, np.ndarray] = {}
        is_q: dict[int, bool] = {}
        for t_idx in sem:
            spec = self.trackers[t_idx]
            mask = base if spec.speaker is SpeakerScope.ANY else base & (roles == spec.speaker.value)
            utts = np.flatnonzero(mask)
            if spec.questions_only:
                for u in utts.tolist():
                    if u not in is_q:
                        is_q[u] = count_questions(texts[u]) > 0
                utts = utts[np.fromiter((is_q[u] for u in utts.tolist()), dtype=bool, count=len(utts))]
            scope[t_idx] = utts
        needed = np.unique(np.concatenate(list(scope.values())))
        if not len(needed):
            return pd.DataFrame({c: np.array([], dtype=np.int64) for c in cols})
        codes, distinct = pd.factorize(pd.Series([texts[u] for u in needed.tolist()], dtype=object))
        vectors = np.asarray(self.encoder(list(distinct)), dtype=np.float32)
        row_of = np.full(len(texts), -1, dtype=np.int64)
        row_of[needed] = codes
        examples = self._example_vectors(sem)
        parts = []
        for t_idx in sem:
            utts = scope[t_idx]
            if not len(utts):
                continue
            sims = vectors[row_of[utts]] @ examples[t_idx].T
            best, which = sims.max(axis=1), sims.argmax(axis=1)
            ok = best >= self.trackers[t_idx].threshold
            hit = utts[ok]
            parts.append(pd.DataFrame({
                "utt": hit, "tracker": np.full(len(hit), t_idx, dtype=np.int64), "keyword": which[ok],
                "start": np.zeros(len(hit), dtype=np.int64),
                "end": np.fromiter((len(normalize(texts[u])) for u in hit.tolist()), dtype=np.int64, count=len(hit)),
            }))
        if not parts:
            return pd.DataFrame({c: np.array([], dtype=np.int64) for c in cols})
        return pd.concat(parts, ignore_index=True).astype("int64")

    def _example_vectors(self, sem: list[int]) -> dict[int, np.ndarray]:
        """Unit vectors of every semantic tracker's examples, encoded in one call and kept."""
        if self._examples is None:
            flat = [ex for t_idx in sem for ex in self.trackers[t_idx].examples]
            vec = np.asarray(self.encoder(flat), dtype=np.float32) if self.encoder else np.zeros((0, 0))
            bounds = np.cumsum([0] + [len(self.trackers[t].examples) for t in sem])
            self._examples = {t: vec[bounds[i] : bounds[i + 1]] for i, t in enumerate(sem)}
        return self._examples


def _cat(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.int64) if parts else np.array([], dtype=np.int64)


_SHARED: tuple[TrackerMatcher, list[str]] | None = None
PARALLEL_FROM = 100_000


def _slice_hits(bounds: tuple[int, int]) -> pd.DataFrame:
    """Worker: raw hits of one slice of the (forked, inherited) utterances."""
    assert _SHARED is not None
    matcher, norm = _SHARED
    lo, hi = bounds
    part = matcher._raw_hits_serial(norm[lo:hi])
    part["utt"] += lo
    return part


def repeat_hits(raw: pd.DataFrame, codes: np.ndarray) -> pd.DataFrame:
    """Raw hits of distinct texts (``utt`` = a text's code) as hits of every utterance whose text has that code
    (``codes[u]``), sorted as :meth:`TrackerMatcher.raw_hits` sorts them."""
    if raw.empty:
        return raw
    counts = np.bincount(codes, minlength=int(raw["utt"].max()) + 1)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])  # where each text's utterances start in ``order``
    order = np.argsort(codes, kind="stable")
    text = raw["utt"].to_numpy()
    times = counts[text]
    rows = np.repeat(np.arange(len(raw)), times)
    within = np.arange(int(times.sum())) - np.repeat(np.cumsum(times) - times, times)
    out = raw.iloc[rows].reset_index(drop=True)
    out["utt"] = order[np.repeat(first[text], times) + within]
    return out.sort_values(["utt", "tracker", "start", "end"], kind="stable", ignore_index=True)


def finish_hits(trackers: Sequence[TrackerSpec], utterances: pd.DataFrame, texts: list[str], norm: list[str],
                changed: list[int], raw: pd.DataFrame) -> pd.DataFrame:
    """Raw hits -> final hits: role scope, questions only, all/n_of, exclusions, original spans and times."""
    if raw.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    utt = raw["utt"].to_numpy()
    roles = utterances["role"].astype(str).to_numpy()[utt]
    t_idx = raw["tracker"].to_numpy()
    scope = np.array([t.speaker.value for t in trackers], dtype=object)[t_idx]
    keep = (scope == SpeakerScope.ANY.value) | (scope == roles)
    exclude = {i: _compile(t.exclude) for i, t in enumerate(trackers) if t.exclude}
    if exclude:
        for i, rx in exclude.items():
            sel = np.flatnonzero(keep & (t_idx == i))
            bad = np.fromiter((rx.search(norm[u]) is not None for u in utt[sel].tolist()), dtype=bool, count=len(sel))
            keep[sel[bad]] = False
    q_only = np.array([t.questions_only and t.kind is not TrackerKind.SEMANTIC for t in trackers],
                      dtype=bool)[t_idx]  # semantic: questions were checked before encoding
    sel = np.flatnonzero(keep & q_only)
    if len(sel):
        keep[sel] = [_in_question(norm[u], s) for u, s in zip(utt[sel].tolist(), raw["start"].to_numpy()[sel].tolist(),
                                                              strict=True)]
    hits = raw[keep].drop_duplicates(["utt", "tracker", "start", "end"])
    need = np.array([t.required_count for t in trackers], dtype=np.int64)[hits["tracker"].to_numpy()]
    if (need > 1).any():
        distinct = hits.groupby(["utt", "tracker"])["keyword"].transform("nunique").to_numpy()
        hits = hits[distinct >= need]
    if hits.empty:
        return pd.DataFrame(columns=HIT_COLUMNS)
    starts, ends = hits["start"].to_numpy().copy(), hits["end"].to_numpy().copy()
    u = hits["utt"].to_numpy()
    changed_set = set(changed)
    for i in np.flatnonzero(np.isin(u, list(changed_set))).tolist() if changed_set else []:
        starts[i], ends[i] = _map_back(texts[u[i]], np.array([starts[i], ends[i] - 1]))
        ends[i] += 1
    spec_t = [trackers[i] for i in hits["tracker"].tolist()]
    kw = hits["keyword"].tolist()
    start_s = utterances["start_seconds"].to_numpy(dtype=float)[u]
    end_s = utterances["end_seconds"].to_numpy(dtype=float)[u]
    length = np.maximum(np.fromiter((len(texts[i]) for i in u.tolist()), dtype=float, count=len(u)), 1.0)
    out = pd.DataFrame({
        "conversation_id": utterances["conversation_id"].to_numpy()[u],
        "seq": utterances["seq"].to_numpy()[u],
        "role": utterances["role"].astype(str).to_numpy()[u],
        "tracker": [t.name for t in spec_t],
        "category": [t.category or t.name for t in spec_t],
        "kind": [t.kind.value for t in spec_t],
        "keyword": [_keyword_label(t, k) for t, k in zip(spec_t, kw, strict=True)],
        "matched": [texts[i][s:e] for i, s, e in zip(u.tolist(), starts.tolist(), ends.tolist(), strict=True)],
        "start_char": starts, "end_char": ends,
        "hit_seconds": np.round(start_s + (end_s - start_s) * starts / length, 2),
    })
    return out.reset_index(drop=True)


def _keyword_label(spec: TrackerSpec, k: int) -> str:
    if spec.kind is TrackerKind.KEYWORD and k >= 0:
        return spec.keywords[k]
    if spec.kind is TrackerKind.SEMANTIC and k >= 0:
        return spec.examples[k]
    return spec.pattern or ""


def _in_question(norm_text: str, position: int) -> bool:
    """Is the character at ``position`` inside a question sentence?"""
    begin = 0
    for m in re.finditer(r"[.!?。！？;；\n]+", norm_text):
        if m.end() > position:
            return is_question_sentence(norm_text[begin : m.end()])
        begin = m.end()
    return is_question_sentence(norm_text[begin:])


# -- the reference loop ------------------------------------------------------------------------------------


def naive_patterns(trackers: Sequence[TrackerSpec]) -> list[tuple[int, int, re.Pattern, str]]:
    """One compiled ``re`` per keyword/regex: (tracker, keyword index, pattern, target stem or '')."""
    out = []
    for t_idx, spec in enumerate(trackers):
        if spec.kind is TrackerKind.REGEX:
            out.append((t_idx, -1, _compile(spec.pattern or ""), ""))
        elif spec.kind is TrackerKind.KEYWORD:
            for k_idx, kw in enumerate(spec.keywords):
                key, entry = _keyword_entry(t_idx, k_idx, kw, spec.word_forms)
                esc = re.escape(key)
                if entry.mode == MODE_CJK:
                    rx, target = re.compile(f"(?=({esc}))"), ""
                elif entry.mode == MODE_EXACT:
                    rx, target = re.compile(f"(?<![a-z0-9])(?=({esc})(?![a-z0-9]))"), ""
                else:
                    rx = re.compile(f"(?<![a-z0-9])(?=({esc}[a-z]*+)(?![0-9]))")
                    target = f"{entry.last_word_offset}:{entry.target_stem}"
                out.append((t_idx, k_idx, rx, target))
    return out


def naive_hits(trackers: Sequence[TrackerSpec], norm: list[str]) -> pd.DataFrame:
    """Raw hits by the obvious loop: every pattern with ``re`` over every (normalised) utterance."""
    patterns = naive_patterns(trackers)
    rows = []
    for u, text in enumerate(norm):
        for t_idx, k_idx, rx, target in patterns:
            for m in rx.finditer(text):
                if k_idx == -1:
                    if m.end() > m.start():
                        rows.append((u, t_idx, -1, m.start(), m.end()))
                    continue
                s, e = m.span(1)
                if target:
                    off, want = target.split(":", 1)
                    if stem(text[s + int(off) : e]) != want:
                        continue
                rows.append((u, t_idx, k_idx, s, e))
    frame = pd.DataFrame(rows, columns=["utt", "tracker", "keyword", "start", "end"]).astype("int64")
    return frame.sort_values(["utt", "tracker", "start", "end"], ignore_index=True)


def semantic_encoder(*, required: bool = False) -> Callable[[list[str]], np.ndarray] | None:
    """The bundled all-MiniLM-L6-v2 run in numpy (:mod:`retain.conversations.embeddings`), or None when the
    ``semantic`` extra or the model package is missing (``required=True``: raise the ModelError with its hint)."""
    from retain.conversations.embeddings import load_encoder
    from retain.errors import ModelError

    try:
        return load_encoder()
    except ModelError:
        if required:
            raise
        return None
