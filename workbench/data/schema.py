"""The data contract: canonical tables, their keys, column types and allowed values.

Everything else in the package refers to this module instead of repeating column names. The
contract follows ``DESIGN.md``:

- timestamps are time-zone aware instants (``timestamp``), shown in the shop's zone;
- money (``money=True``) is in the shop's currency, rounded to its minor unit (KRW: none);
- ``pii=True`` marks personal data that is masked wherever it is shown.

Examples
--------
>>> TABLES["orders"].key
('order_id',)
>>> ORDER_STATUSES[:3]
('pending', 'paid', 'shipped')
>>> sorted(c.name for c in TABLES["customers"].columns if c.pii)
['birth_date', 'email', 'name', 'phone']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from workbench.errors import SchemaError
from workbench.i18n import tr

__all__ = [
    "CAMPAIGN_CHANNELS",
    "CANONICAL_TABLES",
    "EVENT_TYPES",
    "MESSAGE_STATUSES",
    "NET_STATUSES",
    "ORDER_STATUSES",
    "SQL_TYPES",
    "TABLES",
    "Column",
    "Table",
    "duckdb_ddl",
    "require_columns",
]

ORDER_STATUSES = (
    "pending",
    "paid",
    "shipped",
    "delivered",
    "confirmed",
    "cancelled",
    "returned",
)
#: Statuses that count towards net revenue (cancelled, returned and pending ones do not).
NET_STATUSES = ("paid", "shipped", "delivered", "confirmed")
EVENT_TYPES = (
    "visit",
    "signup",
    "login",
    "search",
    "product_view",
    "cart_add",
    "cart_remove",
    "checkout_start",
)
#: ``kakao`` (before 2026-12) is kept for old logs and campaigns: it meant a KakaoTalk message
#: under SMS consent. New exports say ``alimtalk`` (informational, template) or ``friendtalk``
#: (ads to channel friends).
CAMPAIGN_CHANNELS = ("sms", "lms", "email", "push", "alimtalk", "friendtalk", "kakao")
#: What a sending service reports for one message.
MESSAGE_STATUSES = ("sent", "failed")
#: ``send`` is the messaged arm beside ``holdout``; ``control`` stays valid (an A/B test's
#: untreated arm, and what exports before 2026-12 wrote for ``send``).
VARIANT_PATTERN = r"^(holdout|send|control|[A-Z][A-Za-z0-9_]*)$"

#: Column kinds and their DuckDB types.
SQL_TYPES = {
    "string": "VARCHAR",
    "int64": "BIGINT",
    "float64": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a canonical table.

    Parameters
    ----------
    name
        Canonical snake_case name.
    kind
        One of ``SQL_TYPES``.
    required
        The column must be present in an import and may not be null.
    allowed
        Allowed values (for categorical text columns), or ``None``.
    nonnegative
        Negative numbers are rejected.
    money
        An amount in the shop's currency.
    pii
        Personal data: masked when shown, exported only when the channel needs it.
    description
        One line for people (README, error messages).
    """

    name: str
    kind: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    nonnegative: bool = False
    money: bool = False
    pii: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """A canonical table: name, key columns and columns in storage order."""

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    canonical: bool = True
    _by_name: dict[str, Column] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._by_name.update({c.name: c for c in self.columns})

    def __getitem__(self, name: str) -> Column:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> list[str]:
        """Column names in storage order."""
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]


def _money(name: str, description: str, required: bool = False) -> Column:
    return Column(name, "float64", required=required, nonnegative=True, money=True,
                  description=description)


_TABLES = (
    Table(
        "customers",
        key=("customer_id",),
        description="One row per customer (member or keyed guest).",
        columns=(
            Column("customer_id", "string", required=True,
                   description="Shop's customer key (text)"),
            Column("signup_at", "timestamp", description="Sign-up time (members)"),
            Column("name", "string", pii=True),
            Column("phone", "string", pii=True, description="Digits only, e.g. 01012345678"),
            Column("email", "string", pii=True),
            Column("birth_date", "date", pii=True),
            Column("region", "string", description="Province/city, e.g. 서울"),
            Column("acquisition_channel", "string", description="How the customer first came"),
            Column("is_member", "boolean"),
            Column("sms_opt_in", "boolean", description="Advertising consent: SMS/LMS/Kakao"),
            Column("email_opt_in", "boolean", description="Advertising consent: email"),
            Column("push_opt_in", "boolean", description="Advertising consent: app push"),
            Column("night_opt_in", "boolean", description="Separate consent for 21:00-08:00 ads"),
            Column("consent_at", "timestamp", description="When consent was last given/confirmed"),
            # Per-channel consent dates (member exports carry one per flag); the 2-year
            # re-confirmation rule reads a channel's own date, else consent_at.
            Column("sms_consent_at", "timestamp", description="When SMS consent was last set"),
            Column("email_consent_at", "timestamp",
                   description="When email consent was last set"),
            Column("push_consent_at", "timestamp", description="When push consent was last set"),
            Column("kakao_friend", "boolean",
                   description="Friend of the shop's KakaoTalk channel (FriendTalk ads)"),
            Column("has_kakaotalk", "boolean",
                   description="Phone has KakaoTalk (false: AlimTalk goes to the SMS fallback; "
                               "null: unknown)"),
            Column("member_tier", "string", description="Shop's membership grade (회원등급)"),
            _money("points_balance", "Points (적립금) the customer can still spend"),
            Column("last_login_at", "timestamp", description="Last login (member exports)"),
        ),
    ),
    Table(
        "orders",
        key=("order_id",),
        description="One row per order; net revenue counts paid/shipped/delivered/confirmed.",
        columns=(
            Column("order_id", "string", required=True),
            Column("customer_id", "string", description="Null for guest orders"),
            Column("ordered_at", "timestamp", required=True),
            Column("status", "string", required=True, allowed=ORDER_STATUSES),
            _money("amount", "Net amount paid", required=True),
            _money("discount", "Coupon and other discounts"),
            _money("points_used", "Points (적립금) spent"),
            _money("shipping_fee", "Shipping fee paid"),
            Column("coupon_code", "string"),
            Column("channel", "string", description="own / naverpay / marketplace / app ..."),
            Column("delivered_at", "timestamp"),
        ),
    ),
    Table(
        "order_items",
        key=("order_id", "line_no"),
        description="Order lines.",
        columns=(
            Column("order_id", "string", required=True),
            Column("line_no", "int64", required=True, nonnegative=True),
            Column("product_id", "string"),
            Column("product_name", "string"),
            Column("category", "string"),
            Column("option", "string"),
            Column("quantity", "int64", required=True, nonnegative=True),
            _money("unit_price", "Price per unit"),
            _money("line_amount", "Amount paid for the line", required=True),
        ),
    ),
    Table(
        "products",
        key=("product_id",),
        description="Catalogue.",
        columns=(
            Column("product_id", "string", required=True),
            Column("name", "string"),
            Column("category", "string"),
            _money("price", "List price"),
            Column("replenish_days", "int64", nonnegative=True,
                   description="Typical days until a repeat purchase (consumables)"),
        ),
    ),
    Table(
        "events",
        key=("customer_id", "visitor_id", "ts", "type"),
        description="Web and app events; customer_id is null for anonymous visitors.",
        columns=(
            Column("customer_id", "string"),
            Column("visitor_id", "string"),
            Column("ts", "timestamp", required=True),
            Column("session_id", "string"),
            Column("type", "string", required=True, allowed=EVENT_TYPES),
            Column("product_id", "string"),
            Column("query", "string"),
        ),
    ),
    Table(
        "campaigns",
        key=("campaign_id",),
        description="CRM campaigns (sends), with their holdout share and cost.",
        columns=(
            Column("campaign_id", "string", required=True),
            Column("name", "string"),
            Column("channel", "string", required=True, allowed=CAMPAIGN_CHANNELS),
            Column("is_ad", "boolean", description="Advertising message (consent rules apply)"),
            Column("started_at", "timestamp", required=True),
            Column("ended_at", "timestamp"),
            Column("holdout_share", "float64", nonnegative=True),
            _money("cost_per_message", "Cost of one message"),
        ),
    ),
    Table(
        "assignments",
        key=("campaign_id", "customer_id"),
        description="Which variant each customer got in a campaign (including the holdout).",
        columns=(
            Column("campaign_id", "string", required=True),
            Column("customer_id", "string", required=True),
            Column("variant", "string", required=True,
                   description="holdout, control, A, B, ..."),
            Column("assigned_at", "timestamp", required=True),
        ),
    ),
    Table(
        "messages",
        key=("campaign_id", "customer_id"),
        description="Messages sent and how each was answered.",
        columns=(
            Column("campaign_id", "string", required=True),
            Column("customer_id", "string", required=True),
            Column("variant", "string"),
            Column("sent_at", "timestamp", required=True),
            Column("opened_at", "timestamp"),
            Column("clicked_at", "timestamp"),
            Column("unsubscribed_at", "timestamp"),
            Column("channel", "string", allowed=CAMPAIGN_CHANNELS,
                   description="Channel the message went out on (AlimTalk fallbacks: sms/lms)"),
            Column("status", "string", allowed=MESSAGE_STATUSES,
                   description="sent (delivered to the carrier) or failed (null: sent)"),
            Column("failure_reason", "string", description="The service's reason for a failure"),
        ),
    ),
)

#: Tables written only by the sample generator: the ground truth models are validated against.
_TRUTH = Table(
    "truth_customers",
    key=("customer_id",),
    canonical=False,
    description="Sample data only: each synthetic customer's latent parameters.",
    columns=(
        Column("customer_id", "string", required=True),
        Column("purchase_process", "string", allowed=("bgnbd", "replenish", "none"),
               description="bgnbd: exact BG/NBD; replenish: gamma gaps around a product's "
                           "replenish_days; none: signed up, never buys"),
        Column("first_order_at", "timestamp", description="First order (the BTYD birth)"),
        Column("purchase_rate", "float64", description="Latent purchases per day while alive"),
        Column("dropout_prob", "float64",
               description="Chance of dropping out after each repeat purchase"),
        Column("dropout_at", "timestamp",
               description="When the customer dropped out: their last order (null: alive)"),
        Column("is_alive", "boolean", description="Still buying at the sample end"),
        Column("mean_order_value", "float64", money=True,
               description="Latent mean spend per order (gamma-gamma p / nu), before discounts"),
        Column("churn_prob_90d", "float64",
               description="True probability of no order in the 90 days after the sample end"),
        Column("expected_orders_90d", "float64",
               description="True expected orders in the 90 days after the sample end"),
        Column("responsiveness", "float64",
               description="Latent multiplier of a message's uplift (log-normal, mean 1)"),
        Column("true_relative_uplift", "float64",
               description="Relative uplift of the customer's chance of ordering within 14 days "
                           "from a standard message sent at the sample end: 0.15 times "
                           "responsiveness times the segment's multiplier (before the caps at "
                           "certainty and a doubled rate); 0 if dropped out"),
        Column("true_uplift", "float64",
               description="Absolute increase of P(order within 14 days) a standard message "
                           "(relative uplift 0.15 times responsiveness times the segment's "
                           "multiplier) sent at the sample end would cause; 0 if dropped out"),
        Column("global_holdout", "boolean",
               description="In the global holdout (default salt, share 0.05): never messaged"),
    ),
)
_TRUTH_CAMPAIGNS = Table(
    "truth_campaigns",
    key=("campaign_id", "variant"),
    canonical=False,
    description="Sample data only: each campaign arm's true effect on ordering in its window.",
    columns=(
        Column("campaign_id", "string", required=True),
        Column("variant", "string", required=True),
        Column("customers", "int64", description="Customers assigned to the arm"),
        Column("window_days", "int64", description="Attribution window after the send"),
        Column("planned_uplift", "float64",
               description="Relative uplift of each customer's chance of ordering in the window "
                           "(capped at certainty; 0 for the holdout)"),
        Column("expected_conversion", "float64",
               description="Expected share of the arm placing an order (any status) in the window"),
        Column("expected_conversion_untreated", "float64",
               description="The same for these customers had they not been messaged"),
        Column("relative_uplift", "float64",
               description="expected_conversion / expected_conversion_untreated - 1"),
        Column("absolute_uplift", "float64",
               description="expected_conversion - expected_conversion_untreated"),
        Column("audience_absolute_uplift", "float64",
               description="The same had the campaign's whole audience (holdout included) got "
                           "this arm: the mean over everyone assigned of P(order | arm) - "
                           "P(order | no message), the estimand a readout's interval targets "
                           "over the random split (absolute_uplift conditions on who got it)"),
        Column("coupon_code", "string", description="The arm's coupon (null: none)"),
        Column("coupon_cost_total", "float64", money=True,
               description="Realised discounts of the arm's coupon on its customers' net orders "
                           "in the window (own and message-caused orders; total, not per "
                           "customer)"),
        Column("coupon_cost_anyway", "float64", money=True,
               description="The part on orders the customers would have placed without the "
                           "message (their own orders)"),
        Column("pull_forward_days", "int64",
               description="Days after the campaign's end in which pulled-forward orders "
                           "remove own orders"),
        Column("pull_forward_orders", "int64",
               description="Realised net own orders removed in those days (total over the arm: "
                           "divide by customers for the treated-minus-holdout dip per customer)"),
        Column("pull_forward_revenue", "float64", money=True,
               description="Net revenue (amount) of those removed orders, total over the arm"),
    ),
)
_TRUTH_PARAMETERS = Table(
    "truth_parameters",
    key=("parameter",),
    canonical=False,
    description="Sample data only: the population parameters the generator drew from.",
    columns=(
        Column("parameter", "string", required=True),
        Column("value", "float64"),
        Column("description", "string"),
    ),
)
_TRUTH_TABLES = (_TRUTH, _TRUTH_CAMPAIGNS, _TRUTH_PARAMETERS)

#: Bookkeeping: one row per load or sample run.
_LOAD_LOG = Table(
    "load_log",
    key=("loaded_at", "table_name"),
    canonical=False,
    description="What was loaded when (file, mapping, mode, rows, fingerprint).",
    columns=(
        Column("loaded_at", "timestamp", required=True),
        Column("table_name", "string", required=True),
        Column("source", "string"),
        Column("mapping", "string"),
        Column("mode", "string"),
        Column("rows_in", "int64"),
        Column("rows_written", "int64"),
        Column("fingerprint", "string"),
        Column("package_version", "string"),
    ),
)

#: Per-customer results for people (dashboards, audience forms), written by ``workbench refresh``.
_SNAPSHOT = Table(
    "snapshot_customers",
    key=("customer_id",),
    canonical=False,
    description="One row per customer as of the snapshot date; later analyses add columns.",
    columns=(
        Column("customer_id", "string", required=True),
        Column("as_of", "date", required=True),
        Column("is_member", "boolean"),
        Column("first_order_at", "timestamp"),
        Column("last_order_at", "timestamp"),
        Column("orders", "int64", description="Net orders before as_of"),
        Column("net_revenue", "float64", money=True),
        Column("orders_365d", "int64"),
        Column("net_revenue_365d", "float64", money=True),
        Column("last_active_at", "timestamp",
               description="Last visit, login or order before as_of"),
        Column("days_since_last_order", "int64"),
        # RFM with default parameters (workbench.rfm.rfm_snapshot); null without net orders.
        Column("recency_days", "float64", description="Days from the last net order to as_of"),
        Column("r_score", "int64", description="Recency score 1-5 (5 = most recent)"),
        Column("f_score", "int64", description="Frequency score 1-5"),
        Column("m_score", "int64", description="Monetary score 1-5"),
        Column("rfm_cell", "string", description="Scores as text, e.g. 5-4-3"),
        Column("segment", "string", description="Named RFM segment id, e.g. champions"),
        Column("is_vip", "boolean", description="3+ net orders in the last 90 days"),
        Column("is_first_time", "boolean", description="Exactly one net order"),
        Column("is_dormant", "boolean", description="No net order in the last 90 days"),
        Column("tier", "string", description="Loyalty tier from 365-day spend and orders"),
        Column("next_tier", "string", description="Tier next month at the current pace"),
        Column("previous_segment", "string",
               description="Segment 30 days before as_of (null: not yet a customer)"),
        # CLV with default parameters (workbench.clv.clv_part); null when the store has too
        # little history for the models.
        Column("expected_purchases_90d", "float64",
               description="Expected repeat purchase days in the 90 days from as_of (BG/NBD)"),
        Column("p_alive", "float64",
               description="Probability the customer is still active at as_of (BG/NBD)"),
        Column("expected_spend", "float64", money=True,
               description="Expected net revenue per purchase day (Gamma-Gamma)"),
        Column("clv", "float64", money=True,
               description="Expected gross margin of the next 12 months, discounted 1%/month"),
        Column("clv_band", "string",
               description="high (top 20% by clv), medium (next 30%), low (bottom 50%)"),
        # Churn risk (workbench.churn.churn_part): the saved model, or one trained at refresh.
        Column("churn_risk", "float64",
               description="Calibrated probability of no net order in the next 90 days"),
        Column("risk_band", "string", allowed=("high", "medium", "low"),
               description="Churn-risk band (capacity rule: top 10% high, next 20% medium)"),
        Column("churn_reasons", "string",
               description="';'-separated reason keys pushing the risk up (high band)"),
        # Uplift (workbench.uplift.uplift_part): trained at refresh on past campaigns' holdouts;
        # null with fewer than two finished campaigns.
        Column("uplift_score", "float64",
               description="Expected increase in P(net order within 14 days) if messaged"),
    ),
)

#: One row per refresh: when, for which as_of, from which data.
_SNAPSHOT_META = Table(
    "snapshot_meta",
    key=("as_of",),
    canonical=False,
    columns=(
        Column("as_of", "date", required=True),
        Column("refreshed_at", "timestamp", required=True),
        Column("customers", "int64"),
        Column("fingerprint", "string"),
        Column("package_version", "string"),
    ),
)

#: Audience exports (workbench.audience): one row per export; PIPA asks that downloads of
#: personal data be recorded.
_EXPORT_LOG = Table(
    "audience_exports",
    key=("export_id",),
    canonical=False,
    description="One row per audience export: who, when, what, why, and the file's hash.",
    columns=(
        Column("export_id", "string", required=True, description="Also the campaign_id"),
        Column("exported_at", "timestamp", required=True),
        Column("author", "string", description="Who exported"),
        Column("audience", "string", required=True),
        Column("audience_version", "int64"),
        Column("purpose", "string", description="Why (the reason for the download)"),
        Column("channel", "string", allowed=CAMPAIGN_CHANNELS),
        Column("is_ad", "boolean"),
        Column("as_of", "timestamp", description="The audience's cut-off"),
        Column("send_at", "timestamp"),
        Column("members", "int64", description="Customers in the audience"),
        Column("excluded", "int64", description="Excluded by the rules"),
        Column("exclusions", "string", description="JSON: rule -> customers excluded"),
        Column("holdout", "int64", description="Eligible customers kept out as the holdout"),
        Column("rows", "int64", description="Rows in the file"),
        Column("holdout_share", "float64"),
        Column("salt", "string"),
        Column("file_name", "string"),
        Column("sha256", "string"),
        Column("package_version", "string"),
        Column("fields", "string",
               description="Personalisation columns in the file, comma-separated"),
        Column("variants", "string", description="JSON: arm -> share, for A/B/n message tests"),
        Column("template_code", "string", description="AlimTalk template code"),
        Column("fallback_rows", "int64",
               description="AlimTalk: customers written to the SMS/LMS fallback file"),
        Column("cooldown_hours", "float64",
               description="--since-last-export: customers exported within this many hours "
                           "were left out"),
    ),
)

#: Who each export covered (file arm, holdout or fallback): the cooldown of hourly scenarios and
#: the frequency cap read it.
_EXPORT_MEMBERS = Table(
    "export_members",
    key=("export_id", "customer_id"),
    canonical=False,
    description="One row per customer an export covered, with the arm they were put in.",
    columns=(
        Column("export_id", "string", required=True),
        Column("customer_id", "string", required=True),
        Column("audience", "string", required=True),
        Column("channel", "string", allowed=CAMPAIGN_CHANNELS,
               description="The channel of the file the customer is in"),
        Column("is_ad", "boolean"),
        Column("variant", "string", description="send, holdout or an arm (A, B, ...)"),
        Column("send_at", "timestamp"),
    ),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (*_TABLES, *_TRUTH_TABLES, _LOAD_LOG, _SNAPSHOT, _SNAPSHOT_META,
                        _EXPORT_LOG, _EXPORT_MEMBERS)
}
#: The tables of the data contract, in load order.
CANONICAL_TABLES = tuple(t.name for t in _TABLES)


def duckdb_ddl(table: Table) -> str:
    """Return the ``CREATE TABLE IF NOT EXISTS`` statement for a table.

    Keys are enforced by the loader, not by constraints: DuckDB primary keys slow bulk inserts
    and make appends of large samples several times slower.

    Examples
    --------
    >>> print(duckdb_ddl(TABLES["products"]))  # doctest: +NORMALIZE_WHITESPACE
    CREATE TABLE IF NOT EXISTS "products" ("product_id" VARCHAR, "name" VARCHAR,
    "category" VARCHAR, "price" DOUBLE, "replenish_days" BIGINT)
    """
    cols = ", ".join(f'"{c.name}" {SQL_TYPES[c.kind]}' for c in table.columns)
    return f'CREATE TABLE IF NOT EXISTS "{table.name}" ({cols})'


def require_columns(present: Sequence[str], required: Sequence[str], *, owner: str,
                    table: str | None = None, hint: str = "") -> None:
    """Refuse a table or frame that lacks required columns, naming them and what it has.

    Parameters
    ----------
    present
        The columns the table or frame has.
    required
        The columns it must have, in the order they are reported.
    owner
        The function or estimator that needs them (``score_rfm``, ``BetaGeo.fit``).
    table
        The argument's name when ``owner`` takes several tables (``'orders'``).
    hint
        A sentence appended to the message (how to compute the columns, a typo found).

    Raises
    ------
    SchemaError
        Some required columns are missing.

    Examples
    --------
    >>> require_columns(["recency"], ["T"], owner="BetaGeo.fit")
    Traceback (most recent call last):
    ...
    workbench.errors.SchemaError: BetaGeo.fit: missing required columns ['T']; got ['recency'].
    """
    columns = list(present)
    missing = [c for c in required if c not in columns]
    if not missing:
        return
    key = "schema.missing_columns_of" if table else "schema.missing_columns"
    raise SchemaError(tr(key, owner=owner, table=table or "", missing=missing, got=columns)
                      + (f" {hint}" if hint and not hint.startswith(" ") else hint))
