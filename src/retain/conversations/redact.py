"""PII redaction before storage: phone numbers, e-mails, ID numbers and card numbers, English and Chinese.

Each finding is replaced by a bracketed label (``[PHONE]``, ``[EMAIL]``, ``[ID]``, ``[CARD]``). ID and card numbers
are validated (Chinese resident ID checksum, Luhn) so order numbers and amounts stay readable. Full-width digits
are folded first (``１３８…`` is a phone number too).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_FOLD = str.maketrans({chr(0xFF10 + i): str(i) for i in range(10)} | {"＠": "@", "＋": "+", "－": "-", "．": "."})

_PATTERNS: tuple[tuple[str, str], ...] = (
    ("EMAIL", r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"),
    ("CNID", r"(?<![0-9])[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
             r"[0-9]{3}[0-9Xx](?![0-9])"),
    ("CARD", r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])"),
    ("CNMOBILE", r"(?<![0-9])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])"),
    ("SSN", r"(?<![0-9])(?!000|666|9[0-9]{2})[0-9]{3}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}(?![0-9])"),
    ("PHONE", r"(?<![0-9\w])(?:\+[1-9][0-9]{0,2}[ .-]?)?(?:\([0-9]{2,4}\)[ .-]?|[0-9]{2,4}[ .-])"
              r"[0-9]{3,4}[ .-]?[0-9]{3,4}(?![0-9])"),
)
_COMBINED = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _PATTERNS))
_LABEL = {"EMAIL": "[EMAIL]", "CNID": "[ID]", "SSN": "[ID]", "CARD": "[CARD]", "CNMOBILE": "[PHONE]",
          "PHONE": "[PHONE]"}
_PREFILTER = re.compile(r"@|[0-9](?:[ ().+-]*[0-9]){6}")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


@dataclass(frozen=True)
class Finding:
    kind: str  # EMAIL, PHONE, ID, CARD
    start: int
    end: int


def cn_id_valid(number: str) -> bool:
    """Checksum of an 18-digit Chinese resident identity number (GB 11643)."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17].upper()


def luhn_valid(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def find_pii(text: str) -> list[Finding]:
    """Every PII span in ``text`` (positions in the original string)."""
    folded = (text or "").translate(_FOLD)
    if not _PREFILTER.search(folded):
        return []
    found: list[Finding] = []
    for m in _COMBINED.finditer(folded):
        kind = m.lastgroup or ""
        value = m.group(0)
        if kind == "CNID" and not cn_id_valid(value):
            continue
        if kind == "CARD" and not luhn_valid(value):
            # not a card: may still be a phone number written with separators
            sub = _COMBINED_PHONE.search(value) if sum(c.isdigit() for c in value) <= 13 else None
            if sub:
                found.append(Finding("PHONE", m.start() + sub.start(), m.start() + sub.end()))
            continue
        found.append(Finding(_LABEL[kind].strip("[]"), m.start(), m.end()))
    return found


_COMBINED_PHONE = re.compile(f"(?:{dict(_PATTERNS)['CNMOBILE']})|(?:{dict(_PATTERNS)['PHONE']})")


def redact(text: str) -> str:
    """``text`` with every PII span replaced by its label."""
    findings = find_pii(text)
    if not findings:
        return text
    parts, last = [], 0
    for f in findings:
        parts.append(text[last : f.start])
        parts.append(f"[{f.kind}]")
        last = f.end
    parts.append(text[last:])
    return "".join(parts)


def redact_many(texts: Iterable[str]) -> list[str]:
    """Batch form of :func:`redact` (a cheap prefilter skips the ~all utterances without digits or '@')."""
    return [redact(t) if t and _PREFILTER.search(t.translate(_FOLD)) else t for t in texts]
