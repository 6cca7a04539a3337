"""The canonical data model of Retain, declared once.

Naming: ``*_id`` keys, ``*_at`` timestamps (UTC), ``*_on`` dates, money as an amount column plus ``currency``.
Every table keeps unknown extra input columns as JSON text in ``attributes``.
"""

from __future__ import annotations

from retain.schema.model import Column, DateOrder, DType, Table

S, I, F, B, D, T = DType.STRING, DType.INT, DType.FLOAT, DType.BOOL, DType.DATE, DType.TIMESTAMP


def c(name: str, dtype: DType, description: str, **kw) -> Column:
    return Column(name, dtype, description, **kw)


def req(name: str, dtype: DType, description: str, **kw) -> Column:
    return Column(name, dtype, description, required=True, **kw)


CURRENCY = c("currency", S, "ISO 4217 code of the amounts in this row.", default="'USD'")
TEAM_ROLES = ("rep", "csm", "manager", "executive", "sdr", "support", "other")
# a CRM's forecast categories, normalised (Salesforce Forecast = commit, HubSpot "Not forecasted" = omitted)
FORECAST_CATEGORIES = ("pipeline", "best_case", "commit", "omitted", "closed")

ACCOUNTS = Table(
    "accounts",
    "Customer (or prospect) companies. One row per account.",
    key=("account_id",),
    known_at="created_at",
    columns=(
        req("account_id", S, "Stable identifier of the account."),
        req("name", S, "Display name."),
        req("created_at", T, "When the account became a customer or was created in the CRM."),
        c("segment", S, "Market segment, e.g. smb, mid_market, enterprise."),
        c("industry", S, "Industry."),
        c("region", S, "Sales region."),
        c("country", S, "Country (ISO code or name)."),
        c("employees", I, "Company head-count.", minimum=0),
        c("owner_id", S, "Account owner (rep or CSM).", references="team_members.member_id"),
        c("csm_id", S, "Customer-success manager, when different from the owner.",
          references="team_members.member_id"),
        c("acquisition_channel", S, "How the account was acquired: inbound, outbound, referral, partner, paid..."),
        c("campaign", S, "Marketing campaign that brought the account."),
        c("referred_by_account_id", S, "Account that referred this one.", references="accounts.account_id"),
        c("parent_account_id", S, "Parent company in a hierarchy.", references="accounts.account_id"),
        c("churned_at", T, "When the account stopped being a customer, when the export records it (an outcome; "
          "see also `churn_events`).", revealed_by="churned_at"),
    ),
)

CONTACTS = Table(
    "contacts",
    "People at accounts.",
    key=("contact_id",),
    known_at="created_at",
    date_orders=(DateOrder("created_at", "left_at"),),
    columns=(
        req("contact_id", S, "Stable identifier of the contact."),
        req("account_id", S, "Account the contact works for.", references="accounts.account_id"),
        req("created_at", T, "When the contact was added."),
        c("name", S, "Full name."),
        c("email", S, "E-mail address."),
        c("phone", S, "Phone number."),
        c("title", S, "Job title."),
        c("role", S, "Buying role.", enum=("champion", "decision_maker", "executive_sponsor", "user", "billing",
                                            "technical", "other")),
        c("is_primary", B, "Primary contact of the account."),
        c("language", S, "Preferred language (ISO 639-1: en, zh...); surveys and e-mails use it, English when empty."),
        c("left_at", T, "When the contact left the account (e.g. a champion who changed jobs).",
          revealed_by="left_at"),
    ),
)

TEAM_MEMBERS = Table(
    "team_members",
    "Your own people: reps, CSMs, managers, with who reports to whom.",
    key=("member_id",),
    known_at=None,
    columns=(
        req("member_id", S, "Stable identifier of the team member."),
        req("name", S, "Full name."),
        req("role", S, "Role.", enum=TEAM_ROLES),
        c("email", S, "E-mail address (used for sign-in and alerts)."),
        c("manager_id", S, "Manager this person reports to.", references="team_members.member_id"),
        c("team", S, "Team name."),
        c("region", S, "Region covered."),
        c("hired_on", D, "Start date."),
        c("left_on", D, "Leaving date."),
    ),
)

PRODUCTS = Table(
    "products",
    "What you sell.",
    key=("product_id",),
    known_at=None,
    columns=(
        req("product_id", S, "Stable identifier of the product."),
        req("name", S, "Product name."),
        c("family", S, "Product family or line."),
        c("is_addon", B, "Sold only on top of a core product."),
        c("seat_based", B, "Quantity counts licences (seats); false when it is an allowance such as 5,000 searches. "
          "Licence measures use seat-based products only.", default="true"),
        c("list_mrr", F, "List monthly price per licence.", minimum=0),
        CURRENCY,
        c("launched_on", D, "Launch date."),
    ),
)

SUBSCRIPTIONS = Table(
    "subscriptions",
    "Product holdings and contracts. One row per period of constant price and quantity: an upgrade ends one "
    "row and starts the next on the same day; churn is a last row that ends with no successor.",
    key=("subscription_id",),
    known_at="started_on",
    date_orders=(DateOrder("started_on", "ended_on"), DateOrder("started_on", "term_end_on")),
    columns=(
        req("subscription_id", S, "Stable identifier of the subscription period."),
        req("account_id", S, "Holder.", references="accounts.account_id"),
        req("product_id", S, "Product held.", references="products.product_id"),
        req("started_on", D, "First day of the period."),
        req("mrr", F, "Monthly recurring revenue of the period (ARR = 12 x MRR).", minimum=0),
        CURRENCY,
        c("quantity", I, "Licences (seats) bought.", minimum=0),
        c("term_end_on", D, "Contract end / renewal date, known when the contract is signed."),
        c("ended_on", D, "Day after the last day of service; empty while it runs. Known only once reached.",
          revealed_by="ended_on"),
        c("status", S, "Status as exported; Retain derives status as of any date itself.",
          enum=("trial", "active", "cancelled", "expired", "paused")),
        c("billing_period", S, "Billing period.",
          enum=("monthly", "quarterly", "semi_annual", "annual", "multi_year", "other")),
        c("cancel_reason", S, "Why the customer left (price, competitor, no_value, budget, acquired, other...).",
          revealed_by="ended_on"),
        c("discount_amount", F, "Monthly discount granted on this period.", minimum=0),
    ),
)

TRANSACTIONS = Table(
    "transactions",
    "One-off purchases, for non-contract businesses (retail, e-commerce, usage top-ups).",
    key=("transaction_id",),
    known_at="occurred_at",
    columns=(
        req("transaction_id", S, "Stable identifier of the transaction."),
        req("account_id", S, "Buyer.", references="accounts.account_id"),
        req("occurred_at", T, "When the purchase happened."),
        req("amount", F, "Amount paid (negative for refunds)."),
        CURRENCY,
        c("product_id", S, "Product bought.", references="products.product_id"),
        c("quantity", I, "Units bought.", minimum=0),
        c("discount_amount", F, "Discount granted.", minimum=0),
        c("cost_amount", F, "Cost of goods sold, for margin.", minimum=0),
    ),
)

INVOICES = Table(
    "invoices",
    "Invoices issued, due and paid.",
    key=("invoice_id",),
    known_at="issued_on",
    date_orders=(DateOrder("issued_on", "due_on"), DateOrder("issued_on", "paid_on")),
    columns=(
        req("invoice_id", S, "Stable identifier of the invoice."),
        req("account_id", S, "Billed account.", references="accounts.account_id"),
        req("issued_on", D, "Issue date."),
        req("due_on", D, "Due date."),
        req("amount", F, "Amount invoiced.", minimum=0),
        CURRENCY,
        c("subscription_id", S, "Subscription billed.", references="subscriptions.subscription_id"),
        c("paid_on", D, "Date paid in full; empty while unpaid.", revealed_by="paid_on"),
        c("status", S, "Status as exported.", enum=("open", "paid", "void", "uncollectible")),
    ),
)

USAGE = Table(
    "usage",
    "Daily product usage per account and feature. Also built by Retain from raw `product_events`.",
    key=("account_id", "usage_on", "feature"),
    known_at="usage_on",
    columns=(
        req("account_id", S, "Account.", references="accounts.account_id"),
        req("usage_on", D, "Day (UTC)."),
        req("feature", S, "Feature or module; use 'all' for account-level totals."),
        c("active_users", I, "Distinct active users that day.", minimum=0, default="0"),
        c("events", F, "Events (or summed event values) that day.", minimum=0, default="0"),
        c("minutes", F, "Time spent, minutes.", minimum=0),
    ),
)

PRODUCT_EVENTS = Table(
    "product_events",
    "Raw product events; Retain rolls them up per account, day and event type into `usage` in the engine.",
    key=("event_id",),
    known_at="occurred_at",
    input_only=True,
    columns=(
        req("event_id", S, "Identifier of the event (generated from the row when absent in the file).",
            default="md5(concat_ws('|', account_id, user_id, occurred_at, event_type, value))"),
        req("account_id", S, "Account.", references="accounts.account_id"),
        req("occurred_at", T, "When the event happened."),
        req("event_type", S, "Event type; becomes the usage `feature`."),
        c("user_id", S, "User who did it."),
        c("value", F, "Numeric value (default 1).", minimum=0, default="1"),
    ),
)

SUPPORT_TICKETS = Table(
    "support_tickets",
    "Support tickets.",
    key=("ticket_id",),
    known_at="opened_at",
    date_orders=(DateOrder("opened_at", "resolved_at"), DateOrder("opened_at", "first_response_at")),
    columns=(
        req("ticket_id", S, "Stable identifier of the ticket."),
        req("account_id", S, "Account.", references="accounts.account_id"),
        req("opened_at", T, "When it was opened."),
        c("priority", S, "Priority.", enum=("low", "normal", "high", "urgent"), default="'normal'"),
        c("category", S, "Category: bug, how_to, billing, outage, feature_request..."),
        c("subject", S, "Subject line."),
        c("contact_id", S, "Who raised it.", references="contacts.contact_id"),
        c("first_response_at", T, "First answer from support.", revealed_by="first_response_at"),
        c("resolved_at", T, "When it was resolved; empty while open.", revealed_by="resolved_at"),
        c("escalated", B, "Escalated to engineering or management."),
        c("status", S, "Status as exported.", enum=("open", "pending", "resolved", "closed")),
    ),
)

SURVEY_RESPONSES = Table(
    "survey_responses",
    "NPS, CSAT and CES answers, each after a touchpoint.",
    key=("response_id",),
    known_at="responded_at",
    columns=(
        req("response_id", S, "Stable identifier of the answer."),
        req("account_id", S, "Account.", references="accounts.account_id"),
        req("responded_at", T, "When the answer was given."),
        req("survey_type", S, "Kind of survey: nps 0-10, csat 1-5, ces 1-7.", enum=("nps", "csat", "ces")),
        req("score", I, "Score given.", minimum=0, maximum=10),
        c("touchpoint", S, "What the survey followed.",
          enum=("onboarding", "qbr", "support_ticket", "renewal", "relationship", "training", "other")),
        c("contact_id", S, "Who answered.", references="contacts.contact_id"),
        c("comment", S, "Free-text comment."),
    ),
)

CHURN_EVENTS = Table(
    "churn_events",
    "Outcome events as your billing or CRM system records them: churns, downgrades, upgrades, reactivations. "
    "First-class outcome data: retention and the churn models use them beside subscription end dates.",
    key=("event_id",),
    known_at="occurred_on",
    columns=(
        req("event_id", S, "Identifier of the event (generated from the row when absent in the file).",
            default="md5(concat_ws('|', account_id, occurred_on, event_type, product_id))"),
        req("account_id", S, "Account.", references="accounts.account_id"),
        req("occurred_on", D, "Day the event took effect."),
        req("event_type", S, "What happened.", enum=("churn", "downgrade", "upgrade", "reactivation"),
            default="'churn'"),
        c("product_id", S, "Product concerned, when the event is about one product.",
          references="products.product_id"),
        c("reason", S, "Reason as recorded (price, competitor, no_value, budget, acquired, other...)."),
        c("refund_amount", F, "Amount refunded.", minimum=0),
        CURRENCY,
        c("mrr_change", F, "Change of monthly recurring revenue the event caused (negative for a loss)."),
    ),
)

OUTCOME_LABELS = Table(
    "outcome_labels",
    "Outcomes observed for snapshot exports: whether an account churned (or expanded) within a horizon after "
    "an observation date. Use it when your data is one row per customer with a churn column.",
    key=("account_id", "observed_on", "outcome"),
    known_at="observed_on",
    columns=(
        req("account_id", S, "Account.", references="accounts.account_id"),
        req("observed_on", D, "Observation (export) date: features are computed as of this day."),
        req("outcome", S, "Which outcome the label is about.", enum=("churn", "expansion"), default="'churn'"),
        req("happened", B, "True when the outcome happened within the horizon after `observed_on`."),
        c("horizon_days", I, "Days after `observed_on` the label covers (empty: unknown, the model's default).",
          minimum=1),
    ),
)

ACTIVITIES = Table(
    "activities",
    "E-mails, calls, meetings, QBRs and onboarding milestones with customers and leads.",
    key=("activity_id",),
    known_at="occurred_at",
    columns=(
        req("activity_id", S, "Stable identifier of the activity."),
        req("occurred_at", T, "When it happened."),
        req("activity_type", S, "Kind of activity.",
            enum=("email", "call", "meeting", "qbr", "onboarding_milestone", "executive_meeting", "note",
                  "task", "training")),
        c("account_id", S, "Account.", references="accounts.account_id"),
        c("lead_id", S, "Lead.", references="leads.lead_id"),
        c("opportunity_id", S, "Opportunity.", references="opportunities.opportunity_id"),
        c("contact_id", S, "Customer-side contact.", references="contacts.contact_id"),
        c("member_id", S, "Your team member.", references="team_members.member_id"),
        c("direction", S, "Direction.", enum=("inbound", "outbound", "internal")),
        c("subject", S, "Subject or milestone name."),
        c("outcome", S, "Outcome: connected, no_answer, completed, scheduled..."),
    ),
)

CONVERSATIONS = Table(
    "conversations",
    "Recorded calls and meetings; their words are in `utterances`.",
    key=("conversation_id",),
    known_at="started_at",
    columns=(
        req("conversation_id", S, "Stable identifier of the conversation."),
        req("started_at", T, "When it started."),
        c("duration_seconds", F, "Length.", minimum=0),
        c("language", S, "Main language (BCP 47, e.g. en, zh).", default="'en'"),
        c("channel", S, "Channel.", enum=("phone", "video", "in_person", "chat")),
        c("call_type", S, "Purpose: cold_call, discovery, demo, negotiation, check_in, qbr, support, renewal."),
        c("member_id", S, "Rep or CSM on the call.", references="team_members.member_id"),
        c("account_id", S, "Account.", references="accounts.account_id"),
        c("lead_id", S, "Lead.", references="leads.lead_id"),
        c("opportunity_id", S, "Opportunity.", references="opportunities.opportunity_id"),
        c("title", S, "Title."),
        c("source_file", S, "File the transcript came from."),
    ),
)

UTTERANCES = Table(
    "utterances",
    "What was said in a conversation, one row per turn.",
    key=("conversation_id", "seq"),
    known_at=None,
    parent=("conversations", "conversation_id"),
    date_orders=(),
    columns=(
        req("conversation_id", S, "Conversation.", references="conversations.conversation_id"),
        req("seq", I, "Order of the turn in the conversation, from 0.", minimum=0),
        req("speaker", S, "Speaker name or label."),
        req("role", S, "Side of the speaker.", enum=("rep", "customer", "other")),
        req("start_seconds", F, "Start, seconds from the beginning.", minimum=0),
        req("end_seconds", F, "End, seconds from the beginning.", minimum=0),
        req("text", S, "Words said (PII redacted by default)."),
    ),
)

OPPORTUNITIES = Table(
    "opportunities",
    "Deals: new business, add-on (expansion/cross-sell) and renewal.",
    key=("opportunity_id",),
    known_at="created_at",
    date_orders=(DateOrder("created_at", "closed_at"),),
    columns=(
        req("opportunity_id", S, "Stable identifier of the opportunity."),
        req("created_at", T, "When it was opened."),
        req("opportunity_type", S, "Kind of deal.", enum=("new_business", "add_on", "renewal")),
        req("stage", S, "Current stage as exported (prospecting, discovery, proposal, negotiation, closed_won, "
            "closed_lost...); use `opportunity_stages` for history.", revealed_by="closed_at"),
        c("account_id", S, "Account.", references="accounts.account_id"),
        c("lead_id", S, "Lead it came from.", references="leads.lead_id"),
        c("name", S, "Name."),
        c("owner_id", S, "Rep owning it.", references="team_members.member_id"),
        c("amount", F, "Deal value (annualised).", minimum=0),
        CURRENCY,
        c("product_id", S, "Main product.", references="products.product_id"),
        c("close_on", D, "Expected close date."),
        c("closed_at", T, "When it was won or lost.", revealed_by="closed_at"),
        c("is_won", B, "Won (true) or lost (false) once closed.", revealed_by="closed_at"),
        c("loss_reason", S, "Why it was lost: price, competitor, no_decision, timing, features, other.",
          revealed_by="closed_at"),
        c("competitor", S, "Main competitor.", revealed_by="closed_at"),
        c("probability", F, "Win probability as set in the CRM (0-1).", minimum=0, maximum=1),
        c("forecast_category", S, "CRM forecast category as exported (Salesforce ForecastCategoryName, HubSpot "
          "forecast category); use `opportunity_stages` for history.", enum=FORECAST_CATEGORIES,
          revealed_by="closed_at"),
    ),
)

OPPORTUNITY_STAGES = Table(
    "opportunity_stages",
    "Stage history of opportunities: one row per stage entered.",
    key=("opportunity_id", "entered_at"),
    known_at="entered_at",
    columns=(
        req("opportunity_id", S, "Opportunity.", references="opportunities.opportunity_id"),
        req("entered_at", T, "When the stage was entered."),
        req("stage", S, "Stage entered."),
        c("amount", F, "Amount at that moment.", minimum=0),
        c("probability", F, "Probability at that moment (0-1).", minimum=0, maximum=1),
        c("close_on", D, "Expected close date at that moment (a later one than the previous row's is a push)."),
        c("forecast_category", S, "CRM forecast category at that moment.", enum=FORECAST_CATEGORIES),
    ),
)

LEADS = Table(
    "leads",
    "Prospects not yet customers, in the lead pool.",
    key=("lead_id",),
    known_at="created_at",
    date_orders=(DateOrder("created_at", "converted_at"),),
    columns=(
        req("lead_id", S, "Stable identifier of the lead."),
        req("created_at", T, "When it entered the pool."),
        req("source", S, "Where it came from.",
            enum=("inbound", "outbound", "referral", "event", "partner", "paid", "list", "other")),
        req("status", S, "Status as exported.",
            enum=("new", "working", "nurturing", "qualified", "converted", "disqualified", "dropped")),
        c("company", S, "Company name."),
        c("contact_name", S, "Person."),
        c("email", S, "E-mail address."),
        c("phone", S, "Phone number."),
        c("industry", S, "Industry."),
        c("region", S, "Region."),
        c("employees", I, "Company head-count.", minimum=0),
        c("owner_id", S, "Rep working it.", references="team_members.member_id"),
        c("referring_account_id", S, "For referrals: the account that referred it.",
          references="accounts.account_id"),
        c("disqualify_reason", S, "Why it was disqualified or dropped."),
        c("converted_account_id", S, "Account it became.", references="accounts.account_id",
          revealed_by="converted_at"),
        c("converted_at", T, "When it converted.", revealed_by="converted_at"),
        c("last_touched_at", T, "Last activity as exported."),
    ),
)

TAGS = Table(
    "tags",
    "Labels on accounts, leads, contacts, opportunities or conversations: set by hand or inferred by Retain.",
    key=("entity_type", "entity_id", "tag"),
    known_at="tagged_at",
    columns=(
        req("entity_type", S, "Kind of entity tagged.",
            enum=("account", "lead", "contact", "opportunity", "conversation")),
        req("entity_id", S, "Identifier of the entity."),
        req("tag", S, "Tag name, e.g. budget, interested_product, decision_maker."),
        req("tagged_at", T, "When it was set."),
        c("value", S, "Tag value, e.g. none, yes, model_x."),
        c("source", S, "Who set it.", enum=("manual", "inferred"), default="'manual'"),
        c("evidence", S, "For inferred tags: the quoted words and call time."),
        c("member_id", S, "Who set or accepted it.", references="team_members.member_id"),
    ),
)

GOALS = Table(
    "goals",
    "Targets per person or team and period.",
    key=("goal_id",),
    known_at=None,
    date_orders=(DateOrder("period_start_on", "period_end_on"),),
    columns=(
        req("goal_id", S, "Stable identifier of the goal."),
        req("metric", S, "What is counted.",
            enum=("new_business_arr", "add_on_arr", "renewal_arr", "total_arr", "meetings", "calls",
                  "opportunities_created", "nrr", "grr")),
        req("period_start_on", D, "First day of the period."),
        req("period_end_on", D, "Last day of the period."),
        req("target", F, "Target value.", minimum=0),
        c("member_id", S, "Person the goal belongs to.", references="team_members.member_id"),
        c("team", S, "Team the goal belongs to (when not a person)."),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        TEAM_MEMBERS, PRODUCTS, ACCOUNTS, CONTACTS, SUBSCRIPTIONS, TRANSACTIONS, INVOICES, USAGE, PRODUCT_EVENTS,
        SUPPORT_TICKETS, SURVEY_RESPONSES, CHURN_EVENTS, OUTCOME_LABELS, LEADS, OPPORTUNITIES, OPPORTUNITY_STAGES,
        ACTIVITIES, CONVERSATIONS,
        UTTERANCES, TAGS, GOALS,
    )
}
"""All tables, in an order where each table's references come before it (except self-references)."""
