"""Customer facts: differential test against pandas, lifetimes conventions, the sample store."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.data.schema import NET_STATUSES, ORDER_STATUSES
from workbench.errors import ParameterError, SchemaError
from workbench.features import (
    FACT_COLUMNS,
    WINDOWS,
    customer_facts,
    facts_for,
)
from workbench.i18n import set_language

AS_OF = date(2026, 3, 20)  # America/New_York moved to summer time on 2026-03-08


def reference_facts(orders: pd.DataFrame, items: pd.DataFrame | None, as_of: date, tz: str,
                    unit: str = "D", lookback: int | None = None) -> pd.DataFrame:
    """The facts in plain pandas, one customer at a time (tests only)."""
    local = lambda day: pd.Timestamp(day).tz_localize(tz)  # noqa: E731
    end, k = local(as_of), {"D": 1, "W": 7}[unit]
    o = orders[orders.customer_id.notna() & orders.status.isin(NET_STATUSES)
               & (orders.ordered_at < end)]
    if lookback:
        o = o[o.ordered_at >= local(as_of - timedelta(days=lookback))]
    o = o.assign(day=o.ordered_at.dt.tz_convert(tz).dt.tz_localize(None).dt.normalize())
    lines = None if items is None else items.merge(o[["order_id", "customer_id"]]).dropna()
    rows, last_day = [], pd.Timestamp(as_of - timedelta(days=1))
    for cid, g in o.groupby("customer_id"):
        per_day = g.groupby("day").amount.sum().sort_index()
        gaps = per_day.index.to_series().diff().dt.days.dropna()
        top = None
        if lines is not None and (cid == lines.customer_id).any():
            sums = lines[lines.customer_id == cid].groupby("category").line_amount.sum()
            top = sums[sums == sums.max()].index.min()
        rows.append({
            "customer_id": cid, "first_order_at": g.ordered_at.min(),
            "last_order_at": g.ordered_at.max(), "orders": len(g), "purchase_days": len(per_day),
            "net_revenue": g.amount.sum(), "aov": g.amount.mean(),
            "recency_days": (end - g.ordered_at.max()).total_seconds() / 86400,
            "tenure_days": (end - g.ordered_at.min()).total_seconds() / 86400,
            "mean_days_between": gaps.mean(), "median_days_between": gaps.median(),
            **{f"orders_{w}d": int((g.ordered_at >= local(as_of - timedelta(days=w))).sum())
               for w in WINDOWS},
            **{f"net_revenue_{w}d": g.amount[g.ordered_at >= local(as_of - timedelta(w))].sum()
               for w in WINDOWS},
            "top_category": top, "frequency": len(per_day) - 1,
            "recency": (per_day.index[-1] - per_day.index[0]).days / k,
            "T": (last_day - per_day.index[0]).days / k,
            "monetary_value": per_day.iloc[1:].mean() if len(per_day) > 1 else 0.0,
        })
    return pd.DataFrame(rows, columns=list(FACT_COLUMNS))


def assert_same_facts(ours: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(ours.columns) == list(FACT_COLUMNS)
    ours = ours.sort_values("customer_id").reset_index(drop=True)
    ref = ref.sort_values("customer_id").reset_index(drop=True)
    assert ours.customer_id.tolist() == ref.customer_id.tolist()
    for col in FACT_COLUMNS[1:]:
        a, b = ours[col], ref[col]
        if col.endswith("_at"):
            assert [pd.Timestamp(x) for x in a] == [pd.Timestamp(x) for x in b], col
        elif col == "top_category":
            assert [None if pd.isna(x) else x for x in a] == \
                   [None if pd.isna(x) else x for x in b], col
        else:
            np.testing.assert_allclose(a.to_numpy("float64", na_value=np.nan),
                                       b.to_numpy("float64", na_value=np.nan),
                                       rtol=1e-12, atol=1e-9, err_msg=col)


@pytest.fixture(scope="module")
def con():
    backend = ibis.duckdb.connect()
    # A session zone unlike the shop's: the facts must not depend on it.
    backend.raw_sql("SET TimeZone = 'America/Los_Angeles'")
    return backend


_day_offsets = st.one_of(st.sampled_from([-400, -366, -365, -181, -180, -91, -90, -31, -30, -29,
                                          -12, -11, -1, 0, 1]), st.integers(-400, 2))
_seconds = st.one_of(st.sampled_from([0, 1, 3600, 43_200, 86_399]), st.integers(0, 86_399))
_order = st.tuples(st.sampled_from(["c1", "c2", "c3", "c4", None]), _day_offsets, _seconds,
                   st.sampled_from(ORDER_STATUSES),
                   st.sampled_from([0.0, 1000.0, 1000.0, 2500.0, 99_000.0]),
                   st.lists(st.tuples(st.sampled_from(["bags", "shoes", "tops", None]),
                                      st.sampled_from([0.0, 500.0, 1000.0, 1500.0])),
                            max_size=3))


def _frames(rows, tz: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(len(rows))],
        "customer_id": pd.Series([r[0] for r in rows], dtype="string"),
        "ordered_at": pd.Series([pd.Timestamp(AS_OF + timedelta(days=r[1])).tz_localize(tz)
                                 + pd.Timedelta(seconds=r[2]) for r in rows],
                                dtype=f"datetime64[us, {tz}]"),
        "status": [r[3] for r in rows], "amount": [r[4] for r in rows]})
    items = pd.DataFrame([(f"o{i}", cat, value) for i, r in enumerate(rows) for cat, value in r[5]],
                         columns=["order_id", "category", "line_amount"])
    items = items.astype({"order_id": "string", "category": "string", "line_amount": "float64"})
    return orders, items


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_order, min_size=1, max_size=25),
       tz=st.sampled_from(["Asia/Seoul", "UTC", "America/New_York"]),
       unit=st.sampled_from(["D", "W"]),
       lookback=st.sampled_from([None, None, 1, 30, 100]),
       with_items=st.booleans())
def test_facts_match_pandas_reference(con, rows, tz, unit, lookback, with_items):
    orders, items = _frames(rows, tz)
    ours = con.execute(customer_facts(
        ibis.memtable(orders), as_of=AS_OF, timezone=tz, unit=unit, lookback_days=lookback,
        items=ibis.memtable(items) if with_items else None))
    ref = reference_facts(orders, items if with_items else None, AS_OF, tz, unit, lookback)
    assert_same_facts(ours, ref)
    assert (ours.recency >= 0).all() and (ours.recency <= ours["T"]).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_order, min_size=1, max_size=25),
       tz=st.sampled_from(["Asia/Seoul", "UTC"]))
def test_facts_without_the_median_are_the_other_facts(con, rows, tz):
    orders, _ = _frames(rows, tz)
    table = ibis.memtable(orders)
    full = con.execute(customer_facts(table, as_of=AS_OF, timezone=tz))
    lean = con.execute(customer_facts(table, as_of=AS_OF, timezone=tz, median=False))
    assert list(lean.columns) == [c for c in FACT_COLUMNS if c != "median_days_between"]
    full = full.drop(columns="median_days_between").sort_values("customer_id")
    pd.testing.assert_frame_equal(lean.sort_values("customer_id").reset_index(drop=True),
                                  full.reset_index(drop=True))


def test_lifetimes_conventions_by_hand(con):
    # as_of 2026-01-11 is exclusive, so lifetimes' observation_period_end is 2026-01-10.
    # a: days 01-01 (100 + 50), 01-04 (200), 01-08 (300); the as_of-midnight and cancelled
    #    orders do not count -> frequency 2, recency 8 - 1 = 7, T 10 - 1 = 9,
    #    monetary (200 + 300) / 2 = 250.
    # b: one order on 01-10 at 23:59 -> frequency 0, recency 0, T 0, monetary 0.
    # c: 01-02 00:00 (10) and 23:59:59 (20) are one day, 01-03 00:00 (30) another ->
    #    frequency 1, recency 1, T 8, monetary 30.
    # d: 01-04 23:30 and 01-05 00:30 in Seoul share the UTC date 01-04 but are two local days
    #    -> frequency 1, recency 1, T 6, monetary 60.
    tx = [("a", "2026-01-01 10:00", 100, "paid"), ("a", "2026-01-01 20:00", 50, "delivered"),
          ("a", "2026-01-04 09:00", 200, "shipped"), ("a", "2026-01-08 23:30", 300, "confirmed"),
          ("a", "2026-01-11 00:00", 999, "paid"), ("a", "2026-01-09 12:00", 999, "cancelled"),
          ("b", "2026-01-10 23:59", 80, "paid"),
          ("c", "2026-01-02 00:00", 10, "paid"), ("c", "2026-01-02 23:59:59", 20, "paid"),
          ("c", "2026-01-03 00:00", 30, "paid"),
          ("d", "2026-01-04 23:30", 40, "paid"), ("d", "2026-01-05 00:30", 60, "paid")]
    orders = pd.DataFrame(tx, columns=["customer_id", "ordered_at", "amount", "status"])
    orders["ordered_at"] = pd.to_datetime(orders.ordered_at, format="ISO8601").dt.tz_localize(
        "Asia/Seoul")
    orders["amount"] = orders.amount.astype("float64")
    expected = {"a": (2, 7.0, 9.0, 250.0), "b": (0, 0.0, 0.0, 0.0),
                "c": (1, 1.0, 8.0, 30.0), "d": (1, 1.0, 6.0, 60.0)}
    for unit, k in (("D", 1), ("W", 7)):
        got = con.execute(customer_facts(ibis.memtable(orders), as_of=date(2026, 1, 11),
                                         timezone="Asia/Seoul", unit=unit)
                          .select("customer_id", "frequency", "recency", "T", "monetary_value")
                          .order_by("customer_id"))
        assert {r.customer_id: (r.frequency, r.recency * k, r.T * k, r.monetary_value)
                for r in got.itertuples()} == expected


def test_local_days_follow_daylight_saving(con):
    # New York, spring forward 2026-03-08 02:00 -> 03:00: 23:30 local on 03-07 (UTC-5) and
    # 00:30 local on 03-09 (UTC-4) are 24 hours apart but two calendar days; as_of midnight
    # (03-10, UTC-4) is 0.5 + 23 + 24 = 47.5 hours after the first order.
    orders = pd.DataFrame({
        "customer_id": ["n", "n"], "status": ["paid", "paid"], "amount": [1.0, 2.0],
        "ordered_at": pd.to_datetime(["2026-03-07 23:30", "2026-03-09 00:30"])
        .tz_localize("America/New_York")})
    got = con.execute(customer_facts(ibis.memtable(orders), as_of=date(2026, 3, 10),
                                     timezone="America/New_York"))
    assert got.purchase_days.item() == 2 and got.recency.item() == 2.0
    assert got["T"].item() == 2.0 and got.median_days_between.item() == 2.0
    assert got.tenure_days.item() == pytest.approx(47.5 / 24)


def test_facts_are_lazy_and_empty_without_net_orders(con):
    orders = pd.DataFrame({"customer_id": ["x", None], "status": ["cancelled", "paid"],
                           "amount": [5.0, 5.0],
                           "ordered_at": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True)})
    expr = customer_facts(ibis.memtable(orders), as_of=date(2026, 2, 1), timezone="UTC")
    assert isinstance(expr, ibis.Table) and tuple(expr.columns) == FACT_COLUMNS
    assert len(con.execute(expr)) == 0


_ORDERS = ibis.memtable({"customer_id": ["a"], "status": ["paid"], "amount": [1.0],
                         "ordered_at": pd.to_datetime(["2026-01-01"], utc=True)})


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"unit": "M"}, "customer_facts: 'unit' must be one of ['D', 'W'] (days or 7-day weeks); "
                    "got 'M'."),
    ({"lookback_days": 0}, "customer_facts: 'lookback_days' must be a positive integer or None "
                           "(all history); got 0."),
    ({"as_of": datetime(2026, 1, 1)}, "customer_facts: 'as_of' must be a datetime.date; got "
                                      "datetime. Pass e.g. date(2026, 11, 16)."),
    ({"timezone": "Mars/Olympus"}, "customer_facts: unknown time zone 'Mars/Olympus'; use an "
                                   "IANA name such as 'Asia/Seoul' or 'UTC'."),
], ids=["unit", "lookback", "as_of", "timezone"])
def test_bad_parameters_raise(kwargs, message):
    call = {"as_of": date(2026, 2, 1), "timezone": "UTC", **kwargs}
    with pytest.raises(ParameterError, match=re.escape(message)):
        customer_facts(_ORDERS, **call)


def test_bad_parameters_are_worded_in_korean():
    set_language("ko")
    with pytest.raises(ParameterError, match=re.escape(
            "customer_facts: 'unit'는 ['D', 'W'] 중 하나(일 또는 7일 주)여야 합니다. "
            "받은 값: 'M'.")):
        customer_facts(_ORDERS, as_of=date(2026, 2, 1), timezone="UTC", unit="M")


def test_missing_columns_raise():
    message = ("customer_facts: 'orders' is missing required columns ['order_id']; got "
               "['customer_id', 'status', 'amount', 'ordered_at'].")
    items = ibis.memtable({"order_id": ["o"], "category": ["c"], "line_amount": [1.0]})
    with pytest.raises(SchemaError, match=re.escape(message)):
        customer_facts(_ORDERS, as_of=date(2026, 2, 1), timezone="UTC", items=items)


def test_sample_store_spot_values(sample_store):
    from workbench.data import connect
    from workbench.settings import Settings

    settings = Settings(timezone="Asia/Seoul")
    con = connect(sample_store, settings=settings)
    as_of = date(2026, 11, 16)
    facts = facts_for(con, as_of, settings=settings).to_pandas()
    orders = con.table("orders").to_pandas()
    items = con.table("order_items").to_pandas()
    net = orders[orders.customer_id.notna() & orders.status.isin(NET_STATUSES)
                 & (orders.ordered_at < pd.Timestamp(as_of).tz_localize("Asia/Seoul"))]
    assert len(facts) == net.customer_id.nunique() > 1000
    assert facts.customer_id.is_unique
    assert facts.net_revenue.sum() == pytest.approx(net.amount.sum())
    assert (facts.orders >= facts.purchase_days).all() and (facts.frequency >= 0).all()
    assert ((facts.recency >= 0) & (facts.recency <= facts["T"])).all()
    assert (facts.orders_30d <= facts.orders_90d).all()
    assert (facts.orders_365d <= facts.orders).all()
    assert facts.top_category.notna().mean() > 0.9
    # Spot check the three most frequent buyers against the pandas reference.
    top3 = facts.nlargest(3, "orders").customer_id.tolist()
    ours = facts[facts.customer_id.isin(top3)]
    ref = reference_facts(orders[orders.customer_id.isin(top3)],
                          items[["order_id", "category", "line_amount"]], as_of, "Asia/Seoul")
    assert_same_facts(ours, ref)
    assert ours.orders.min() >= 5
