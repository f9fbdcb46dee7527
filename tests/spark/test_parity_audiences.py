"""Every audience recipe and every condition type selects the same customers on every engine.

Each recipe and one small rule per condition type is evaluated on DuckDB (the reference) and on
each ``other_con`` (Spark; DuckDB with the session zone UTC); the member sets must be equal.
All audiences of one engine are fetched in one query (a UNION ALL of labelled id lists), since
Spark pays a fixed cost per query.

The conditions on model scores (``churn_risk``, ``clv_band``, ``likely_to_respond``) read the
snapshot, which the sample leaves empty: they run on a copy of the sample with a snapshot for
``AS_OF`` (values made up from the customer ids; the snapshot's own parity is in
``test_parity_models.py``), read by Spark through a separate session of the same context, so
the shared session's tables stay as they are.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.spark.conftest import AS_OF


def _rules():
    from workbench.audience import Condition

    c = Condition.make
    return {
        "consent": c("consent", channel="sms"),
        "consent_night": c("consent", channel="night"),
        "signup": c("signup", from_ago="90d"),
        "signup_between": c("signup", from_ago="400d", to_ago="30d"),
        "membership": c("membership", is_member=False),
        "region": c("region", values=["서울", "부산"]),
        "member_tier": c("member_tier", values=["VIP", "골드"]),
        "points_balance": c("points_balance", min_points=3000),
        "age_band": c("age_band", bands=["20s", "30s"]),
        "age_years": c("age_band", min_years=30, max_years=45),
        "birthday": c("birthday", within_days=3),
        "birthday_month": c("birthday_month", month="this"),
        "signup_anniversary": c("signup_anniversary", within_days=5),
        "acquisition_channel": c("acquisition_channel", values=["naver", "kakao"]),
        "kakao_friend": c("kakao_friend"),
        "orders": c("orders", from_ago="60d", min_count=2),
        "orders_amount": c("orders", from_ago="180d", min_amount=100000, max_count=5),
        "orders_delivered": c("orders", date_field="delivered", from_ago="14d", to_ago="7d",
                              statuses=["delivered", "confirmed"]),
        "orders_cancelled": c("orders", statuses=["cancelled", "returned"]),
        "orders_never": c("orders", min_count=0, max_count=0),
        "first_order_coupon": c("first_order_coupon"),
        "first_order_no_coupon": c("first_order_coupon", used=False, from_ago="365d"),
        "cart": c("cart"),
        "cart_hours": c("cart", min_age="1h", max_age="72h", not_purchased_since=False),
        "product_views": c("product_views", min_count=2),
        "product_views_total": c("product_views", from_ago="90d", min_count=3,
                                 per_product=False),
        "visits": c("visits", min_days=3),
        "visits_login": c("visits", event="login", from_ago="30d"),
        "visited_not_signed_up": c("visited_not_signed_up", from_ago="60d"),
        "searches": c("searches", query="크림", from_ago="90d"),
        "checkout_abandoned": c("checkout_abandoned", from_ago="30d"),
        "rfm_segment": c("rfm_segment", values=["champions", "loyal", "at_risk"]),
        "tier": c("tier", values=["gold", "silver"]),
        "replenishment_due": c("replenishment_due", min_repeats=1, due_within_days=30,
                               max_overdue_days=30),
        "replenishment_product": c("replenishment_due", level="product", min_repeats=1,
                                   due_within_days=60, max_overdue_days=60),
    }


def _snapshot_rules():
    from workbench.audience import Condition

    c = Condition.make
    return {
        "churn_risk": c("churn_risk", values=["high", "medium"]),
        "clv_band": c("clv_band", values=["high"]),
        "likely_to_respond": c("likely_to_respond", top_percent=30),
        "likely_to_respond_min": c("likely_to_respond", top_percent=50, min_score=0.02),
        "rfm_segment_snapshot": c("rfm_segment", values=["champions", "lost"]),
        "likely_to_buy": c("likely_to_buy", window_days=30, min_probability=0.5),
        "likely_to_buy_top": c("likely_to_buy", window_days=7, min_probability=None,
                               top_percent=20),
        "next_order_due": c("next_order_due", within_days=14),
        "clv_range": c("clv_range", surely_at_least=2000.0),
        "clv_range_most": c("clv_range", surely_at_least=None, surely_at_most=4000.0),
        "recommended_product": c("recommended_product", products=["P0001", "P0002"]),
    }


def _members(con, settings, audiences, as_of=AS_OF):
    """Return ``{name: sorted member ids}`` of every audience, in one query."""
    import ibis

    from workbench.audience import Audience, Group
    from workbench.data.memo import clear_memos

    clear_memos()
    parts = []
    for name, rules in audiences.items():
        if not hasattr(rules, "rules"):
            rules = Group("and", (rules,))
        ids = Audience(rules, con, as_of=as_of, settings=settings).ids()
        parts.append(ids.mutate(audience=ibis.literal(name)))
    frame = ibis.union(*parts, distinct=False).to_pandas()
    out = {name: [] for name in audiences}
    for name, group in frame.groupby("audience"):
        out[str(name)] = sorted(group["customer_id"].astype(str))
    return out


def _recipes():
    from workbench.audience import RECIPES, load_recipe

    return {name: load_recipe(name) for name in RECIPES}


def _assert_same_members(expected, got):
    assert list(expected) == list(got)
    differ = {name: (len(expected[name]), len(got[name]),
                     sorted(set(expected[name]) ^ set(got[name]))[:5])
              for name in expected if expected[name] != got[name]}
    assert not differ, f"member sets differ (reference, other, first differences): {differ}"


@pytest.fixture(scope="module")
def recipe_reference(duck_con, parity_settings):
    return _members(duck_con, parity_settings, _recipes())


@pytest.fixture(scope="module")
def condition_reference(duck_con, parity_settings):
    return _members(duck_con, parity_settings, _rules())


def test_recipes(other_con, recipe_reference, parity_settings):
    _assert_same_members(recipe_reference, _members(other_con, parity_settings, _recipes()))


def test_conditions(other_con, condition_reference, parity_settings):
    _assert_same_members(condition_reference, _members(other_con, parity_settings, _rules()))


def test_hour_cutoff(other_con, duck_con, parity_settings):
    """A datetime ``as_of`` cuts at that instant (hours, not days) on every engine."""
    at = datetime.combine(AS_OF - timedelta(days=1), datetime.min.time()).replace(hour=21)
    rules = {"cart_1h": _rules()["cart_hours"], "signup": _rules()["signup"],
             "birthday": _rules()["birthday"], "views": _rules()["product_views"]}
    _assert_same_members(_members(duck_con, parity_settings, rules, as_of=at),
                         _members(other_con, parity_settings, rules, as_of=at))


def test_reference_is_not_trivial(recipe_reference, condition_reference):
    """Most audiences have members, and none is everyone (so both sides of each rule count)."""
    sizes = {**{k: len(v) for k, v in recipe_reference.items()},
             **{k: len(v) for k, v in condition_reference.items()}}
    assert sum(n > 0 for n in sizes.values()) >= 0.75 * len(sizes), sizes
    assert max(sizes.values()) < 1000, sizes


def test_every_condition_type_is_covered():
    from workbench.audience import CONDITION_TYPES

    used = {c.type for c in (*_rules().values(), *_snapshot_rules().values())}
    assert used == set(CONDITION_TYPES)


# -- conditions on the snapshot ------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshot_store(tmp_path_factory, parity_store):
    """A copy of the sample with a snapshot for ``AS_OF`` (made-up scores, with ties)."""
    import shutil

    import duckdb

    from workbench.data.lake import export_duckdb

    folder = tmp_path_factory.mktemp("audience_snapshot")
    store = folder / "shop.duckdb"
    shutil.copyfile(parity_store, store)
    raw = duckdb.connect(str(store))
    try:
        raw.execute("""
            INSERT INTO snapshot_customers (customer_id, segment, risk_band, clv_band,
                                            uplift_score, p_order_7d, p_order_30d, p_order_90d,
                                            next_order_date, clv_low, clv_high,
                                            recommended_product)
            SELECT customer_id,
                   ['champions', 'loyal', 'lost', 'at_risk'][(hash(customer_id) % 4)::BIGINT + 1],
                   ['high', 'medium', 'low'][(hash(customer_id || 'r') % 3)::BIGINT + 1],
                   ['high', 'low'][(hash(customer_id || 'c') % 2)::BIGINT + 1],
                   CASE WHEN hash(customer_id || 'u') % 7 = 0 THEN NULL
                        ELSE ((hash(customer_id || 'u') % 21)::BIGINT - 5) / 100.0 END,
                   (hash(customer_id || 'p') % 21)::BIGINT / 40.0,
                   (hash(customer_id || 'p') % 21)::BIGINT / 20.0,
                   least(1.0, (hash(customer_id || 'p') % 21)::BIGINT / 15.0),
                   CAST(? AS DATE) + CAST(hash(customer_id || 'd') % 40 AS INTEGER),
                   (hash(customer_id || 'v') % 50)::BIGINT * 100.0,
                   (hash(customer_id || 'v') % 50)::BIGINT * 100.0 + 1500.0,
                   ['P0001', 'P0002', 'P0003'][(hash(customer_id || 'g') % 3)::BIGINT + 1]
            FROM customers""", [AS_OF])
        raw.execute("INSERT INTO snapshot_meta VALUES (?, now(), 1000, 'parity', 'test')",
                    [AS_OF])
    finally:
        raw.close()
    export_duckdb(store, folder / "lake")
    return store


@pytest.fixture(scope="module", params=["spark", "duckdb_utc"])
def snapshot_other(request, snapshot_store, parity_settings):
    """The snapshot copy on Spark (a separate session: its own table names) or DuckDB UTC."""
    from workbench.data import connect

    if request.param == "duckdb_utc":
        con = connect(snapshot_store, settings=parity_settings)
        con.raw_sql("SET TimeZone = 'UTC'")
        yield con
        con.disconnect()
        return
    from workbench.data import lake
    from workbench.data.spark import backend_for

    shared = request.getfixturevalue("spark_con")
    session = shared._session.newSession()
    folder = snapshot_store.parent / "lake"
    for table, version in lake.read_current(folder).tables.items():
        session.read.parquet(str(folder / version)).createOrReplaceTempView(table)
    con = backend_for(session, parity_settings.timezone)
    con._wb_lake = folder
    yield con


@pytest.fixture(scope="module")
def snapshot_reference(snapshot_store, parity_settings):
    from workbench.data import connect

    con = connect(snapshot_store, settings=parity_settings)
    try:
        return _members(con, parity_settings, _snapshot_rules())
    finally:
        con.disconnect()


def test_snapshot_conditions(snapshot_other, snapshot_reference, parity_settings):
    assert all(len(v) > 0 for v in snapshot_reference.values()), snapshot_reference
    _assert_same_members(snapshot_reference,
                         _members(snapshot_other, parity_settings, _snapshot_rules()))
