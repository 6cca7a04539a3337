"""Text normalisation and tokenisation for English and Chinese.

``normalize`` folds case and width (NFKC + casefold), so ``ＰＲＩＣＥ`` matches ``price`` and ``？`` matches ``?``.
``tokens`` splits English into words and Chinese with jieba; ``stem`` gives a light English word form
(prices/priced/pricing -> price) so trackers match word forms without a stemmer dependency.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def normalize(text: str) -> str:
    """Case- and width-insensitive form: NFKC then casefold. Keeps length-stable spans for ASCII/CJK text."""
    return unicodedata.normalize("NFKC", text or "").casefold()


def has_cjk(text: str) -> bool:
    return bool(_CJK.search(text or ""))


def detect_language(text: str) -> str:
    """'zh' when at least a fifth of the letters are CJK characters, else 'en'."""
    text = text or ""
    cjk = len(_CJK.findall(text))
    latin = sum(ch.isascii() and ch.isalpha() for ch in text)
    return "zh" if cjk and cjk * 5 >= (cjk + latin) else "en"


@lru_cache(maxsize=1)
def _jieba():
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


def tokens(text: str) -> list[str]:
    """Normalised tokens: English words and numbers; Chinese words cut by jieba."""
    out: list[str] = []
    for match in _WORD.finditer(normalize(text)):
        piece = match.group(0)
        if _CJK.match(piece):
            out.extend(w for w in _jieba().lcut(piece) if w.strip())
        else:
            out.append(piece)
    return out


_IRREGULAR = {
    "bought": "buy", "spent": "spend", "paid": "pay", "said": "say", "went": "go", "thought": "think",
    "sent": "send", "made": "make", "took": "take", "gave": "give", "told": "tell", "called": "call",
    "costs": "cost", "budgets": "budget", "was": "be", "were": "be", "is": "be", "are": "be", "been": "be",
}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stemmer (plural, -ing, -ed, -ly, final -e). Chinese words pass unchanged."""
    w = normalize(word)
    if w in _IRREGULAR:
        return _IRREGULAR[w]
    if not w.isascii() or len(w) <= 3:
        return w
    for suffix, repl, min_len in (
        ("ies", "y", 5), ("sses", "ss", 5), ("ing", "", 6), ("ed", "", 5), ("es", "", 5), ("ly", "", 6), ("s", "", 4),
    ):
        if w.endswith(suffix) and len(w) >= min_len and not w.endswith("ss"):
            base = w[: len(w) - len(suffix)] + repl
            if suffix in ("ing", "ed") and len(base) >= 2 and base[-1] == base[-2] and base[-1] not in "lsz":
                base = base[:-1]  # stopped -> stop, planning -> plan
            return _drop_e(base)
    return _drop_e(w)


def _drop_e(w: str) -> str:
    """price/priced/pricing all end as 'pric'; compete/competing as 'compet'."""
    return w[:-1] if len(w) > 4 and w.endswith("e") and not w.endswith("ee") else w


def word_count(text: str) -> int:
    """Words for pace: English words, plus each Chinese character counted as one 'word' (chars/min for zh)."""
    norm = normalize(text)
    return len(re.findall(r"[a-z0-9]+(?:['’][a-z]+)?", norm)) + len(_CJK.findall(norm))
