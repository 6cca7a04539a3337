"""The words customers read, in English and Chinese: the e-mail, the survey page, its answers and its errors.

A programme may override the question and the follow-up (:class:`~retain.surveys.spec.Texts`); everything else is
here, one dictionary per language with the same keys (a test checks they match).
"""

from __future__ import annotations

import os

from retain.surveys.spec import Language, ProgrammeSpec, SurveyType

WORDS: dict[Language, dict[str, str]] = {
    Language.EN: {
        "company": "us",
        "nps": "How likely are you to recommend {company} to a friend or colleague?",
        "csat": "How satisfied are you with {company}?",
        "ces": "How easy was it to get what you needed from {company}?",
        "nps_low": "Not at all likely", "nps_high": "Extremely likely",
        "csat_low": "Very dissatisfied", "csat_high": "Very satisfied",
        "ces_low": "Very difficult", "ces_high": "Very easy",
        "follow_up": "What is the main reason for your score?",
        "submit": "Send my answer",
        "subject": "A quick question from {company}",
        "reminder_subject": "Reminder: a quick question from {company}",
        "greeting": "Hello,",
        "intro": "It takes ten seconds and tells us what to improve.",
        "answer_link": "Answer the survey",
        "unsubscribe": "Do not send me surveys again",
        "valid_until": "This link is valid until {date}.",
        "thanks_title": "Thank you",
        "thanks": "Your answer was recorded. Thank you for your time.",
        "unsubscribed_title": "You are unsubscribed",
        "unsubscribed": "You will not receive surveys from {company} again.",
        "unsubscribe_title": "Stop receiving surveys?",
        "unsubscribe_confirm": "Yes, stop sending me surveys",
        "error_title": "This link cannot be used",
        "tampered": "This survey link is not valid: it was changed or cut short. Please open the link from the "
                    "e-mail again.",
        "expired": "This survey link has expired.",
        "used": "This survey has already been answered. Thank you!",
        "score_required": "Please choose a score.",
        "skip": "Skip to the question",
    },
    Language.ZH: {
        "company": "我们",
        "nps": "您有多大可能向朋友或同事推荐{company}？",
        "csat": "您对{company}的满意程度如何？",
        "ces": "从{company}获得所需帮助的过程有多容易？",
        "nps_low": "完全不可能", "nps_high": "非常可能",
        "csat_low": "非常不满意", "csat_high": "非常满意",
        "ces_low": "非常困难", "ces_high": "非常容易",
        "follow_up": "您给出这个分数的主要原因是什么？",
        "submit": "提交我的回答",
        "subject": "{company}的一个简短问题",
        "reminder_subject": "提醒：{company}的一个简短问题",
        "greeting": "您好：",
        "intro": "只需十秒钟，帮助我们了解需要改进的地方。",
        "answer_link": "回答调查",
        "unsubscribe": "不再向我发送调查",
        "valid_until": "此链接有效期至 {date}。",
        "thanks_title": "谢谢",
        "thanks": "您的回答已记录。感谢您抽出宝贵时间。",
        "unsubscribed_title": "您已退订",
        "unsubscribed": "您将不再收到{company}的调查。",
        "unsubscribe_title": "不再接收调查？",
        "unsubscribe_confirm": "是的，不再向我发送调查",
        "error_title": "此链接无法使用",
        "tampered": "此调查链接无效：链接已被修改或不完整。请重新打开邮件中的链接。",
        "expired": "此调查链接已过期。",
        "used": "此调查已经回答过了。谢谢！",
        "score_required": "请选择一个分数。",
        "skip": "跳到问题",
    },
}



def language(value: str | None) -> Language:
    """A contact's language as one Retain speaks (English when unknown)."""
    try:
        return Language((value or "en").lower()[:2])
    except ValueError:
        return Language.EN


def words(lang: str | None) -> dict[str, str]:
    return WORDS[language(lang)]


def _own(own, lang: str | None) -> str | None:
    """A programme's own wording in ``lang``: Chinese falls back to Retain's Chinese, not to the English override."""
    if own is None:
        return None
    return own.zh if language(lang) is Language.ZH else own.en


ENV_COMPANY = "RETAIN_COMPANY_NAME"


def company(name: str | None, lang: str | None) -> str:
    """The sender as the wording names it: ``name``, else ``$RETAIN_COMPANY_NAME``, else "us" in that language."""
    return name or os.environ.get(ENV_COMPANY) or words(lang)["company"]


def question(programme: ProgrammeSpec | None, survey_type: SurveyType, lang: str | None, sender: str | None) -> str:
    """The scored question: the programme's own wording in that language when it has one, else the standard one."""
    own = _own(programme.question if programme else None, lang)
    return own or words(lang)[survey_type.value].format(company=company(sender, lang))


def follow_up(programme: ProgrammeSpec | None, lang: str | None) -> str:
    return _own(programme.follow_up if programme else None, lang) or words(lang)["follow_up"]
