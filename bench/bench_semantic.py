"""Semantic trackers: all-MiniLM-L6-v2 in numpy, sentences per second on this machine.

    /work/main/.venv/bin/python bench/bench_semantic.py [--small] [--dump FILE]

Utterances are the demo company's call lines (English and Chinese, placeholders filled, seeded). Prints encoder
throughput with 1 and 2 BLAS threads (CPU and wall), then the semantic-tracker path (speaker scope, distinct texts
only) against the baseline of encoding every utterance, in the same run. ``--dump`` writes the texts as JSON so
that another encoder (sentence-transformers in a separate venv) can be timed on the same input.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np
import pandas as pd

from retain.conversations.embeddings import load_encoder
from retain.conversations.tracker_spec import TrackerSpec
from retain.conversations.trackers import TrackerMatcher
from retain.demo.transcripts import BEATS

FILL = {"rep": "Anna", "customer": "Tom", "company": "Acme", "product": "Retain Pro", "price": "$49",
        "competitor": "Gainsight", "phone": "[PHONE]", "email": "[EMAIL]", "dm": "our CFO", "quarter": "Q3"}


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def utterances(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """``n`` call lines drawn from the demo beats (about 30 % Chinese), with a suffix so most texts are distinct."""
    lines, roles = [], []
    for rep_en, cust_en, rep_zh, cust_zh in BEATS.values():
        for group, role in ((rep_en, "rep"), (cust_en, "customer"), (rep_zh, "rep"), (cust_zh, "customer")):
            lines += [line.format_map(FILL) for line in group]
            roles += [role] * len(group)
    pick = rng.integers(0, len(lines), n)
    suffix = rng.choice(["", " Okay.", " Right.", " 好的。", " Thanks."], n, p=[0.6, 0.1, 0.1, 0.1, 0.1])
    texts = [lines[i] + s for i, s in zip(pick.tolist(), suffix.tolist(), strict=True)]
    return pd.DataFrame({"conversation_id": "c", "seq": np.arange(n), "role": np.asarray(roles)[pick],
                         "start_seconds": 0.0, "end_seconds": 5.0, "text": texts})


def timed(fn):
    t0, c0 = time.perf_counter(), _cpu()
    out = fn()
    return out, time.perf_counter() - t0, _cpu() - c0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--small", action="store_true", help="500 utterances instead of 3,000")
    parser.add_argument("--dump", help="write the encoder benchmark's texts to this JSON file")
    args = parser.parse_args()
    n = 500 if args.small else 3_000
    utt = utterances(n, np.random.default_rng(42))
    texts = utt["text"].tolist()
    if args.dump:
        with open(args.dump, "w", encoding="utf-8") as fh:
            json.dump(texts, fh, ensure_ascii=False)
    enc1 = load_encoder(threads=1)
    tokens = sum(len(e.ids) for e in enc1.tokenizer.encode_batch(texts))
    print(f"{n:,} utterances ({len(set(texts)):,} distinct, {tokens / n:.1f} tokens each); cores: {os.cpu_count()}; "
          f"load average {os.getloadavg()[0]:.1f}")
    enc1(texts[:64])  # warm up
    for threads in (1, 2):
        enc = load_encoder(threads=threads)
        _, wall, cpu = timed(lambda enc=enc: enc(texts))
        print(f"encoder, {threads} BLAS thread(s): {wall:7.2f} s wall, {cpu:7.2f} s CPU -> {n / wall:6.0f} "
              f"sentences/s ({n / max(cpu, 1e-9):.0f} per CPU second)")

    specs = [
        TrackerSpec(name="budget", kind="semantic", threshold=0.5, speaker="customer",
                    examples=("we need to think about the budget", "money is tight this year")),
        TrackerSpec(name="pricing_q", kind="semantic", threshold=0.55, questions_only=True,
                    examples=("how much does it cost", "what is the price per seat")),
        TrackerSpec(name="next_steps", kind="semantic", threshold=0.55, speaker="rep",
                    examples=("let's schedule a follow-up call next week", "I will send you the proposal")),
    ]
    (_, base_s, base_cpu) = timed(lambda: enc1(texts))
    hits, fast_s, fast_cpu = timed(lambda: TrackerMatcher(specs, encoder=enc1).hits(utt))
    print(f"baseline, encode every utterance:      {base_s:7.2f} s wall, {base_cpu:7.2f} s CPU")
    print(f"3 semantic trackers (scope, distinct): {fast_s:7.2f} s wall, {fast_cpu:7.2f} s CPU, {len(hits):,} hits "
          f"-> {base_s / fast_s:.1f}x")


if __name__ == "__main__":
    main()
