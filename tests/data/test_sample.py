"""The synthetic shop: determinism, the data contract, and the statistical shape it promises."""

from __future__ import annotations

import datetime as dt
import re

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from workbench.data.sample import SampleSummary, generate_sample, write_sample
from workbench.data.schema import (
    CANONICAL_TABLES,
    EVENT_TYPES,
    NET_STATUSES,
    ORDER_STATUSES,
    TABLES,
    VARIANT_PATTERN,
)
from workbench.errors import ParameterError
from workbench.settings import Settings

END = dt.date(2026, 11, 16)
CUSTOMERS = 5_000
TRUTH_TABLES = ("truth_customers", "truth_campaigns", "truth_parameters")
ARROW_TYPES = {
    "string": pa.string(), "int64": pa.int64(), "float64": pa.float64(),
    "boolean": pa.bool_(), "timestamp": pa.timestamp("us", tz="Asia/Seoul"), "date": pa.date32(),
}


def _collect(customers: int, seed: int, **kwargs) -> dict[str, pa.Table]:
    parts: dict[str, list[pa.Table]] = {}
    for name, chunk in generate_sample(customers, seed=seed, end=END, **kwargs):
        parts.setdefault(name, []).append(chunk)
    return {name: pa.concat_tables(chunks) for name, chunks in parts.items()}


@pytest.fixture(scope="module")
def sample_shop(tmp_path_factory: pytest.TempPathFactory
                ) -> tuple[SampleSummary, duckdb.DuckDBPyConnection]:
    """A 5,000-customer sample store, written once for the statistical checks of this module."""
    path = tmp_path_factory.mktemp("sample-shape") / "shop.duckdb"
    summary = write_sample(path, CUSTOMERS, seed=11, end=END, settings=Settings())
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET TimeZone = 'Asia/Seoul'")
    yield summary, con
    con.close()


@pytest.fixture(scope="module")
def shop(sample_shop) -> duckdb.DuckDBPyConnection:
    return sample_shop[1]


def one(con: duckdb.DuckDBPyConnection, sql: str):
    return con.execute(sql).fetchone()[0]


# -- determinism and the contract ---------------------------------------------------------------


def test_same_seed_gives_identical_tables_and_another_seed_does_not():
    first, second = _collect(1_200, seed=3), _collect(1_200, seed=3)
    assert first.keys() == second.keys()
    for name in first:
        assert first[name].equals(second[name]), name
    other = _collect(1_200, seed=4)
    assert not other["orders"].equals(first["orders"])
    assert not other["customers"].equals(first["customers"])


def test_every_table_follows_the_schema():
    tables = _collect(300, seed=5)
    assert set(CANONICAL_TABLES) | set(TRUTH_TABLES) == set(tables)
    for name, table in tables.items():
        spec = TABLES[name]
        assert table.column_names == spec.names, name
        for column in spec.columns:
            assert table.schema.field(column.name).type == ARROW_TYPES[column.kind], (
                name, column.name)
            if column.required:
                assert table[column.name].null_count == 0, (name, column.name)


def test_time_zone_is_the_shops():
    tables = _collect(200, seed=5, timezone="Europe/Berlin")
    assert tables["orders"].schema.field("ordered_at").type == pa.timestamp("us",
                                                                             tz="Europe/Berlin")
    midnight = dt.datetime(2026, 11, 16, tzinfo=__import__("zoneinfo").ZoneInfo("Europe/Berlin"))
    assert max(tables["events"]["ts"].to_pylist()) < midnight


def test_store_holds_every_table_and_the_summary_counts_them(sample_shop):
    summary, con = sample_shop
    for name in (*CANONICAL_TABLES, *TRUTH_TABLES):
        assert one(con, f'SELECT count(*) FROM "{name}"') == summary.rows[name] > 0, name
    assert summary.rows["customers"] == CUSTOMERS
    assert "5,000 customers" in summary.summary()
    from workbench.i18n import set_language

    set_language("ko")
    assert "고객 5,000명" in summary.summary()


@pytest.mark.parametrize("name", [*CANONICAL_TABLES, *TRUTH_TABLES])
def test_keys_are_unique(shop, name):
    key = ", ".join(f'"{k}"' for k in TABLES[name].key)
    dupes = one(shop, f'SELECT count(*) FROM (SELECT {key} FROM "{name}" GROUP BY ALL '
                      "HAVING count(*) > 1)")
    assert dupes == 0


def test_categorical_values_are_allowed(shop):
    statuses = {r[0] for r in shop.execute("SELECT DISTINCT status FROM orders").fetchall()}
    assert statuses == set(ORDER_STATUSES)
    types = {r[0] for r in shop.execute("SELECT DISTINCT type FROM events").fetchall()}
    assert types == set(EVENT_TYPES)
    variants = {r[0] for r in shop.execute("SELECT DISTINCT variant FROM assignments").fetchall()}
    assert all(re.fullmatch(VARIANT_PATTERN, v) for v in variants)
    channels = {r[0] for r in shop.execute("SELECT DISTINCT channel FROM orders").fetchall()}
    assert channels == {"own", "naverpay", "kakao", "app"}


def test_nothing_happens_on_or_after_the_end(shop):
    end = "TIMESTAMPTZ '2026-11-16 00:00:00+09'"
    start = "TIMESTAMPTZ '2024-11-16 00:00:00+09'"
    for table, column in [("orders", "ordered_at"), ("orders", "delivered_at"),
                          ("events", "ts"), ("customers", "signup_at"),
                          ("customers", "consent_at"), ("messages", "sent_at"),
                          ("messages", "opened_at"), ("messages", "clicked_at"),
                          ("messages", "unsubscribed_at"), ("assignments", "assigned_at")]:
        assert one(shop, f"SELECT max({column}) < {end} FROM {table}"), (table, column)
        assert one(shop, f"SELECT min({column}) >= {start} FROM {table}"), (table, column)


def test_bad_arguments_raise_readable_errors():
    with pytest.raises(ParameterError, match="'customers' must be a whole number from 1"):
        next(generate_sample(0, end=END))
    with pytest.raises(ParameterError, match="'end' must be a date"):
        next(generate_sample(10, end=dt.datetime(2026, 11, 16)))
    with pytest.raises(ParameterError, match="unknown time zone 'Mars/Olympus'"):
        next(generate_sample(10, end=END, timezone="Mars/Olympus"))
    with pytest.raises(ParameterError, match="'history_days' must be a whole number"):
        next(generate_sample(10, end=END, history_days=7))


def test_progress_is_reported_per_block():
    calls = []
    for _ in generate_sample(120, seed=1, end=END, progress=lambda *a: calls.append(a)):
        pass
    assert calls == [("sample data", 120, 120)]


# -- statistical shape (5,000 customers) ------------------------------------------------------


def test_orders_per_customer_repeat_buyers_and_guests(shop):
    orders = one(shop, "SELECT count(*) FROM orders")
    assert 8.0 <= orders / CUSTOMERS <= 12.5
    repeat = one(shop, "SELECT avg((n >= 2)::INT) FROM (SELECT customer_id, count(*) n "
                       "FROM orders WHERE customer_id IS NOT NULL GROUP BY 1)")
    assert 0.45 <= repeat <= 0.65
    guests = one(shop, "SELECT avg((customer_id IS NULL)::INT) FROM orders")
    assert 0.02 <= guests <= 0.045


def test_statuses_cancellations_returns_and_delivery(shop):
    cancelled = one(shop, "SELECT avg((status = 'cancelled')::INT) FROM orders")
    returned = one(shop, "SELECT avg((status = 'returned')::INT) FROM orders")
    assert 0.04 <= cancelled <= 0.06
    assert 0.01 <= returned <= 0.03
    assert one(shop, "SELECT min(ordered_at) >= TIMESTAMPTZ '2026-11-14 00:00:00+09' FROM orders "
                     "WHERE status = 'pending'")
    assert one(shop, "SELECT count(*) FROM orders WHERE status IN ('delivered', 'confirmed', "
                     "'returned') AND NOT (delivered_at BETWEEN ordered_at + INTERVAL 2 DAY "
                     "AND ordered_at + INTERVAL 4 DAY)") == 0
    assert one(shop, "SELECT count(*) FROM orders WHERE status NOT IN ('delivered', 'confirmed', "
                     "'returned') AND delivered_at IS NOT NULL") == 0


def test_money_is_whole_won_and_consistent(shop):
    assert one(shop, "SELECT count(*) FROM orders WHERE amount != round(amount) OR "
                     "discount != round(discount) OR points_used != round(points_used) "
                     "OR amount <= 0") == 0
    mismatched = one(shop, """
        SELECT count(*) FROM orders o JOIN (
            SELECT order_id, sum(line_amount) lines, count(*) n,
                   bool_and(line_amount = unit_price * quantity) ok
            FROM order_items GROUP BY 1) i USING (order_id)
        WHERE abs(i.lines - o.discount - o.points_used + o.shipping_fee - o.amount) > 0.001
           OR NOT i.ok OR i.n NOT BETWEEN 1 AND 3
           OR o.shipping_fee != CASE WHEN i.lines - o.discount >= 50000 THEN 0 ELSE 3000 END""")
    assert mismatched == 0
    assert one(shop, "SELECT count(*) FROM orders WHERE order_id NOT IN "
                     "(SELECT order_id FROM order_items)") == 0
    aov = one(shop, "SELECT avg(amount) FROM orders")
    assert 35_000 <= aov <= 75_000


def test_net_revenue_is_positive_every_week(shop):
    weeks, bad = shop.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE revenue IS NULL OR revenue <= 0) FROM (
            SELECT date_trunc('week', ordered_at) w,
                   sum(amount) FILTER (WHERE status IN {tuple(NET_STATUSES)}) revenue
            FROM orders GROUP BY 1)""").fetchone()
    assert weeks >= 104 and bad == 0


def test_consent_and_members(shop):
    sms, email, push, night, member = shop.execute(
        "SELECT avg(sms_opt_in::INT), avg(email_opt_in::INT), avg(push_opt_in::INT), "
        "avg(night_opt_in::INT), avg(is_member::INT) FROM customers").fetchone()
    assert 0.40 <= sms <= 0.58 and 0.25 <= email <= 0.42 and 0.12 <= push <= 0.25
    assert 0.10 <= night <= 0.22 and 0.77 <= member <= 0.83
    assert one(shop, "SELECT count(*) FROM customers WHERE night_opt_in AND NOT "
                     "(sms_opt_in OR push_opt_in)") == 0
    assert one(shop, "SELECT count(*) FROM customers WHERE (sms_opt_in OR email_opt_in OR "
                     "push_opt_in) AND consent_at IS NULL") == 0
    assert one(shop, "SELECT count(*) FROM customers WHERE is_member != "
                     "(signup_at IS NOT NULL)") == 0
    assert one(shop, "SELECT count(*) FROM customers WHERE email_opt_in AND email IS NULL") == 0
    assert one(shop, "SELECT count(*) FROM customers WHERE NOT regexp_full_match(phone, "
                     "'010[0-9]{8}')") == 0
    assert one(shop, "SELECT count(DISTINCT phone) FROM customers") == CUSTOMERS
    kim = one(shop, "SELECT avg((name LIKE '김%')::INT) FROM customers")
    assert 0.18 <= kim <= 0.25


def test_member_export_columns(shop):
    # a channel's date is consent_at where the channel is on, else unknown (null)
    for channel in ("sms", "email", "push"):
        assert one(shop, f"SELECT count(*) FROM customers WHERE {channel}_consent_at IS "
                         f"DISTINCT FROM CASE WHEN {channel}_opt_in THEN consent_at END") == 0
    assert one(shop, "SELECT count(*) FROM customers WHERE consent_at IS DISTINCT FROM "
                     "greatest(sms_consent_at, email_consent_at, push_consent_at) "
                     "AND (sms_opt_in OR email_opt_in OR push_opt_in)") == 0
    friend, talk = shop.execute(
        "SELECT avg(kakao_friend::INT) FILTER (WHERE is_member AND sms_opt_in), "
        "avg(has_kakaotalk::INT) FROM customers").fetchone()
    assert 0.31 <= friend <= 0.39 and 0.91 <= talk <= 0.95
    assert one(shop, "SELECT count(*) FROM customers WHERE kakao_friend AND NOT "
                     "(is_member AND sms_opt_in)") == 0
    # grades follow net spend; members only; points in whole won
    assert one(shop, "SELECT count(*) FROM customers WHERE (member_tier IS NULL) = is_member "
                     "OR (points_balance IS NULL) = is_member OR points_balance % 10 != 0") == 0
    spend = dict(shop.execute(
        "SELECT c.member_tier, min(coalesce(s.net, 0)) FROM customers c LEFT JOIN "
        "(SELECT customer_id, sum(amount) AS net FROM orders WHERE status IN "
        "('paid', 'shipped', 'delivered', 'confirmed') GROUP BY 1) s USING (customer_id) "
        "WHERE c.is_member GROUP BY 1").fetchall())
    assert set(spend) == {"일반", "실버", "골드", "VIP"}
    assert spend["실버"] >= 100_000 and spend["골드"] >= 300_000 and spend["VIP"] >= 1_000_000
    # the last login is the latest login event
    assert one(shop, "SELECT count(*) FROM customers c LEFT JOIN (SELECT customer_id, max(ts) "
                     "AS ts FROM events WHERE type = 'login' GROUP BY 1) e USING (customer_id) "
                     "WHERE c.last_login_at IS DISTINCT FROM e.ts") == 0


def test_events_agree_with_orders(shop):
    events = one(shop, "SELECT count(*) FROM events")
    orders = one(shop, "SELECT count(*) FROM orders")
    assert events <= 5.2 * orders
    missing = one(shop, """
        SELECT count(*) FROM orders o WHERE o.customer_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM events e WHERE e.customer_id = o.customer_id
              AND e.type = 'checkout_start' AND e.ts < o.ordered_at
              AND e.ts >= o.ordered_at - INTERVAL 1 HOUR)""")
    assert missing == 0
    # the first line's product was viewed in the order's session
    assert one(shop, """
        SELECT avg(seen::INT) FROM (
            SELECT EXISTS (SELECT 1 FROM events e WHERE e.customer_id = o.customer_id
                AND e.type = 'product_view' AND e.product_id = i.product_id
                AND e.ts BETWEEN o.ordered_at - INTERVAL 1 HOUR AND o.ordered_at) seen
            FROM orders o JOIN order_items i ON i.order_id = o.order_id AND i.line_no = 1
            WHERE o.customer_id IS NOT NULL)""") == 1.0
    assert one(shop, "SELECT count(*) FROM events WHERE type = 'login' AND customer_id IN "
                     "(SELECT customer_id FROM customers WHERE NOT is_member)") == 0
    assert one(shop, "SELECT count(*) FROM events WHERE customer_id IS NULL") > 0
    assert one(shop, "SELECT count(*) FROM events WHERE (type = 'search') != "
                     "(query IS NOT NULL)") == 0


def test_dropouts_fade_from_the_site_rather_than_vanish(shop):
    rates = shop.execute("""
        WITH d AS (SELECT customer_id, dropout_at, first_order_at FROM truth_customers
                   WHERE dropout_at IS NOT NULL
                     AND dropout_at < TIMESTAMPTZ '2026-11-16 00:00:00+09' - INTERVAL 60 DAY
                     AND dropout_at > first_order_at + INTERVAL 60 DAY),
        e AS (SELECT e.customer_id, e.ts, d.dropout_at, d.first_order_at FROM events e
              JOIN d USING (customer_id) WHERE e.type = 'visit')
        SELECT
          count(*) FILTER (WHERE ts < dropout_at AND ts >= dropout_at - INTERVAL 60 DAY),
          count(*) FILTER (WHERE ts > dropout_at AND ts < dropout_at + INTERVAL 14 DAY),
          count(*) FILTER (WHERE ts >= dropout_at + INTERVAL 14 DAY
                           AND ts < dropout_at + INTERVAL 60 DAY)
        FROM e""").fetchone()
    last60, first14, next46 = rates
    assert last60 / 60 > first14 / 14 > next46 / 46 > 0  # fading, not a cliff
    abandoned = shop.execute("""
        SELECT avg((e.ts > t.dropout_at)::INT) FROM events e JOIN truth_customers t
        USING (customer_id) WHERE e.type = 'cart_add' AND t.dropout_at IS NOT NULL""").fetchone()
    assert abandoned[0] > 0
    assert one(shop, "SELECT count(*) FROM orders o JOIN truth_customers t USING (customer_id) "
                     "WHERE t.dropout_at IS NOT NULL AND o.ordered_at > t.dropout_at") == 0


def test_truth_matches_the_data(shop):
    assert one(shop, "SELECT count(*) FROM truth_customers") == CUSTOMERS
    assert one(shop, "SELECT count(*) FROM truth_customers t JOIN customers USING "
                     "(customer_id)") == CUSTOMERS
    assert one(shop, """
        SELECT count(*) FROM truth_customers t JOIN (
            SELECT customer_id, min(ordered_at) f, max(ordered_at) l FROM orders
            WHERE customer_id IS NOT NULL GROUP BY 1) o USING (customer_id)
        WHERE t.first_order_at != o.f OR (t.dropout_at IS NOT NULL AND t.dropout_at != o.l)""") == 0
    assert one(shop, "SELECT count(*) FROM truth_customers WHERE (dropout_at IS NOT NULL OR "
                     "purchase_process = 'none') AND churn_prob_90d != 1") == 0
    assert one(shop, "SELECT count(*) FROM truth_customers WHERE churn_prob_90d NOT BETWEEN 0 "
                     "AND 1 OR expected_orders_90d < 0 OR is_alive = (dropout_at IS NOT NULL "
                     "OR purchase_process = 'none')") == 0
    share = one(shop, "SELECT avg((purchase_process = 'replenish')::INT) FROM truth_customers")
    assert 0.08 <= share <= 0.2


def test_bgnbd_customers_repeat_as_the_model_expects(shop):
    # E[X(T) | lambda, p] = (1 - exp(-lambda p T)) / p repeat purchases in T days (FHL 2005).
    observed, expected = shop.execute("""
        SELECT sum(o.n - 1), sum((1 - exp(-t.purchase_rate * t.dropout_prob * o.T))
                                 / t.dropout_prob)
        FROM truth_customers t JOIN (
            SELECT customer_id, count(*) n,
                   epoch(TIMESTAMPTZ '2026-11-16 00:00:00+09' - min(ordered_at)) / 86400 T
            FROM orders WHERE customer_id IS NOT NULL GROUP BY 1) o USING (customer_id)
        WHERE t.purchase_process = 'bgnbd'""").fetchone()
    assert observed == pytest.approx(expected, rel=0.1)


def test_replenishers_reorder_near_the_products_cycle(shop):
    median_ratio = one(shop, """
        WITH fav AS (
            SELECT o.customer_id, o.ordered_at, i.product_id, p.replenish_days
            FROM orders o JOIN order_items i USING (order_id)
            JOIN products p USING (product_id)
            JOIN truth_customers t USING (customer_id)
            WHERE t.purchase_process = 'replenish' AND i.line_no = 1),
        gaps AS (
            SELECT epoch(ordered_at - lag(ordered_at) OVER (PARTITION BY customer_id, product_id
                   ORDER BY ordered_at)) / 86400 / replenish_days ratio FROM fav)
        SELECT median(ratio) FROM gaps WHERE ratio IS NOT NULL""")
    assert 0.8 <= median_ratio <= 1.2


def test_campaigns_holdouts_consent_and_true_effect(shop):
    rows = shop.execute("""
        SELECT c.campaign_id, c.holdout_share, avg((a.variant = 'holdout')::INT), count(*)
        FROM campaigns c JOIN assignments a USING (campaign_id) GROUP BY ALL""").fetchall()
    # a programme of about two campaigns a month besides the A/B tests CMP001 and CMP002
    assert len(rows) >= 40 and {"CMP001", "CMP002"} <= {r[0] for r in rows}
    for campaign, planned, actual, n in rows:
        assert planned == 0.1
        se = (planned * (1 - planned) / n) ** 0.5
        assert abs(actual - planned) < 4 * se + 1e-9, campaign
    assert one(shop, "SELECT count(*) FROM campaigns WHERE NOT is_ad OR (campaign_id LIKE "
                     "'CMP%' AND started_at < TIMESTAMPTZ '2026-11-16 00:00:00+09' - "
                     "INTERVAL 200 DAY)") == 0
    # attribution windows never overlap, so each holdout measures its own campaign
    assert one(shop, "SELECT count(*) FROM campaigns a JOIN campaigns b ON a.campaign_id < "
                     "b.campaign_id AND a.started_at < b.ended_at AND b.started_at < "
                     "a.ended_at") == 0
    costs = dict(shop.execute("SELECT DISTINCT channel, cost_per_message FROM campaigns "
                              "WHERE campaign_id LIKE 'P%'").fetchall())
    assert costs == {"sms": 10, "lms": 30, "email": 1, "push": 0, "friendtalk": 15}
    # ad messages only to members who had the channel's consent (some withdrew by answering)
    assert one(shop, """
        SELECT count(*) FROM assignments a JOIN campaigns USING (campaign_id)
        JOIN customers c USING (customer_id)
        WHERE NOT c.is_member OR NOT CASE channel WHEN 'email' THEN c.email_opt_in
            WHEN 'push' THEN c.push_opt_in WHEN 'friendtalk' THEN c.kakao_friend
            ELSE c.sms_opt_in END AND a.customer_id NOT IN (
            SELECT customer_id FROM messages WHERE unsubscribed_at IS NOT NULL)""") == 0
    assert one(shop, "SELECT count(*) FROM messages WHERE variant = 'holdout'") == 0
    assert one(shop, "SELECT count(*) FROM assignments WHERE variant != 'holdout'") == one(
        shop, "SELECT count(*) FROM messages")
    assert one(shop, "SELECT count(*) FROM messages m JOIN campaigns c USING (campaign_id) "
                     "WHERE m.channel != c.channel") == 0
    assert one(shop, "SELECT count(*) FROM messages WHERE opened_at < sent_at OR "
                     "clicked_at < sent_at OR (clicked_at IS NOT NULL AND opened_at IS NULL "
                     "AND channel NOT IN ('sms', 'lms')) OR (opened_at IS NOT NULL AND "
                     "channel IN ('sms', 'lms'))") == 0
    click = one(shop, "SELECT avg((clicked_at IS NOT NULL)::INT) FROM messages")
    assert 0.01 <= click <= 0.15
    truth = shop.execute("SELECT t.variant, t.planned_uplift, t.relative_uplift, t.customers, "
                         "t.expected_conversion FROM truth_campaigns t").fetchall()
    assert len(truth) == one(shop, "SELECT count(*) FROM (SELECT DISTINCT campaign_id, "
                                   "variant FROM assignments)")
    for variant, planned, relative, customers, conversion in truth:
        assert customers > 0 and 0 <= conversion <= 1
        if variant == "holdout":
            assert relative == 0
        elif customers >= 200:
            # each customer's uplift is the arm's times responsiveness (mean 1) times the
            # segment's multiplier (0.5-1.8), capped where the chance nears certainty
            assert 0.4 * planned <= relative <= 2.0 * planned


def test_global_holdout_gets_no_campaign(shop):
    from workbench.abtest import in_global_holdout

    ids = [r[0] for r in shop.execute("SELECT customer_id FROM customers").fetchall()]
    flags = dict(shop.execute("SELECT customer_id, global_holdout FROM truth_customers"
                              ).fetchall())
    expected = in_global_holdout(ids, 0.05)
    assert [flags[c] for c in ids] == expected.tolist()
    assert 0.04 <= expected.mean() <= 0.06
    assert one(shop, "SELECT count(*) FROM assignments JOIN truth_customers USING "
                     "(customer_id) WHERE global_holdout") == 0
    truth = dict(shop.execute("SELECT parameter, value FROM truth_parameters").fetchall())
    assert truth["global_holdout_share"] == 0.05
    assert truth["crm_absolute_uplift"] == pytest.approx(
        truth["crm_conversion"] - truth["crm_conversion_untreated"])
    assert 0 < truth["crm_absolute_uplift"] < 0.05


def test_campaign_orders_use_its_coupons_only_in_its_window(shop):
    outside = one(shop, """
        SELECT count(*) FROM orders o JOIN campaigns c ON o.coupon_code IN ('SMS15', 'SMSSHIP')
            AND c.campaign_id = 'CMP001'
        WHERE o.ordered_at < c.started_at OR o.ordered_at > c.ended_at + INTERVAL 1 HOUR""")
    assert outside == 0
    assert one(shop, "SELECT count(*) FROM orders WHERE coupon_code LIKE 'KAKAO%'") > 0


def test_catalogue(shop):
    n, consumables, durable_days = shop.execute("""
        SELECT count(*), count(*) FILTER (WHERE category IN ('beauty', 'food', 'pet')
                                          AND replenish_days IN (14, 30, 45, 60)),
               count(replenish_days) FILTER (WHERE category IN ('living', 'fashion'))
        FROM products""").fetchone()
    assert n == 200 and consumables == 120 and durable_days == 0
    assert one(shop, "SELECT count(*) FROM products WHERE price % 100 != 0") == 0
    assert one(shop, "SELECT count(DISTINCT name) FROM products") == 200


# -- the ground truth can be recovered ----------------------------------------------------------


def _bgnbd_fit(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    """Fit BG/NBD by maximum likelihood (the likelihood of Fader, Hardie and Lee 2005, sec. 3)."""
    from scipy.optimize import minimize
    from scipy.special import betaln, gammaln

    x, tx, T = np.array(con.execute("""
        SELECT count(*) - 1, epoch(max(ordered_at) - min(ordered_at)) / 86400,
               epoch(TIMESTAMPTZ '2026-11-16 00:00:00+09' - min(ordered_at)) / 86400
        FROM orders JOIN truth_customers USING (customer_id)
        WHERE purchase_process = 'bgnbd' GROUP BY customer_id""").fetchall(), dtype=float).T

    def nll(theta: np.ndarray) -> float:
        r, alpha, a, b = np.exp(theta)
        common = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x) - betaln(a, b)
        alive = -(r + x) * np.log(alpha + T)
        dropped = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-12))
                           - (r + x) * np.log(alpha + tx), -np.inf)
        return -np.sum(common + np.logaddexp(alive, dropped))

    res = minimize(nll, np.log([0.3, 5.0, 1.0, 20.0]), method="Nelder-Mead",
                   options={"maxiter": 4000, "xatol": 1e-6, "fatol": 1e-6})
    return dict(zip(("r", "alpha", "a", "b"), np.exp(res.x), strict=True))


def _truth(con: duckdb.DuckDBPyConnection) -> dict[str, float]:
    return dict(con.execute("SELECT parameter, value FROM truth_parameters").fetchall())


def test_bgnbd_fit_recovers_the_generators_parameters(shop):
    fitted, truth = _bgnbd_fit(shop), _truth(shop)
    assert fitted["r"] == pytest.approx(truth["bgnbd_r"], rel=0.15)
    assert fitted["alpha"] == pytest.approx(truth["bgnbd_alpha"], rel=0.25)
    mean_p = fitted["a"] / (fitted["a"] + fitted["b"])
    assert mean_p == pytest.approx(truth["bgnbd_a"] / (truth["bgnbd_a"] + truth["bgnbd_b"]),
                                   rel=0.3)


@pytest.mark.slow
def test_bgnbd_fit_recovers_all_four_parameters_on_50k_customers(tmp_path):
    path = tmp_path / "big.duckdb"
    write_sample(path, 50_000, seed=8, end=END, settings=Settings())
    con = duckdb.connect(str(path), read_only=True)
    fitted, truth = _bgnbd_fit(con), _truth(con)
    for name in ("r", "alpha", "a", "b"):
        assert fitted[name] == pytest.approx(truth[f"bgnbd_{name}"], rel=0.1), name


def test_spend_follows_each_customers_latent_mean(shop):
    corr, realised, latent = shop.execute("""
        WITH s AS (SELECT order_id, sum(line_amount) spend FROM order_items GROUP BY 1),
        c AS (SELECT customer_id, avg(spend) spend FROM orders JOIN s USING (order_id)
              WHERE customer_id IS NOT NULL GROUP BY 1 HAVING count(*) >= 5)
        SELECT corr(ln(c.spend), ln(t.mean_order_value)), avg(c.spend), avg(t.mean_order_value)
        FROM c JOIN truth_customers t USING (customer_id)""").fetchone()
    assert corr > 0.7
    assert realised == pytest.approx(latent, rel=0.2)
