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
    description_ko
        The same line in Korean (the data contract's Korean docs).
    """

    name: str
    kind: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    nonnegative: bool = False
    money: bool = False
    pii: bool = False
    description: str = ""
    description_ko: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """A canonical table: name, key columns and columns in storage order.

    ``description`` and ``description_ko`` say what one row is, in English and Korean (the
    data contract's docs, :mod:`workbench.data.contract_docs`).
    """

    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    description: str = ""
    canonical: bool = True
    description_ko: str = ""
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


def _money(name: str, description: str, required: bool = False, *,
           description_ko: str = "") -> Column:
    return Column(name, "float64", required=required, nonnegative=True, money=True,
                  description=description, description_ko=description_ko)


_TABLES = (
    Table(
        "customers",
        key=("customer_id",),
        description="One row per customer (member or keyed guest).",
        description_ko="고객 한 명당 한 행(회원 또는 키가 있는 비회원).",
        columns=(
            Column("customer_id", "string", required=True,
                   description="Shop's customer key (text)",
                   description_ko="상점의 고객 키(글자)"),
            Column("signup_at", "timestamp", description="Sign-up time (members)",
                   description_ko="회원 가입 시각(회원)"),
            Column("name", "string", pii=True,
                   description="Customer's name",
                   description_ko="고객 이름"),
            Column("phone", "string", pii=True, description="Digits only, e.g. 01012345678",
                   description_ko="숫자만, 예: 01012345678"),
            Column("email", "string", pii=True,
                   description="E-mail address",
                   description_ko="이메일 주소"),
            Column("birth_date", "date", pii=True,
                   description="Date of birth",
                   description_ko="생년월일"),
            Column("region", "string", description="Province/city, e.g. 서울",
                   description_ko="시·도, 예: 서울"),
            Column("acquisition_channel", "string", description="How the customer first came",
                   description_ko="처음 유입된 경로"),
            Column("is_member", "boolean",
                   description="Member (not a keyed guest)",
                   description_ko="회원 여부(키가 있는 비회원이 아님)"),
            Column("sms_opt_in", "boolean", description="Advertising consent: SMS/LMS/Kakao",
                   description_ko="광고 수신 동의: 문자(SMS/LMS)·카카오"),
            Column("email_opt_in", "boolean", description="Advertising consent: email",
                   description_ko="광고 수신 동의: 이메일"),
            Column("push_opt_in", "boolean", description="Advertising consent: app push",
                   description_ko="광고 수신 동의: 앱 푸시"),
            Column("night_opt_in", "boolean", description="Separate consent for 21:00-08:00 ads",
                   description_ko="야간(21:00-08:00) 광고 수신 별도 동의"),
            Column("consent_at", "timestamp", description="When consent was last given/confirmed",
                   description_ko="동의를 마지막으로 받거나 확인한 시각"),
            # Per-channel consent dates (member exports carry one per flag); the 2-year
            # re-confirmation rule reads a channel's own date, else consent_at.
            Column("sms_consent_at", "timestamp", description="When SMS consent was last set",
                   description_ko="문자 수신 동의를 마지막으로 정한 시각"),
            Column("email_consent_at", "timestamp",
                   description="When email consent was last set",
                   description_ko="이메일 수신 동의를 마지막으로 정한 시각"),
            Column("push_consent_at", "timestamp", description="When push consent was last set",
                   description_ko="푸시 수신 동의를 마지막으로 정한 시각"),
            Column("kakao_friend", "boolean",
                   description="Friend of the shop's KakaoTalk channel (FriendTalk ads)",
                   description_ko="상점 카카오톡 채널 친구(친구톡 광고)"),
            Column("has_kakaotalk", "boolean",
                   description="Phone has KakaoTalk (false: AlimTalk goes to the SMS fallback; "
                               "null: unknown)",
                   description_ko="카카오톡 사용 여부(거짓: 알림톡이 문자로 대체 발송, "
                                  "비어 있음: 모름)"),
            Column("member_tier", "string", description="Shop's membership grade (회원등급)",
                   description_ko="상점의 회원등급"),
            _money("points_balance", "Points (적립금) the customer can still spend",
                   description_ko="고객이 아직 쓸 수 있는 적립금"),
            Column("last_login_at", "timestamp", description="Last login (member exports)",
                   description_ko="마지막 로그인(회원 내보내기 파일)"),
        ),
    ),
    Table(
        "orders",
        key=("order_id",),
        description="One row per order; net revenue counts paid/shipped/delivered/confirmed.",
        description_ko="주문 한 건당 한 행; 순매출은 결제·배송 중·배송 완료·구매 확정 주문을 "
                       "셉니다.",
        columns=(
            Column("order_id", "string", required=True,
                   description="Shop's order key",
                   description_ko="상점의 주문 키"),
            Column("customer_id", "string", description="Null for guest orders",
                   description_ko="비회원 주문은 비어 있음"),
            Column("ordered_at", "timestamp", required=True,
                   description="When the order was placed",
                   description_ko="주문 시각"),
            Column("status", "string", required=True, allowed=ORDER_STATUSES,
                   description="Order status; net revenue counts paid, shipped, delivered and "
                               "confirmed",
                   description_ko="주문 상태; 순매출은 결제·배송 중·배송 완료·구매 확정만 셉니다"),
            _money("amount", "Net amount paid", required=True,
                   description_ko="실제 결제한 순금액"),
            _money("discount", "Coupon and other discounts",
                   description_ko="쿠폰 등 할인 금액"),
            _money("points_used", "Points (적립금) spent",
                   description_ko="사용한 적립금"),
            _money("shipping_fee", "Shipping fee paid",
                   description_ko="결제한 배송비"),
            Column("coupon_code", "string",
                   description="Coupon used (null: none)",
                   description_ko="사용한 쿠폰 코드(비어 있으면 없음)"),
            Column("channel", "string", description="own / naverpay / marketplace / app ...",
                   description_ko="자사몰 / 네이버페이 / 오픈마켓 / 앱 ..."),
            Column("delivered_at", "timestamp",
                   description="When the order was delivered",
                   description_ko="배송 완료 시각"),
        ),
    ),
    Table(
        "order_items",
        key=("order_id", "line_no"),
        description="Order lines.",
        description_ko="주문 상품 줄.",
        columns=(
            Column("order_id", "string", required=True,
                   description="The order the line belongs to",
                   description_ko="상품 줄이 속한 주문"),
            Column("line_no", "int64", required=True, nonnegative=True,
                   description="Line number within the order",
                   description_ko="주문 안의 줄 번호"),
            Column("product_id", "string",
                   description="Product key (products table)",
                   description_ko="상품 키(상품 테이블)"),
            Column("product_name", "string",
                   description="Product name at the time of the order",
                   description_ko="주문 당시 상품명"),
            Column("category", "string",
                   description="Product category",
                   description_ko="상품 카테고리"),
            Column("option", "string",
                   description="Chosen option, e.g. colour / size",
                   description_ko="선택한 옵션(예: 색상 / 사이즈)"),
            Column("quantity", "int64", required=True, nonnegative=True,
                   description="Units bought",
                   description_ko="구매 수량"),
            _money("unit_price", "Price per unit",
                   description_ko="개당 가격"),
            _money("line_amount", "Amount paid for the line", required=True,
                   description_ko="이 줄에 결제한 금액"),
        ),
    ),
    Table(
        "products",
        key=("product_id",),
        description="Catalogue.",
        description_ko="상품 목록.",
        columns=(
            Column("product_id", "string", required=True,
                   description="Shop's product key",
                   description_ko="상점의 상품 키"),
            Column("name", "string",
                   description="Product name",
                   description_ko="상품명"),
            Column("category", "string",
                   description="Product category",
                   description_ko="상품 카테고리"),
            _money("price", "List price",
                   description_ko="정가"),
            Column("replenish_days", "int64", nonnegative=True,
                   description="Typical days until a repeat purchase (consumables)",
                   description_ko="재구매까지 걸리는 보통 일수(소모품)"),
        ),
    ),
    Table(
        "events",
        key=("customer_id", "visitor_id", "ts", "type"),
        description="Web and app events; customer_id is null for anonymous visitors.",
        description_ko="웹과 앱 이벤트; 익명 방문자는 customer_id가 비어 있습니다.",
        columns=(
            Column("customer_id", "string",
                   description="Logged-in customer (null: anonymous)",
                   description_ko="로그인한 고객(비어 있으면 익명)"),
            Column("visitor_id", "string",
                   description="Browser or app visitor key",
                   description_ko="브라우저나 앱 방문자 키"),
            Column("ts", "timestamp", required=True,
                   description="When the event happened",
                   description_ko="이벤트 발생 시각"),
            Column("session_id", "string",
                   description="Visit session",
                   description_ko="방문 세션"),
            Column("type", "string", required=True, allowed=EVENT_TYPES,
                   description="Event type",
                   description_ko="이벤트 종류"),
            Column("product_id", "string",
                   description="Product viewed or put in the cart",
                   description_ko="조회하거나 장바구니에 담은 상품"),
            Column("query", "string",
                   description="Search words",
                   description_ko="검색어"),
        ),
    ),
    Table(
        "campaigns",
        key=("campaign_id",),
        description="CRM campaigns (sends), with their holdout share and cost.",
        description_ko="CRM 캠페인(발송)과 대조군 비율, 비용.",
        columns=(
            Column("campaign_id", "string", required=True,
                   description="Shop's campaign key",
                   description_ko="상점의 캠페인 키"),
            Column("name", "string",
                   description="Campaign name",
                   description_ko="캠페인 이름"),
            Column("channel", "string", required=True, allowed=CAMPAIGN_CHANNELS,
                   description="Channel the messages went out on",
                   description_ko="메시지를 보낸 채널"),
            Column("is_ad", "boolean", description="Advertising message (consent rules apply)",
                   description_ko="광고성 메시지(수신 동의 규칙 적용)"),
            Column("started_at", "timestamp", required=True,
                   description="When sending started",
                   description_ko="발송 시작 시각"),
            Column("ended_at", "timestamp",
                   description="When the campaign ended",
                   description_ko="캠페인 종료 시각"),
            Column("holdout_share", "float64", nonnegative=True,
                   description="Share of the audience kept out as the holdout",
                   description_ko="대조군(홀드아웃)으로 남긴 대상 고객 비율"),
            _money("cost_per_message", "Cost of one message",
                   description_ko="메시지 한 건 비용"),
        ),
    ),
    Table(
        "assignments",
        key=("campaign_id", "customer_id"),
        description="Which variant each customer got in a campaign (including the holdout).",
        description_ko="캠페인에서 고객마다 받은 실험군(대조군 포함).",
        columns=(
            Column("campaign_id", "string", required=True,
                   description="The campaign",
                   description_ko="캠페인"),
            Column("customer_id", "string", required=True,
                   description="The customer",
                   description_ko="고객"),
            Column("variant", "string", required=True,
                   description="holdout, control, A, B, ...",
                   description_ko="실험군: holdout(대조군), control, A, B 등"),
            Column("assigned_at", "timestamp", required=True,
                   description="When the customer was assigned",
                   description_ko="고객을 배정한 시각"),
        ),
    ),
    Table(
        "messages",
        key=("campaign_id", "customer_id"),
        description="Messages sent and how each was answered.",
        description_ko="보낸 메시지와 각 메시지에 대한 반응.",
        columns=(
            Column("campaign_id", "string", required=True,
                   description="The campaign",
                   description_ko="캠페인"),
            Column("customer_id", "string", required=True,
                   description="The customer",
                   description_ko="고객"),
            Column("variant", "string",
                   description="Arm the customer was in",
                   description_ko="고객이 속한 실험군"),
            Column("sent_at", "timestamp", required=True,
                   description="When the message was sent",
                   description_ko="메시지 발송 시각"),
            Column("opened_at", "timestamp",
                   description="When it was opened (null: not opened)",
                   description_ko="열어 본 시각(비어 있으면 열지 않음)"),
            Column("clicked_at", "timestamp",
                   description="When its link was clicked",
                   description_ko="링크를 누른 시각"),
            Column("unsubscribed_at", "timestamp",
                   description="When the customer unsubscribed from it",
                   description_ko="이 메시지로 수신 거부한 시각"),
            Column("channel", "string", allowed=CAMPAIGN_CHANNELS,
                   description="Channel the message went out on (AlimTalk fallbacks: sms/lms)",
                   description_ko="메시지를 보낸 채널(알림톡 대체 발송: sms/lms)"),
            Column("status", "string", allowed=MESSAGE_STATUSES,
                   description="sent (delivered to the carrier) or failed (null: sent)",
                   description_ko="sent(통신사에 전달) 또는 failed(비어 있으면 sent)"),
            Column("failure_reason", "string", description="The service's reason for a failure",
                   description_ko="발송 서비스가 알려 준 실패 이유"),
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
    description_ko="스냅샷 기준일의 고객별 한 행; 분석이 늘면 열이 추가됩니다.",
    columns=(
        Column("customer_id", "string", required=True, description="Shop's customer key",
               description_ko="상점의 고객 키"),
        Column("as_of", "date", required=True,
               description="Snapshot date: every fact uses data strictly before it",
               description_ko="스냅샷 기준일: 모든 값은 이 날짜 이전 데이터로 계산"),
        Column("is_member", "boolean", description="Member (customers table; false if unknown)",
               description_ko="회원 여부(고객 테이블, 모르면 거짓)"),
        Column("first_order_at", "timestamp", description="First net order",
               description_ko="첫 순주문 시각"),
        Column("last_order_at", "timestamp", description="Last net order before as_of",
               description_ko="기준일 이전 마지막 순주문 시각"),
        Column("orders", "int64", description="Net orders before as_of",
               description_ko="기준일 이전 순주문 수"),
        Column("net_revenue", "float64", money=True, description="Net revenue before as_of",
               description_ko="기준일 이전 순매출"),
        Column("orders_365d", "int64", description="Net orders in the 365 days before as_of",
               description_ko="기준일 전 365일 동안의 순주문 수"),
        Column("net_revenue_365d", "float64", money=True,
               description="Net revenue in the 365 days before as_of",
               description_ko="기준일 전 365일 동안의 순매출"),
        Column("last_active_at", "timestamp",
               description="Last visit, login or order before as_of",
               description_ko="기준일 이전 마지막 방문·로그인·주문 시각"),
        Column("days_since_last_order", "int64",
               description="Local calendar days from the last net order to as_of (null: none)",
               description_ko="마지막 순주문일부터 기준일까지의 달력 일수(주문 없음: 비어 있음)"),
        # RFM with default parameters (workbench.rfm.rfm_snapshot); null without net orders.
        Column("recency_days", "float64", description="Days from the last net order to as_of",
               description_ko="마지막 순주문부터 기준일까지의 일수"),
        Column("r_score", "int64", description="Recency score 1-5 (5 = most recent)",
               description_ko="최근성 점수 1-5(5 = 가장 최근)"),
        Column("f_score", "int64", description="Frequency score 1-5",
               description_ko="구매 빈도 점수 1-5"),
        Column("m_score", "int64", description="Monetary score 1-5",
               description_ko="구매 금액 점수 1-5"),
        Column("rfm_cell", "string", description="Scores as text, e.g. 5-4-3",
               description_ko="점수를 이어 쓴 글자(예: 5-4-3)"),
        Column("segment", "string", description="Named RFM segment id, e.g. champions",
               description_ko="이름 붙은 RFM 세그먼트 ID(예: champions)"),
        Column("is_vip", "boolean", description="3+ net orders in the last 90 days",
               description_ko="최근 90일 순주문 3건 이상"),
        Column("is_first_time", "boolean", description="Exactly one net order",
               description_ko="순주문이 정확히 한 건"),
        Column("is_dormant", "boolean", description="No net order in the last 90 days",
               description_ko="최근 90일 순주문 없음"),
        Column("tier", "string", description="Loyalty tier from 365-day spend and orders",
               description_ko="최근 365일 구매 금액과 주문 수로 정한 등급"),
        Column("next_tier", "string", description="Tier next month at the current pace",
               description_ko="지금 구매 속도라면 다음 달의 등급"),
        Column("previous_segment", "string",
               description="Segment 30 days before as_of (null: not yet a customer)",
               description_ko="기준일 30일 전의 세그먼트(비어 있으면 그때는 아직 고객이 아님)"),
        # CLV with default parameters (workbench.clv.clv_part); null when the store has too
        # little history for the models.
        Column("expected_purchases_90d", "float64",
               description="Expected repeat purchase days in the 90 days from as_of (BG/NBD)",
               description_ko="기준일부터 90일 동안 예상되는 재구매 일수(BG/NBD)"),
        Column("p_alive", "float64",
               description="Probability the customer is still active at as_of (BG/NBD)",
               description_ko="기준일에 고객이 아직 활동 중일 확률(BG/NBD)"),
        Column("expected_spend", "float64", money=True,
               description="Expected net revenue per purchase day (Gamma-Gamma)",
               description_ko="구매일 하루당 예상 순매출(Gamma-Gamma)"),
        Column("clv", "float64", money=True,
               description="Expected gross margin of the next 12 months, discounted 1%/month",
               description_ko="향후 12개월 예상 매출총이익(월 1% 할인)"),
        Column("clv_band", "string",
               description="high (top 20% by clv), medium (next 30%), low (bottom 50%)",
               description_ko="high(clv 상위 20%), medium(다음 30%), low(하위 50%)"),
        # Churn risk (workbench.churn.churn_part): the saved model, or one trained at refresh.
        Column("churn_risk", "float64",
               description="Calibrated probability of no net order in the next 90 days",
               description_ko="향후 90일 동안 순주문이 없을 확률(보정됨)"),
        Column("risk_band", "string", allowed=("high", "medium", "low"),
               description="Churn-risk band (capacity rule: top 10% high, next 20% medium)",
               description_ko="이탈 위험 구간(처리 용량 규칙: 상위 10% high, 다음 20% medium)"),
        Column("churn_reasons", "string",
               description="';'-separated reason keys pushing the risk up (high band)",
               description_ko="위험을 높이는 이유 키를 ';'로 이어 쓴 값(high 구간)"),
        # Uplift (workbench.uplift.uplift_part): trained at refresh on past campaigns' holdouts;
        # null with fewer than two finished campaigns.
        Column("uplift_score", "float64",
               description="Expected increase in P(net order within 14 days) if messaged",
               description_ko="메시지를 보내면 14일 안에 순주문할 확률이 늘어나는 정도(예상)"),
        # Next order (workbench.clv.next_order): BG/NBD blended with the customer's own gaps,
        # recalibrated on an earlier window; null when the CLV models refuse the data.
        Column("p_order_7d", "float64",
               description="Probability of at least one net order in the 7 days from as_of",
               description_ko="기준일부터 7일 안에 순주문이 한 건 이상 있을 확률"),
        Column("p_order_30d", "float64",
               description="Probability of at least one net order in the 30 days from as_of",
               description_ko="기준일부터 30일 안에 순주문이 한 건 이상 있을 확률"),
        Column("p_order_90d", "float64",
               description="Probability of at least one net order in the 90 days from as_of",
               description_ko="기준일부터 90일 안에 순주문이 한 건 이상 있을 확률"),
        Column("next_order_date", "date",
               description="Expected date (shop-local) of the next net order, if within 90 days",
               description_ko="90일 안에 주문한다면 예상되는 다음 순주문 날짜(상점 현지 날짜)"),
        # Recommendation (workbench.recommend.recommend_part): item-to-item co-purchase model
        # trained at refresh; customers without a net order get the best seller.
        Column("recommended_product", "string",
               description="Product id to recommend next (co-purchase model, shop's rules)",
               description_ko="다음에 추천할 상품 ID(함께 구매 모델, 상점 규칙 적용)"),
        Column("recommended_product_name", "string",
               description="Name of recommended_product",
               description_ko="추천 상품의 이름"),
        # CLV range (workbench.clv.intervals): 80% posterior-predictive interval of clv;
        # null when the CLV models refuse the data.
        Column("clv_low", "float64", money=True,
               description="Lower end of the 80% range of clv (10th percentile; 0 when the "
                           "customer likely buys nothing)",
               description_ko="clv의 80% 범위 하한(10번째 백분위수, 구매하지 않을 가능성이 "
                              "크면 0)"),
        Column("clv_high", "float64", money=True,
               description="Upper end of the 80% range of clv (90th percentile, or 80th "
                           "when the range starts at 0)",
               description_ko="clv의 80% 범위 상한(90번째 백분위수, 범위가 0에서 "
                              "시작하면 80번째)"),
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
