"""Every result Retain stores in the warehouse, declared once: columns, key, grain, producer and meaning.

A result is stored as ``result_<name>`` (see :meth:`retain.warehouse.Warehouse.store_result`), which refuses a
name declared nowhere here and a frame that does not fit its declaration.
"""

from __future__ import annotations

from retain.results.model import AdoptionTier, Grain, HealthGrade, ResultColumn, ResultSpec
from retain.results.sales_specs import SALES
from retain.results.survey_specs import SURVEYS
from retain.schema.model import DType

S, I, F, B, T, J = DType.STRING, DType.INT, DType.FLOAT, DType.BOOL, DType.TIMESTAMP, DType.JSON


def c(name: str, type_: DType, meaning: str, **kw) -> ResultColumn:
    return ResultColumn(name, type_, meaning, **kw)


def k(name: str, type_: DType, meaning: str, **kw) -> ResultColumn:
    """A key column: never null."""
    return ResultColumn(name, type_, meaning, nullable=False, **kw)


def p(name: str, meaning: str, **kw) -> ResultColumn:
    """The first moment of a calendar period: a timestamp without a zone."""
    return ResultColumn(name, T, meaning, zoned=False, **kw)


ACCOUNT = k("account_id", S, "The account.")
SCORECARD = c("scorecard", S, "Scorecard that scored the account (by its segment rules).")
WEIGHT_PCT = c("weight_pct", F, "Weight in the total after re-weighting for missing data, in percent.")
NOMINAL_WEIGHT_PCT = c("nominal_weight_pct", F, "Weight declared in the scorecard, in percent.")
DIMENSION = k("dimension", S, "Dimension the rows are split by (`all` for the whole company).")
DIMENSION_VALUE = k("dimension_value", S, "Value of that dimension (`all` for the whole company).")
PERIOD = k("period", S, "Period label: `2026-03`, `2026-Q1` or `2026`.")
PERIOD_START = p("period_start", "First day of the period.")
COMPLETE = c("complete", B, "False while the period is still running at `as_of` (a partial period).")
GRAIN = k("grain", S, "Period length: month, quarter or year.")
COHORT_KEYS = (
    DIMENSION, DIMENSION_VALUE, k("cohort", S, "Signup month of the cohort, e.g. `2026-03`."),
    p("cohort_start", "First day of the signup month."),
    k("months_since_start", I, "Months since the cohort's signup month."),
    p("month_start", "First day of that month."), COMPLETE,
    c("accounts", I, "Accounts in the cohort."),
)
CONVERSATION = k("conversation_id", S, "The call.")

HEALTH = (
    ResultSpec(
        "health_scores", "Each running account's health score, grade and critical factor.", Grain.ACCOUNT,
        ("account_id",), "retain.health.history.score", (
            ACCOUNT, SCORECARD,
            c("total", F, "Health score 0-100 after any cap."),
            c("raw_total", F, "Weighted sum of the component scores before a cap."),
            c("cap", F, "Cap set by the critical factor that fired (null when none fired)."),
            c("grade", S, "Grade of the total by the scorecard's thresholds.", vocabulary=HealthGrade),
            c("critical_factor", S, "Critical factor that fired, e.g. `champion_left` (null when none)."),
            c("segment", S, "Account segment at `as_of`."),
            c("owner_id", S, "Account owner (or CSM) at `as_of`."),
            c("arr", F, "Annual recurring revenue at `as_of`."),
            c("capped_by", S, "Critical factor that lowered the total to its cap (null when none did)."),
            c("score_note", S, "Why the total is not the weighted score: `capped at 50: champion left (180 d)`, "
                               "`default: no data`; the fired factor's reason when the total was already lower "
                               "(else null)."),
            c("churn_probability", F, "Calibrated probability of churn within the fitted scorecard's horizon of "
                                      "this total (null for an uncalibrated scorecard, e.g. the shipped default)."),
        )),
    ResultSpec(
        "health_components", "Each account's score per health component.", Grain.ACCOUNT_COMPONENT,
        ("account_id", "component"), "retain.health.history.score", (
            ACCOUNT, SCORECARD, k("component", S, "Health component, e.g. usage, support, relationship."),
            c("score", F, "Component score 0-100 (null when no measure had data)."),
            WEIGHT_PCT, NOMINAL_WEIGHT_PCT,
        )),
    ResultSpec(
        "health_measures", "Each account's raw value and score per health measure.", Grain.ACCOUNT_MEASURE,
        ("account_id", "component", "measure", "key"), "retain.health.history.score", (
            ACCOUNT, SCORECARD, k("component", S, "Health component the measure belongs to."),
            k("measure", S, "Measure name as in the scorecard."),
            k("key", S, "Measure key within the component."),
            c("value", F, "Raw value of the measure at `as_of` (null when no data or a text measure)."),
            c("text_value", S, "Value of a text measure (contract, billing period, a text attribute) at `as_of` "
                               "(null for a number measure or when no data)."),
            c("score", F, "Score 0-100 of that value (null when no data)."),
            WEIGHT_PCT, NOMINAL_WEIGHT_PCT,
        )),
    ResultSpec(
        "health_scorecard", "The scorecard the main job scored with and why (fitted to the outcomes, or the "
        "shipped default with a warning); `retain score`/`explain` and the pages use the same one.", Grain.COMPANY,
        ("digest",), "retain.health.choice.choose", (
            k("digest", S, "Short hash of the scorecard set (its JSON): which scorecard scored, exactly."),
            c("scorecard", S, "Name of the (first) scorecard: `fitted-<digest>` when fitted."),
            c("fitted", B, "True when fitted to this company's outcomes; false for the shipped default."),
            c("reason", S, "Why this scorecard: the fit's figures, or what is missing for a fit."),
            c("warning", S, "Shown on every face when the shipped default is used (null when fitted)."),
            c("horizon_days", I, "Horizon of the calibrated churn probability (null when uncalibrated)."),
            c("spec", J, "The scorecard set as JSON (what `retain score` and `retain explain` load)."),
        )),
)

MODELS = (
    ResultSpec(
        "propensity", "Each active account's churn and upsell probability, reasons and adoption tier.",
        Grain.ACCOUNT, ("account_id",), "retain.models.pipeline.predict", (
            ACCOUNT,
            c("churn_probability", F, "Calibrated probability of churning within the model's window (90 days)."),
            c("upsell_probability", F, "Probability of an expansion within the model's window."),
            c("reasons", J, "Drivers of the churn score, risk first: a JSON list of {feature, phrase, contribution, "
                            "direction} (`raises` or `lowers` the risk; phrases from retain.models.reasons)."),
            c("next_product", S, "Product most often bought next by similar accounts (null when none)."),
            c("adoption_tier", S, "Adoption tier from the learned cut points.", vocabulary=AdoptionTier),
        )),
    ResultSpec(
        "clv", "Each account's customer lifetime value and the method that gave it.", Grain.ACCOUNT,
        ("account_id",), "retain.clv.value.account_clv", (
            ACCOUNT,
            c("clv", F, "Expected discounted future value (the account's currency)."),
            c("expected_purchases", F, "Expected purchases or renewals over the horizon."),
            c("p_alive", F, "Probability the customer is still active."),
            c("expected_spend", F, "Expected spend per purchase or period."),
            c("method", S, "Models behind the value, e.g. `sbg`, `geometric+simple`, `simple`."),
        )),
)

METRICS = (
    ResultSpec(
        "retention", "Logo retention decomposed per period and dimension value.", Grain.PERIOD,
        ("grain", "period", "dimension", "dimension_value"), "retain.metrics.results.compute_results", (
            GRAIN, PERIOD, PERIOD_START, COMPLETE, DIMENSION, DIMENSION_VALUE,
            c("start", I, "Customers at the period's open."),
            c("churned", I, "Customers at open who were not at close."),
            c("retained", I, "Customers at open and at close."),
            c("new", I, "Customers at close never seen before the period."),
            c("reactivated", I, "Customers at close who had been customers before the period."),
            c("end", I, "Customers at the period's close."),
            c("came_and_went", I, "Joined and left inside the period."),
            c("logo_retention", F, "Retained / start (null without customers at open)."),
            c("net_logo_change", F, "End / start."),
            c("churn_rate", F, "Churned / start."),
            c("annualized_churn_rate", F, "Churn rate extrapolated to a year."),
        )),
    ResultSpec(
        "revenue_retention", "MRR movements, GRR and NRR per period and dimension value.", Grain.PERIOD,
        ("grain", "period", "dimension", "dimension_value"), "retain.metrics.results.compute_results", (
            GRAIN, PERIOD, PERIOD_START, COMPLETE, DIMENSION, DIMENSION_VALUE,
            c("start_mrr", F, "MRR at the period's open."),
            c("new_mrr", F, "MRR of new customers."),
            c("expansion_mrr", F, "MRR gained from customers at open."),
            c("contraction_mrr", F, "MRR lost from customers who stayed."),
            c("churned_mrr", F, "MRR of customers who left."),
            c("reactivated_mrr", F, "MRR of returning customers."),
            c("end_mrr", F, "MRR at the period's close."),
            c("end_arr", F, "End MRR x 12."),
            c("grr", F, "Gross revenue retention: (start - contraction - churned) / start."),
            c("nrr", F, "Net revenue retention: (start + expansion - contraction - churned) / start."),
            c("annualized_grr", F, "GRR compounded to a year."),
            c("annualized_nrr", F, "NRR compounded to a year."),
        )),
    ResultSpec(
        "cohorts_logo", "Signup cohorts x months since start: accounts still active.", Grain.COHORT,
        ("dimension", "dimension_value", "cohort", "months_since_start"), "retain.metrics.cohorts.cohorts", (
            *COHORT_KEYS,
            c("active", I, "Cohort accounts active in that month."),
            c("logo_retention", F, "Active / accounts."),
        )),
    ResultSpec(
        "cohorts_revenue", "Signup cohorts x months since start: revenue retained.", Grain.COHORT,
        ("dimension", "dimension_value", "cohort", "months_since_start"), "retain.metrics.cohorts.cohorts", (
            *COHORT_KEYS,
            c("start_mrr", F, "The cohort's MRR in its first month."),
            c("mrr", F, "The cohort's MRR in that month."),
            c("revenue_retention", F, "MRR / start MRR."),
        )),
    ResultSpec(
        "survival", "Kaplan-Meier survival with 95% bands, overall and by segment.", Grain.CURVE,
        ("dimension", "dimension_value", "time_days"), "retain.metrics.survival.survival", (
            DIMENSION, DIMENSION_VALUE,
            k("time_days", I, "Customer lifetime in days."),
            c("time_months", F, "The same lifetime in months."),
            c("at_risk", I, "Customers still observed at that time."),
            c("events", I, "Churns at that time."),
            c("censored", I, "Customers whose observation ends at that time, still active."),
            c("survival", F, "Estimated share still a customer."),
            c("ci_lower", F, "Lower bound of the 95% band."),
            c("ci_upper", F, "Upper bound of the 95% band."),
        )),
    ResultSpec(
        "products_held", "Retention by number of products held within tenure bands.", Grain.GROUP,
        ("tenure_band", "products_held"), "retain.metrics.products_held.products_held", (
            k("tenure_band", S, "Tenure at the horizon's start: `all`, `0-1y`, `1-2y`, `2-3y`, `3y+`."),
            k("products_held", I, "Products held at the horizon's start."),
            c("accounts", I, "Accounts in the group."),
            c("retained", I, "Of those, still customers at the horizon's end."),
            c("churned", I, "Of those, gone by the horizon's end."),
            c("retention", F, "Retained / accounts."),
            c("start_mrr", F, "The group's MRR at the start."),
            c("end_mrr", F, "The group's MRR at the end."),
            c("net_revenue_retention", F, "End MRR / start MRR."),
            c("horizon_months", I, "Length of the horizon in months."),
        )),
    ResultSpec(
        "pareto", "Share of revenue and profit held by the top share of customers.", Grain.CURVE,
        ("customer_share",), "retain.metrics.pareto.pareto_curve", (
            k("customer_share", F, "Top share of customers, by revenue."),
            c("customers", I, "Customers in that top share (cumulative)."),
            c("revenue_share", F, "Their share of revenue (cumulative)."),
            c("profit_share", F, "Their share of profit (cumulative)."),
        )),
    ResultSpec(
        "profitability", "Revenue minus cost to serve per customer over the last 12 months.", Grain.ACCOUNT,
        ("account_id",), "retain.metrics.profitability.profitability", (
            ACCOUNT, c("name", S, "Account name."), c("segment", S, "Account segment."),
            c("revenue", F, "Subscription plus transaction revenue, net of discounts."),
            c("subscription_revenue", F, "Revenue from subscriptions."),
            c("transaction_revenue", F, "Revenue from one-off transactions."),
            c("discounts", F, "Discounts given."),
            c("tickets", I, "Support tickets opened."),
            c("support_cost", F, "Tickets x cost per ticket."),
            c("cost_of_revenue", F, "Revenue x cost-of-revenue rate."),
            c("cost_to_serve", F, "Support cost plus cost of revenue."),
            c("profit", F, "Revenue - cost to serve."),
            c("margin", F, "Profit / revenue."),
            c("loses_money", B, "Profit below zero."),
        )),
    ResultSpec(
        "churn_reasons", "Churned accounts and MRR lost by cancel reason and quarter.", Grain.PERIOD,
        ("period", "dimension", "dimension_value", "cancel_reason"), "retain.metrics.churn_reasons.churn_reasons", (
            PERIOD, PERIOD_START, COMPLETE, DIMENSION, DIMENSION_VALUE,
            k("cancel_reason", S, "Recorded cancel reason (`unknown` when none)."),
            c("churned", I, "Accounts that churned for that reason."),
            c("mrr_lost", F, "MRR they held."),
            c("arr_lost", F, "MRR lost x 12."),
            c("share_of_churned", F, "Share of the period's churned accounts."),
            c("share_of_mrr_lost", F, "Share of the period's MRR lost."),
        )),
    ResultSpec(
        "rfm_segments", "RFM segments with their accounts, value, recency and frequency.", Grain.GROUP,
        ("segment",), "retain.metrics.rfm.rfm_segments", (
            k("segment", S, "RFM segment, e.g. champions, at risk."),
            c("accounts", I, "Accounts in the segment."),
            c("share", F, "Share of all scored accounts."),
            c("monetary", F, "Their spend over the lookback."),
            c("monetary_share", F, "Share of all spend."),
            c("avg_recency_days", F, "Mean days since the last purchase."),
            c("avg_frequency", F, "Mean purchases over the lookback."),
            c("lookback_months", I, "Lookback in months."),
        )),
)

CALLS = (
    ResultSpec(
        "call_metrics", "One row per analysed call: talk metrics, compliance, SOP and QA.", Grain.CALL,
        ("conversation_id",), "retain.conversations.analysis.analyze", (
            CONVERSATION,
            c("started_at", T, "When the call started."),
            c("language", S, "Language of the call."),
            c("call_type", S, "Kind of call, e.g. discovery, demo, renewal."),
            c("member_id", S, "Rep on the call."),
            c("account_id", S, "Account the call was with (null for a lead)."),
            c("lead_id", S, "Lead the call was with (null for an account)."),
            c("opportunity_id", S, "Opportunity the call belongs to."),
            c("title", S, "Title of the call."),
            c("duration_seconds", F, "Length of the call."),
            c("rep_talk_seconds", F, "Seconds the rep spoke."),
            c("customer_talk_seconds", F, "Seconds the customer spoke."),
            c("rep_talk_share", F, "Rep's share of talk time, 0-1."),
            c("benchmark_rep_share", F, "Playbook benchmark of the rep's share for this call type."),
            c("talk_share_gap", F, "Rep share - benchmark."),
            c("longest_monologue_seconds", F, "Longest uninterrupted rep turn."),
            c("longest_customer_story_seconds", F, "Longest uninterrupted customer turn."),
            c("switches_per_minute", F, "Speaker changes per minute."),
            c("patience_seconds", F, "Mean pause before the rep answers the customer."),
            c("rep_questions", I, "Questions the rep asked."),
            c("customer_questions", I, "Questions the customer asked."),
            c("rep_pace_per_minute", F, "Rep's words (or characters) per minute."),
            c("customer_pace_per_minute", F, "Customer's words (or characters) per minute."),
            c("pace_unit", S, "Unit of the pace: words or characters."),
            c("filler_count", I, "Filler words the rep used."),
            c("fillers_per_minute", F, "Filler words per minute of rep talk."),
            c("silences", I, "Silences longer than the playbook's threshold."),
            c("longest_silence_seconds", F, "Longest silence."),
            c("interruptions_by_rep", I, "Times the rep spoke over the customer."),
            c("interruptions_by_customer", I, "Times the customer spoke over the rep."),
            c("sentiment", F, "Mean sentiment of the call, -1 to 1."),
            c("customer_sentiment", F, "Mean sentiment of the customer, -1 to 1."),
            c("customer_sentiment_end", F, "Customer sentiment over the call's last part."),
            c("forbidden_hits", I, "Phrases the compliance rules forbid."),
            c("sensitive_hits", I, "Sensitive data mentioned."),
            c("missing_disclosures", S, "Required disclosures not said, comma-separated."),
            c("compliant", B, "No forbidden phrase and no missing disclosure."),
            c("forbidden_quotes", S, "What was said that is forbidden."),
            c("stages_done", S, "SOP stages covered, in order."),
            c("stages_missing", S, "SOP stages not covered."),
            c("stages_out_of_order", S, "SOP stages covered out of order."),
            c("sop_score", F, "SOP coverage and order score 0-100."),
            c("qa_score", F, "QA score 0-100 (SOP and compliance)."),
            c("event_budget", I, "1 when budget was discussed."),
            c("event_callback_requested", I, "1 when the customer asked for a callback."),
            c("event_competitor_mentioned", I, "1 when a competitor was mentioned."),
            c("event_decision_maker", I, "1 when a decision maker was identified."),
            c("event_next_steps_agreed", I, "1 when next steps were agreed."),
            c("event_objection", I, "1 when an objection was raised."),
            c("event_pricing_discussed", I, "1 when pricing was discussed."),
            c("tracker_hits", I, "Tracker hits in the call."),
        )),
    ResultSpec(
        "tracker_hits", "Every tracker (keyword, pattern or semantic) hit in every call.", Grain.CALL_MOMENT,
        ("conversation_id", "seq", "tracker", "start_char"), "retain.conversations.trackers.TrackerMatcher.hits", (
            CONVERSATION, k("seq", I, "Utterance number in the call."),
            c("role", S, "Who spoke: rep or customer."),
            k("tracker", S, "Tracker that matched."),
            c("category", S, "Category of the tracker."),
            c("kind", S, "Tracker kind: keyword, pattern or semantic."),
            c("keyword", S, "Keyword or pattern that matched."),
            c("matched", S, "Text that matched."),
            k("start_char", I, "Start of the match in the utterance."),
            c("end_char", I, "End of the match in the utterance."),
            c("hit_seconds", F, "Seconds into the call."),
        )),
    ResultSpec(
        "call_events", "Business events found in calls (callback asked, competitor, pricing...).", Grain.CALL_MOMENT,
        ("conversation_id", "event", "seq"), "retain.conversations.events.call_events", (
            CONVERSATION, k("event", S, "Event, e.g. callback_requested, competitor_mentioned."),
            c("detail", S, "What the event is about (competitor, product...)."),
            k("seq", I, "Utterance number in the call."),
            c("role", S, "Who spoke: rep or customer."),
            c("hit_seconds", F, "Seconds into the call."),
            c("quote", S, "What was said."),
            c("occurred_at", T, "When it was said."),
            c("due_at", T, "For a callback: when it is due (null when no time was said)."),
            c("due_expression", S, "The words that gave the due time, e.g. 'next Tuesday'."),
        )),
    ResultSpec(
        "call_outcomes", "Win rates of deals by call behaviour, with Wilson intervals.", Grain.GROUP,
        ("scope", "factor", "bucket"), "retain.conversations.outcomes.behaviour_outcomes", (
            k("scope", S, "Calls compared: all or a call type."),
            k("factor", S, "Behaviour compared, e.g. rep_talk_share or a tracker."),
            k("bucket", S, "Range or presence of the behaviour."),
            c("deals", I, "Closed deals with such calls."),
            c("wins", I, "Of those, won."),
            c("win_rate", F, "Wins / deals."),
            c("ci_low", F, "Lower bound of the 95% Wilson interval."),
            c("ci_high", F, "Upper bound of the 95% Wilson interval."),
            c("too_small", B, "Too few deals to conclude."),
            c("baseline", F, "Win rate of every deal in the scope."),
        )),
    ResultSpec(
        "lead_recovery", "Dropped or unworked leads worth another call, ranked, with reasons.", Grain.LEAD,
        ("lead_id",), "retain.conversations.leads.recover_leads", (
            c("rank", I, "Rank by score, 1 first."), k("lead_id", S, "The lead."),
            c("company", S, "Lead's company."), c("owner_id", S, "Lead owner."),
            c("status", S, "Lead status at `as_of`."),
            c("score", F, "Recovery score: model probability, similarity to converted leads and intent."),
            c("model_probability", F, "Probability of converting from the lead model."),
            c("similarity", F, "Similarity to leads that converted."),
            c("intent", F, "Buying intent heard in its calls."),
            c("touches", I, "Calls, e-mails and meetings with the lead."),
            c("last_touch_at", T, "Last touch (null when never touched)."),
            c("callback_due_at", T, "A callback asked for and not made (null when none)."),
            c("reasons", S, "Why it is worth a call, in words."),
        )),
    ResultSpec(
        "tag_suggestions", "CRM tags heard in calls that differ from what the CRM holds.", Grain.ENTITY,
        ("suggestion_id",), "retain.conversations.tags.tag_suggestions", (
            k("suggestion_id", S, "Stable id of the suggestion (accept it with `retain tags accept`)."),
            c("entity_type", S, "lead or account."), c("entity_id", S, "The lead or account."),
            c("tag", S, "Tag, e.g. budget, competitor."),
            c("current_value", S, "Value in the CRM (null when none)."),
            c("suggested_value", S, "Value heard in the call."),
            c("kind", S, "new or change."),
            c("evidence", S, "What was said."),
            c("conversation_id", S, "Call it was heard in."),
            c("said_at", T, "When it was said."),
        )),
)

DEMO = (
    ResultSpec(
        "demo_spec", "The demo's generation settings, so `retain demo` rebuilds only when they change.",
        Grain.COMPANY, ("spec",), "retain.demo.pipeline.build_demo", (
            k("spec", J, "The demo spec as JSON."),
        ), dated=False),
)

BOOKS = (
    ResultSpec(
        "book_revenue", "MRR movements per month and book (owner and CSM pair): a viewer's NRR/GRR are its sums.",
        Grain.OWNER, ("period", "book"), "retain.state.publish.book_revenue", (
            PERIOD, PERIOD_START, COMPLETE,
            k("book", S, "The book: owner id and CSM id joined by `/` (`-` for none), never null."),
            c("owner_id", S, "Account owner at `as_of` (null: no owner)."),
            c("csm_id", S, "Account CSM at `as_of` (null: none)."),
            c("start_mrr", F, "MRR at the period's open."),
            c("new_mrr", F, "MRR of new customers."),
            c("expansion_mrr", F, "MRR gained from customers who stayed."),
            c("contraction_mrr", F, "MRR lost from customers who stayed."),
            c("churned_mrr", F, "MRR of customers who left."),
            c("reactivated_mrr", F, "MRR of returning customers."),
            c("end_mrr", F, "MRR at the period's close."),
            c("grr", F, "Gross revenue retention of the book: (start - contraction - churned) / start."),
            c("nrr", F, "Net revenue retention of the book: (start + expansion - contraction - churned) / start."),
        )),
)

DATA = (
    ResultSpec(
        "doctor", "The data doctor's findings: per analytic whether the data supports it (and how to supply what "
        "is missing), then the suspicious-data flags.",
        Grain.COMPANY, ("item",), "retain.jobs.status.status_section", (
            k("item", I, "Order of the finding in the report (verdicts first)."),
            c("section", S, "`verdict` (an analytic) or `flag` (suspicious data)."),
            c("subject", S, "The analytic, or where the flag was raised (table, column, component)."),
            c("status", S, "Verdict: supported, limited, unsupported, skipped; flag: its kind."),
            c("message", S, "What was found, in plain words with the figures."),
            c("fix", S, "How to supply what is missing or what to check (empty when nothing to do)."),
        )),
)

RESULTS: dict[str, ResultSpec] = {r.name: r for r in (*HEALTH, *MODELS, *METRICS, *CALLS, *BOOKS, *DEMO, *DATA, *SALES,
                                                     *SURVEYS)}
