"""A small bilingual resolver for callback time expressions, relative to the call's start.

"call me tomorrow evening", "next Monday morning", "in two weeks", "on 3 March at 2pm", "下周一上午再打给我",
"明天晚上", "后天下午三点", "过两天" → a datetime. Day words pick the date, part-of-day words the hour (morning 9:00,
noon 12:00, afternoon 14:00, evening 18:00, tonight 19:00; 上午/早上 9, 中午 12, 下午 14, 傍晚 18, 晚上 19), clock
times override the hour ("3pm", "三点半"; a bare 1–7 o'clock in the afternoon context is read as p.m.).
A day with no time gets 10:00; a time with no day means today if still ahead, else tomorrow.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from retain.conversations.text import normalize

_EN_DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_ZH_DAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november",
     "december"])}
_MONTHS |= {m[:3]: i for m, i in list(_MONTHS.items())} | {"sept": 9}
_EN_NUM = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
           "nine": 9, "ten": 10, "couple of": 2, "a couple of": 2, "few": 3, "a few": 3}
_ZH_NUM = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
           "几": 3}
_PARTS_EN = {"morning": 9, "noon": 12, "lunchtime": 12, "lunch": 12, "afternoon": 14, "evening": 18, "tonight": 19,
             "night": 19, "end of day": 17, "eod": 17}
_PARTS_ZH = {"上午": 9, "早上": 9, "早晨": 9, "明早": 9, "中午": 12, "下午": 14, "傍晚": 18, "晚上": 19, "今晚": 19,
             "明晚": 19, "晚点": None}
DEFAULT_HOUR = 10


@dataclass(frozen=True)
class Resolved:
    due_at: dt.datetime
    expression: str
    has_day: bool
    has_time: bool


def zh_number(text: str) -> int | None:
    """Chinese or Arabic numerals up to 99: 三 → 3, 十一 → 11, 二十 → 20, 两 → 2, 12 → 12."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, units = text.partition("十")
        return (_ZH_NUM.get(tens, 1) if tens else 1) * 10 + (_ZH_NUM.get(units, 0) if units else 0)
    if len(text) == 1 and text in _ZH_NUM:
        return _ZH_NUM[text]
    return None


_ZHN = r"[零一二两三四五六七八九十几\d]{1,3}"
_EN_N = r"\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|(?:a )?couple of|(?:a )?few"


def _next_weekday(base: dt.date, weekday: int, *, next_week: bool) -> dt.date:
    if next_week:  # that day in the following Monday-based week
        monday = base - dt.timedelta(days=base.weekday()) + dt.timedelta(days=7)
        return monday + dt.timedelta(days=weekday)
    ahead = (weekday - base.weekday()) % 7 or 7
    return base + dt.timedelta(days=ahead)


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    import calendar

    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _en_day(s: str, base: dt.date) -> tuple[dt.date | None, str]:
    if m := re.search(r"\bday after tomorrow\b", s):
        return base + dt.timedelta(days=2), m.group(0)
    if m := re.search(r"\btomorrow\b", s):
        return base + dt.timedelta(days=1), m.group(0)
    if m := re.search(r"\b(?:today|tonight|later today|this (?:morning|afternoon|evening))\b", s):
        return base, m.group(0)
    if m := re.search(rf"\bin ({_EN_N}) (day|week|month)s?\b", s):
        n = int(m.group(1)) if m.group(1).isdigit() else _EN_NUM.get(m.group(1), 1)
        unit = m.group(2)
        if unit == "month":
            return _add_months(base, n), m.group(0)
        return base + dt.timedelta(days=n * (7 if unit == "week" else 1)), m.group(0)
    if m := re.search(r"\b(next|this|on|coming)?\s*(" + "|".join(_EN_DAYS) + r")\b", s):
        next_week = m.group(1) == "next" or bool(re.search(r"\bnext week\b", s))  # "next week, maybe Wednesday"
        return _next_weekday(base, _EN_DAYS.index(m.group(2)), next_week=next_week), m.group(0).strip()
    if m := re.search(r"\bnext week\b", s):
        return _next_weekday(base, 0, next_week=True), m.group(0)
    if m := re.search(r"\bnext month\b", s):
        return _add_months(base, 1).replace(day=1), m.group(0)
    if m := re.search(r"\b(?:end of (?:the )?week|friday)\b", s):
        return base + dt.timedelta(days=(4 - base.weekday()) % 7), m.group(0)
    months = "|".join(sorted(_MONTHS, key=len, reverse=True))
    day_month = rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?({months})\b|\b({months}) (\d{{1,2}})(?:st|nd|rd|th)?\b"
    if m := re.search(day_month, s):
        day, month = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        return _dated(base, _MONTHS[month], int(day)), m.group(0)
    return None, ""


def _dated(base: dt.date, month: int, day: int) -> dt.date | None:
    try:
        candidate = dt.date(base.year, month, day)
    except ValueError:
        return None
    return candidate if candidate >= base else candidate.replace(year=base.year + 1)


def _zh_day(s: str, base: dt.date) -> tuple[dt.date | None, str]:
    if m := re.search(r"大后天", s):
        return base + dt.timedelta(days=3), m.group(0)
    if m := re.search(r"后天", s):
        return base + dt.timedelta(days=2), m.group(0)
    if m := re.search(r"明天|明早|明晚|明儿", s):
        return base + dt.timedelta(days=1), m.group(0)
    if m := re.search(r"今天|今晚|今儿", s):
        return base, m.group(0)
    if m := re.search(r"(下下|下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天末])", s):
        prefix = m.group(1) or ""
        day = _next_weekday(base, _ZH_DAYS[m.group(2)], next_week=prefix.startswith("下"))
        if prefix == "下下":
            day += dt.timedelta(days=7)
        if prefix in ("这", "这个", "本"):
            day = base - dt.timedelta(days=base.weekday()) + dt.timedelta(days=_ZH_DAYS[m.group(2)])
        return day, m.group(0)
    if m := re.search(rf"({_ZHN})(?:个)?(天|周|星期|礼拜|月)(?:以?后|之后)", s):
        n = zh_number(m.group(1)) or 1
        if m.group(2) == "月":
            return _add_months(base, n), m.group(0)
        return base + dt.timedelta(days=n * (1 if m.group(2) == "天" else 7)), m.group(0)
    if m := re.search(r"过(两|几|一)天", s):
        return base + dt.timedelta(days={"两": 2, "几": 3, "一": 1}[m.group(1)]), m.group(0)
    if m := re.search(r"下下(?:周|个?星期|个?礼拜)", s):
        return _next_weekday(base, 0, next_week=True) + dt.timedelta(days=7), m.group(0)
    if m := re.search(r"下(?:周|个?星期|个?礼拜)", s):
        return _next_weekday(base, 0, next_week=True), m.group(0)
    if m := re.search(r"下个?月", s):
        return _add_months(base, 1).replace(day=1), m.group(0)
    if m := re.search(rf"({_ZHN})月({_ZHN})[日号]", s):
        month, day = zh_number(m.group(1)), zh_number(m.group(2))
        if month and day:
            return _dated(base, month, day), m.group(0)
    if m := re.search(rf"({_ZHN})[日号]", s):
        day = zh_number(m.group(1))
        if day:
            candidate = _dated(base, base.month, day) if day >= base.day else None
            return candidate or _dated(base, base.month % 12 + 1, day), m.group(0)
    return None, ""


def _en_time(s: str) -> tuple[int | None, int, str]:
    if m := re.search(r"\b(?:at |around |after )?(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)", s):
        hour = int(m.group(1)) % 12 + (12 if m.group(3).startswith("p") else 0)
        return hour, int(m.group(2) or 0), m.group(0)
    part = None
    for word, hour in _PARTS_EN.items():
        if re.search(rf"\b{word}\b", s):
            part = (hour, word)
            break
    if m := re.search(r"\b(?:at|around|after) (\d{1,2})(?::(\d{2}))?(?! ?(?:day|week|month|%|percent))\b", s):
        hour = int(m.group(1))
        if hour <= 7 or (part and part[0] >= 12 and hour < 12):
            hour += 12
        return hour, int(m.group(2) or 0), m.group(0)
    if part:
        return part[0], 0, part[1]
    return None, 0, ""


def _zh_time(s: str) -> tuple[int | None, int, str]:
    part_hour, part_word = None, ""
    for word, hour in _PARTS_ZH.items():
        if word in s and hour is not None:
            part_hour, part_word = hour, word
            break
    if m := re.search(rf"({_ZHN})(?:点|:00|时)(半|一刻|({_ZHN})分?)?", s):
        hour = zh_number(m.group(1))
        if hour is not None and hour <= 24:
            minute = 30 if m.group(2) == "半" else 15 if m.group(2) == "一刻" else zh_number(m.group(3) or "") or 0
            if (part_hour is not None and part_hour >= 12 and hour < 12) or (part_hour is None and 1 <= hour <= 6):
                hour += 12
            return hour % 24, minute, (part_word + m.group(0)) if part_word else m.group(0)
    return part_hour, 0, part_word


def resolve(text: str, started_at: dt.datetime) -> Resolved | None:
    """The follow-up time a sentence asks for, or None when it names no time."""
    s = normalize(text)
    base = started_at.date()
    zh = bool(re.search(r"[\u4e00-\u9fff]", s))
    day, day_text = (_zh_day if zh else _en_day)(s, base)
    hour, minute, time_text = (_zh_time if zh else _en_time)(s)
    if day is None and hour is None:
        if zh and re.search(r"晚点|等会|待会|一会儿", s):  # "later today": two hours on
            due = started_at + dt.timedelta(hours=2)
            return Resolved(due.replace(second=0, microsecond=0), "晚点", True, False)
        if not zh and re.search(r"\blater\b", s):
            due = started_at + dt.timedelta(hours=2)
            return Resolved(due.replace(second=0, microsecond=0), "later", True, False)
        return None
    if day is None:
        candidate = dt.datetime.combine(base, dt.time(hour or DEFAULT_HOUR, minute), started_at.tzinfo)
        day = base if candidate > started_at else base + dt.timedelta(days=1)
    due = dt.datetime.combine(day, dt.time(DEFAULT_HOUR if hour is None else hour, minute), started_at.tzinfo)
    sep = "" if zh else " "
    expression = day_text + (sep + time_text if time_text and time_text not in day_text else "")
    return Resolved(due, expression.strip(), day_text != "", hour is not None)
