"""Survey analytics: response rates, NPS/CSAT/CES trends with intervals, and what comments say.

- **Response rates** (by programme, touchpoint or segment) come from the invitations and answers of the
  application database, grouped in SQL; rates carry Wilson 95 % intervals.
- **Trends** read every answer in the warehouse's ``survey_responses`` (Retain's and imported ones) as of a day,
  per month, in the engine: NPS = % promoters - % detractors with the normal interval of a difference of
  multinomial shares, ``1.96 * sqrt((p + d - (p - d)^2) / n)``; CSAT = % satisfied (4-5) and CES = % easy (5-7)
  with Wilson intervals.
- **Themes**: recurring words of the comments (jieba for Chinese, stemmed English), per language, each with how
  often it comes up, the mean sentiment of its comments (VADER / SnowNLP, from the conversation text tools) and
  the share of its comments from detractors.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import ibis
import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from retain.models.survey_insight import wilson
from retain.state.models import AccountSnapshot
from retain.state.surveys import SurveyAnswer, SurveyInvitation
from retain.surveys.actions import BANDS
from retain.surveys.spec import SurveyType
from retain.warehouse import Warehouse

Z = 1.96
RATE_DIMENSIONS = ("programme", "touchpoint", "segment")
MIN_THEME_COMMENTS = 2
THEMES_PER_LANGUAGE = 15
TREND_MONTHS = 24


def response_rates(db: Session, by: str = "programme", since: dt.date | None = None) -> pd.DataFrame:
    """Invitations, answers and the response rate (with its interval) per value of ``by``."""
    if by not in RATE_DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(RATE_DIMENSIONS)}")
    inv, ans = SurveyInvitation, SurveyAnswer
    key = func.coalesce(AccountSnapshot.segment, "(unknown)") if by == "segment" else getattr(inv, by)
    stmt = select(key.label("value"), func.count(inv.id), func.count(ans.id)).select_from(inv).outerjoin(
        ans, ans.invitation_id == inv.id)
    if by == "segment":
        stmt = stmt.outerjoin(AccountSnapshot, AccountSnapshot.account_id == inv.account_id)
    if since is not None:
        stmt = stmt.where(inv.sent_on >= since)
    rows = db.execute(stmt.group_by(key).order_by(key)).all()
    frame = pd.DataFrame(rows, columns=["value", "invited", "answered"])
    n = frame["invited"].to_numpy(dtype=float)
    k = frame["answered"].to_numpy(dtype=float)
    lo, hi = wilson(k, n)
    return frame.assign(dimension=by, rate=np.divide(k, n, out=np.zeros_like(n), where=n > 0), rate_lo=lo,
                        rate_hi=hi)[["dimension", "value", "invited", "answered", "rate", "rate_lo", "rate_hi"]]


def trends(wh: Warehouse, day: dt.date, months: int = TREND_MONTHS) -> pd.DataFrame:
    """Per survey type and month (the last ``months``): responses, promoters, detractors, score and interval."""
    start = (day.replace(day=1) - dt.timedelta(days=31 * (months - 1))).replace(day=1)
    r = wh.as_of("survey_responses", day)
    r = r.filter(r.responded_at.date() >= ibis.literal(start, type="date"))
    worst = ibis.cases(*((r.survey_type == t.value, BANDS[t][0]) for t in SurveyType), else_=-1)
    best = ibis.cases(*((r.survey_type == t.value, BANDS[t][1]) for t in SurveyType), else_=99)
    month = r.responded_at.truncate("M").cast("date")
    r = r.mutate(period_start=month, low=(r.score <= worst).cast("int64"), high=(r.score >= best).cast("int64"))
    agg = wh.execute(r.group_by(["survey_type", "period_start"]).aggregate(
        responses=r.count(), detractors=r.low.sum(), promoters=r.high.sum(), mean_score=r.score.mean(),
    ).order_by(["survey_type", "period_start"]))
    return score_with_interval(agg)


def score_with_interval(agg: pd.DataFrame) -> pd.DataFrame:
    """Adds ``score``, ``score_lo``, ``score_hi`` (NPS in points -100..100; CSAT/CES as % satisfied) and ``period``."""
    n = agg["responses"].to_numpy(dtype=float)
    p = np.divide(agg["promoters"].to_numpy(dtype=float), n, out=np.zeros_like(n), where=n > 0)
    d = np.divide(agg["detractors"].to_numpy(dtype=float), n, out=np.zeros_like(n), where=n > 0)
    nps = agg["survey_type"].to_numpy() == SurveyType.NPS.value
    half = Z * np.sqrt(np.maximum(p + d - (p - d) ** 2, 0) / np.maximum(n, 1))
    lo_w, hi_w = wilson(agg["promoters"].to_numpy(dtype=float), n)
    out = agg.copy()
    out["score"] = np.where(nps, 100 * (p - d), 100 * p)
    out["score_lo"] = np.where(nps, 100 * np.maximum(p - d - half, -1), 100 * lo_w)
    out["score_hi"] = np.where(nps, 100 * np.minimum(p - d + half, 1), 100 * hi_w)
    out["period"] = pd.to_datetime(out["period_start"]).dt.strftime("%Y-%m")
    return out


def comments(wh: Warehouse, day: dt.date, since_days: int = 365) -> pd.DataFrame:
    """Comments of the last ``since_days`` (survey_type, score, comment), filtered in the engine."""
    r = wh.as_of("survey_responses", day)
    since = ibis.literal(day - dt.timedelta(days=since_days), type="date")
    r = r.filter(r.comment.notnull() & (r.comment.strip() != "") & (r.responded_at.date() > since))
    return wh.execute(r.select("survey_type", "score", "comment"))


def themes(frame: pd.DataFrame, per_language: int = THEMES_PER_LANGUAGE) -> pd.DataFrame:
    """Recurring words of the comments per language: mentions, mean sentiment, share from detractors.

    A word is a theme when at least :data:`MIN_THEME_COMMENTS` comments use it; stop words and one-letter words
    never are. Comments are short, so this is the set of their words, not a model."""
    from retain.conversations.sentiment import sentiment_scores
    from retain.conversations.text import detect_language, stem, tokens

    columns = ["language", "theme", "mentions", "sentiment", "detractor_share"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    texts = frame["comment"].astype(str).tolist()
    sentiment = sentiment_scores(texts)
    detractor = [score <= BANDS[SurveyType(t)][0] for t, score in zip(frame["survey_type"], frame["score"],
                                                                       strict=True)]
    seen: dict[tuple[str, str], set[int]] = defaultdict(set)
    surface: dict[tuple[str, str], Counter] = defaultdict(Counter)  # the words behind a stem, to show the usual one
    for i, text in enumerate(texts):
        lang = detect_language(text)
        for word in tokens(text):
            word = word.lower()
            if len(word) < 2 or word.isdigit() or word in _STOP:
                continue
            key = (lang, word if lang == "zh" else stem(word))
            seen[key].add(i)
            surface[key][word] += 1
    rows = [{"language": lang, "theme": surface[(lang, key)].most_common(1)[0][0], "mentions": len(ix),
             "sentiment": float(np.mean(sentiment[sorted(ix)])),
             "detractor_share": float(np.mean([detractor[i] for i in ix]))}
            for (lang, key), ix in seen.items() if len(ix) >= MIN_THEME_COMMENTS]
    out = pd.DataFrame(rows, columns=columns)
    if out.empty:
        return out
    out = out.sort_values(["language", "mentions", "theme"], ascending=[True, False, True])
    return out.groupby("language", sort=True).head(per_language).reset_index(drop=True)


def language_counts(frame: pd.DataFrame) -> Counter:
    from retain.conversations.text import detect_language

    return Counter(detect_language(str(t)) for t in frame["comment"])


_STOP = frozenset({
    "the", "a", "an", "and", "or", "but", "to", "of", "in", "on", "for", "with", "is", "are", "was", "were", "be",
    "been", "it", "this", "that", "we", "you", "they", "my", "our", "your", "their", "me", "us", "them", "at", "by",
    "as", "from", "not", "no", "so", "very", "too", "just", "have", "has", "had", "do", "did", "does", "can", "could",
    "would", "will", "should", "all", "any", "some", "more", "most", "much", "many", "also", "than", "then", "there",
    "here", "what", "which", "who", "how", "when", "why", "about", "into", "out", "up", "down", "over", "again",
    "only", "own", "same", "such", "its", "it's", "i'm", "don't", "dont", "get", "got", "make", "made", "thing",
    "things", "really",
    "的", "了", "是", "在", "我", "我们", "你", "你们", "他们", "和", "也", "都", "就", "很", "有", "没有", "不", "这",
    "那", "吗", "呢", "吧", "啊", "还", "要", "会", "能", "对", "与", "及", "但", "而",
})


def counts(db: Session) -> dict[str, int]:
    """Invitations, answers, answers still waiting for the warehouse, and opt-outs (the Surveys page's header)."""
    from retain.state.surveys import SurveyOptOut

    one = db.execute(select(
        select(func.count(SurveyInvitation.id)).scalar_subquery(),
        select(func.count(SurveyAnswer.id)).scalar_subquery(),
        select(func.count(SurveyAnswer.id)).where(SurveyAnswer.warehouse_at.is_(None)).scalar_subquery(),
        select(func.count(SurveyOptOut.contact_id)).scalar_subquery())).one()
    return dict(zip(("invited", "answered", "pending", "opted_out"), map(int, one), strict=True))
