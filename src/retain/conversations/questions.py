"""Question detection in English and Chinese, per sentence, with no model.

English: a question mark, a wh-word opening (what/why/how..., but not "when we spoke, ..."), or auxiliary
inversion ("do you", "could we", "is it"...). Chinese: '？', sentence-final particles 吗/么/呢 and tag forms 对吧/是吧,
question words 什么/怎么/为什么/多少/哪/谁/多久 (not their indefinite uses 什么都/没什么), and A-not-A forms
是不是/有没有/能不能/可不可以/要不要.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from retain.conversations.text import has_cjk, normalize

_SPLIT = re.compile(r"(?<=[.!?。！？;；])\s*|\n+")
_EN_WH = re.compile(r"^(?:so|and|but|ok|okay|well|also|then|now)?[, ]*(what|why|how|which|who|whom|whose|when|where)\b")
_EN_AUX = re.compile(
    r"^(?:so|and|but|ok|okay|well|also|then|now)?[, ]*"
    r"(?:do|does|did|is|are|was|were|can|could|would|will|should|shall|have|has|had|may|might|am|isn't|aren't|"
    r"don't|doesn't|didn't|won't|wouldn't|can't|couldn't|haven't|hasn't)\s+"
    r"(?:you|we|i|they|he|she|it|that|this|there|your|the|anyone|someone|anybody|y'all)\b"
)
_EN_MODAL = re.compile(r"^(?:would|could|can|will|does|did|is|are|was|were)\s+(?!be\b)\w+(?:\s+\S+){2,}")
_EN_EXCLAIM = re.compile(r"^(?:what an? |how (?:nice|great|cool|lovely|wonderful|kind|interesting)\b)")
_EN_CLAUSE = re.compile(r"^(?:what|how|where|why|when)\s+(?:we|i|you|they|he|she|it)\s+(?!doing\b)")
_EN_TAG = re.compile(r",\s*(?:right|correct|isn't it|don't you|aren't you|is that right|no)\s*$")
_EN_INDIRECT = re.compile(
    r"^(?:i was wondering|i wonder|tell me (?:about|how|what|why)|can you tell me|any (?:idea|thoughts))\b"
)
_ZH_FINAL = re.compile(r"(?:吗|么|嘛|呢|对吧|是吧|好吗|行吗|的吧|了吧)[\s。．.!！~～…]*$")
_ZH_WORD = re.compile(
    r"什么|怎么|怎样|为什么|为何|多少|哪|谁|多久|多大|几点|几号|几天|几个|几位|几家|如何|是否|"
    r"(.)不\1|可不可以|有没有|能不能|会不会|要不要|对不对|好不好|行不行"
)
_ZH_NOT_Q = re.compile(r"什么都|什么也|没什么|怎么都|怎么也|不管|无论|哪里哪里|不知道|谁都|哪儿都|哪都")


def sentences(text: str) -> list[str]:
    return [s for s in (p.strip() for p in _SPLIT.split(text or "")) if s]


def is_question_sentence(sentence: str) -> bool:
    s = normalize(sentence).strip()
    if not s:
        return False
    if s.endswith("?"):  # NFKC folds '？' to '?'
        return True
    if has_cjk(s):
        if _ZH_FINAL.search(s):
            return True
        return bool(_ZH_WORD.search(s)) and not _ZH_NOT_Q.search(s)
    if _EN_EXCLAIM.match(s):
        return False
    s = s.rstrip(".!… ")
    if _EN_CLAUSE.match(s):  # "how we onboard customers is...", "where we struggle is..."
        return False
    wh = _EN_WH.match(s)
    if wh:
        # "when we spoke last week, you said..." is a clause, not a question
        return not (wh.group(1) in {"when", "where", "which", "who", "whom", "whose", "how"} and "," in s)
    return bool(_EN_AUX.match(s) or _EN_MODAL.match(s) or _EN_TAG.search(s) or _EN_INDIRECT.match(s))


def count_questions(text: str) -> int:
    """Number of question sentences in one utterance."""
    return sum(is_question_sentence(s) for s in sentences(text))


def question_counts(texts: Iterable[str]) -> list[int]:
    return [count_questions(t) for t in texts]
