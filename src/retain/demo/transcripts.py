"""Call scripts in English and Chinese: beats a call can contain, each a rep line and/or a customer line.

Placeholders: {rep} {customer} {company} {product} {price} {competitor} {phone} {email} {dm} {quarter}.
A beat's lines are alternatives; one is picked per call. The conversation generator decides which beats a call
has from the deal's facts (won or lost, competitor, budget, callback...), so the words reflect the deal.
"""

from __future__ import annotations

# beat -> (rep lines EN, customer lines EN, rep lines ZH, customer lines ZH); an empty tuple skips that side
BEATS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "opener_how_are_you": (
        ("Hi {customer}, this is {rep} from Retain. How are you doing today?",
         "Hello {customer}, {rep} calling from Retain. How are you doing?"),
        ("Fine, thanks. What is this about?", "Busy, to be honest. What do you need?"),
        ("{customer}您好，我是Retain的{rep}，最近怎么样？", "您好，我是Retain的{rep}，您今天好吗？"),
        ("还行吧，有什么事？", "挺忙的，您有什么事？"),
    ),
    "opener_direct": (
        ("Hi {customer}, {rep} from Retain. I'm calling because teams like {company} lose revenue when customers "
         "go quiet, and we help spot that early. Do you have two minutes?",
         "Hi {customer}, it's {rep} at Retain. I noticed {company} is growing its customer success team, so I "
         "wanted to share how others cut churn. Is now a good time?"),
        ("Sure, go ahead.", "I have a couple of minutes."),
        ("{customer}您好，我是Retain的{rep}。很多像{company}这样的企业客户流失发现得太晚，我们帮助提前预警，"
         "您方便聊两分钟吗？",),
        ("可以，您说。", "好的，我有几分钟。"),
    ),
    "opener_meeting": (
        ("Thanks for making time today, {customer}. Shall we start with what you have seen so far?",
         "Good to see you again, {customer}. I'd like to hear how things are going on your side first."),
        ("Sure, let's start.", "Yes, happy to."),
        ("{customer}您好，感谢今天抽时间。我们先聊聊您这边的情况？",),
        ("好的，开始吧。", "可以。"),
    ),
    "disclosure": (
        ("Before we go on: this call is being recorded for quality and training purposes.",
         "Just so you know, this call is recorded for quality purposes.",
         "Quick note before we start, this call may be recorded for quality purposes."),
        ("That's fine.", "Okay, no problem.", "Sure."),
        ("开始之前提醒一下，本次通话会被录音，用于提升服务质量。", "提醒您一下，本次通话将被录音。"),
        ("好的。", "没问题。"),
    ),
    "discovery_question": (
        ("How do you track renewals today?", "What happens when a customer stops using the product?",
         "Who else is involved when you choose a tool like this?", "What would success look like in six months?",
         "How many people are on your customer success team?", "What made you look at this now?",
         "How do you decide which accounts get attention each week?"),
        ("Mostly spreadsheets. Honestly we find out too late: last quarter two big customers left and nobody saw "
         "it coming until the cancellation e-mail arrived.",
         "Each CSM has their own way. Some look at logins, some just go by gut feeling, and our managers cannot "
         "compare one book with another.",
         "Our VP of customer success and finance both need to agree, and IT will review security.",
         "If we could cut churn by a few points and know which accounts to call every Monday, that would be a win.",
         "We have about twelve people, and every one of them complains about manual reporting."),
        ("你们现在是怎么跟进续约的？", "客户不怎么用产品的时候，你们会怎么处理？", "这类工具一般还有谁参与决策？",
         "半年以后怎样算是成功？", "你们客户成功团队有多少人？", "为什么现在开始考虑这个问题？"),
        ("主要靠表格，说实话发现得太晚了。上个季度有两个大客户流失，直到收到解约邮件我们才知道。",
         "每个客户经理做法都不一样，有的看登录，有的凭感觉，管理层没法比较。",
         "客户成功负责人和财务都要同意，IT还要做安全审核。",
         "如果流失率能降几个点，每周一知道该联系哪些客户，就算成功了。",
         "我们大概十二个人，大家都在抱怨手工做报表太累。"),
    ),
    "pitch_short": (
        ("Retain puts usage, tickets, surveys and billing into one health score, and tells each CSM who to call "
         "today and why.",),
        ("Interesting. How does that work with our data?",),
        ("Retain把使用数据、工单、调研和账单整合成一个健康分，每天告诉客户经理该联系谁、为什么。",),
        ("有意思，怎么接我们的数据？",),
    ),
    "pitch_long": (
        ("Let me walk you through the whole platform. We have health scores, and those combine usage, support "
         "tickets, survey answers and billing. Then there is a churn model, gradient boosting, calibrated, with "
         "reason codes. We also do customer lifetime value, cohort retention, revenue waterfalls, a call "
         "analytics module, lead recovery, tag suggestions, a dashboard with roles and alerts, exports, an API, "
         "and it runs on DuckDB or Postgres or Spark, so really whatever you have we can plug into it.",),
        ("Okay.", "Right."),
        ("我给您完整介绍一下我们的平台。我们有健康分，整合了使用数据、工单、调研和账单；还有流失预测模型，"
         "带原因解释；还有客户终身价值、留存分析、收入瀑布、通话分析、线索挽回、标签建议、带权限和提醒的看板、"
         "导出、接口，而且支持各种数据库，基本上您有什么数据我们都能接。",),
        ("嗯。", "好的。"),
    ),
    "pricing": (
        ("For a team your size the {product} plan would be about {price} dollars per user per month.",
         "Pricing for {product} is {price} dollars per licence per month, billed yearly."),
        ("That is more than we expected.", "What discount can you offer if we sign this quarter?",
         "That sounds reasonable for what it does."),
        ("按你们的规模，{product}大概每个用户每月{price}美元。",
         "{product}的价格是每个账号每月{price}美元，按年付费。"),
        ("比我们预期的贵一些。", "这个季度签的话能给多少折扣？", "这个价格可以接受。"),
    ),
    "competitor": (
        ("Compared with {competitor}, our scores are backtested on your own history, so you can check they work.",),
        ("We are also looking at {competitor}; they quoted us less.",
         "We currently use {competitor} for part of this."),
        ("和{competitor}相比，我们的健康分会在您自己的历史数据上回测，效果可以验证。",),
        ("我们也在看{competitor}，他们报价更低。", "我们现在部分在用{competitor}。"),
    ),
    "objection": (
        ("I understand. Most teams start with one segment and see results within a month.",),
        ("I'm not sure we have the time to roll out a new tool this quarter.",
         "Honestly, I don't see how this is different from what we have.", "Security review takes ages here."),
        ("理解。很多团队先从一个客户群开始，一个月内就能看到效果。",),
        ("这个季度我们可能没有精力上新系统。", "说实话，我看不出这和我们现在用的有什么区别。",
         "我们这边安全审核很慢。"),
    ),
    "budget_yes": (
        ("Is there budget set aside for this?",),
        ("Yes, we have budget approved for this in Q{quarter}.", "We have budget for a tool like this this year."),
        ("这个项目有预算吗？",),
        ("有的，今年这个项目已经有预算了。", "预算已经批了，第{quarter}季度可以用。"),
    ),
    "budget_no": (
        ("Is there budget set aside for this?",),
        ("To be honest, there is no budget for this right now.", "We would have to find budget, nothing is planned."),
        ("这个项目有预算吗？",),
        ("说实话，目前没有这方面的预算。", "暂时没有预算，需要再申请。"),
    ),
    "decision_maker": (
        ("Who will make the final decision?",),
        ("{dm} signs off on this; I'll bring them into the next call.", "I make the decision, with finance."),
        ("最后谁来拍板？",),
        ("最后拍板的是我们{dm}，下次我拉他一起。", "我来决定，财务那边走个流程。"),
    ),
    "contact_details": (
        ("What is the best way to reach you?",),
        ("You can reach me at {phone} or {email}.", "E-mail me at {email}, or call {phone}."),
        ("之后怎么联系您比较方便？",),
        ("我的手机是{phone}，邮箱{email}。", "发邮件到{email}，或者打{phone}。"),
    ),
    "callback": (
        ("Sure, I'll call you then.", "No problem, talk then."),
        ("I'm in a meeting right now, could you call me back next Monday morning?", "Can you call me tomorrow evening?",
         "Please call me back on Thursday afternoon.", "Call me next week, maybe Wednesday."),
        ("好的，到时候再打给您。", "没问题，到时候联系。"),
        ("我现在在开会，下周一上午再打给我吧。", "明天晚上再联系我吧。", "周四下午再打过来可以吗？",
         "下周三再给我打电话。"),
    ),
    "health_good": (
        ("How is the team getting on with Retain?",),
        ("The team uses it every day, and the Monday risk list has become our ritual.",
         "Really well. We caught three at-risk accounts last month."),
        ("团队用得怎么样？",),
        ("团队每天都在用，每周一的风险清单已经成了习惯。", "很好，上个月提前发现了三个风险客户。"),
    ),
    "health_bad": (
        ("How is the team getting on with Retain?",),
        ("Usage has dropped since our champion left, and we are questioning the value.",
         "Frankly, we have had too many problems and the team stopped logging in."),
        ("团队用得怎么样？",),
        ("我们的负责人离职以后用得少了，大家在质疑价值。", "说实话问题太多，团队都不怎么登录了。"),
    ),
    "next_steps": (
        ("Next step: I'll send a proposal by Friday and we'll meet again next Tuesday with your team.",
         "Let's agree next steps: a trial on one segment starting Monday, and a review call in two weeks."),
        ("Sounds good.", "Great, put it in the calendar."),
        ("下一步我周五前把方案发给您，下周二再和您团队开个会。", "我们约定一下：下周一开始试用，两周后复盘。"),
        ("好的，没问题。", "可以，发个日程给我。"),
    ),
    "close": (
        ("Thanks for your time, {customer}.", "Thank you, talk soon."),
        ("Thanks, bye.", "Bye."),
        ("谢谢您的时间，再见。",),
        ("好的，再见。",),
    ),
}
BEAT_NAMES = tuple(BEATS)
