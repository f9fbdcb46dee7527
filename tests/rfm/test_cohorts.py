"""The retention triangle on a tiny hand-made shop (Asia/Seoul), checked by hand and by pandas."""

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from workbench.data import NET_STATUSES
from workbench.errors import ParameterError
from workbench.rfm.cohorts import TRIANGLE_COLUMNS, retention_triangle

TZ = "Asia/Seoul"
AS_OF = date(2026, 4, 1)  # months 2026-01..03 are complete

ORDERS = [  # order_id, customer_id, ordered_at (Seoul), status, amount
    ("a1", "A", "2026-01-10 10:00", "paid", 10_000),
    ("a2", "A", "2026-02-15 10:00", "delivered", 20_000),
    ("a3", "A", "2026-03-01 00:30", "paid", 5_000),  # 28 Feb 15:30 UTC: still March here
    ("b1", "B", "2026-02-01 00:10", "paid", 8_000),  # 31 Jan in UTC: B's cohort is February
    ("b2", "B", "2026-03-20 12:00", "confirmed", 12_000),
    ("c0", "C", "2026-01-05 09:00", "cancelled", 50_000),  # cancelled: not C's first order
    ("c1", "C", "2026-02-10 09:00", "delivered", 30_000),
    ("c2", "C", "2026-02-20 09:00", "returned", 9_999),  # returned: ignored
    ("d1", "D", "2026-01-20 09:00", "shipped", 4_000),
    ("d2", "D", "2026-01-25 09:00", "paid", 6_000),  # same month: D is active once
    ("g1", None, "2026-02-02 09:00", "paid", 7_000),  # guest: no cohort
    ("e1", "E", "2026-03-31 23:59", "paid", 1_000),  # 14:59 UTC: March
    ("e2", "E", "2026-04-01 00:00", "paid", 2_000),  # at as_of: not before it
    ("f0", "F", "2025-12-15 09:00", "paid", 3_000),  # F's cohort (Dec) is older than 3 months
    ("f1", "F", "2026-01-15 09:00", "paid", 3_000),
]
CUSTOMERS = [("A", "naver"), ("C", "kakao"), ("D", None), ("E", "naver")]  # B: no row

# By hand, months=3 (cohorts January-March 2026):
#   cohort  k  size  active  retention  revenue  per member  cumulative
#   Jan     0   2    2 (A,D)   1.0       20,000   10,000      10,000
#   Jan     1   2    1 (A)     0.5       20,000   10,000      20,000
#   Jan     2   2    1 (A)     0.5        5,000    2,500      22,500
#   Feb     0   2    2 (B,C)   1.0       38,000   19,000      19,000
#   Feb     1   2    1 (B)     0.5       12,000    6,000      25,000
#   Mar     0   1    1 (E)     1.0        1,000    1,000       1,000
EXPECTED = pd.DataFrame({
    "cohort": [date(2026, 1, 1)] * 3 + [date(2026, 2, 1)] * 2 + [date(2026, 3, 1)],
    "months_since": [0, 1, 2, 0, 1, 0],
    "cohort_size": [2, 2, 2, 2, 2, 1],
    "active_customers": [2, 1, 1, 2, 1, 1],
    "retention": [1.0, 0.5, 0.5, 1.0, 0.5, 1.0],
    "revenue": [20_000.0, 20_000, 5_000, 38_000, 12_000, 1_000],
    "revenue_per_customer": [10_000.0, 10_000, 2_500, 19_000, 6_000, 1_000],
    "cumulative_revenue_per_customer": [10_000.0, 20_000, 22_500, 19_000, 25_000, 1_000],
})


def orders_frame(rows=ORDERS):
    o = pd.DataFrame(rows, columns=["order_id", "customer_id", "ordered_at", "status", "amount"])
    o["ordered_at"] = pd.to_datetime(o["ordered_at"]).dt.tz_localize(TZ)
    o["amount"] = o["amount"].astype("float64")
    o["customer_id"] = o["customer_id"].astype("string")
    return o


@pytest.fixture(params=["UTC", "Asia/Seoul", "America/New_York"])
def con(request):
    """In-memory DuckDB in several session zones: the result must not depend on it."""
    backend = ibis.duckdb.connect()
    backend.raw_sql(f"SET TimeZone = '{request.param}'")
    backend.create_table("orders", orders_frame())
    backend.create_table("customers", pd.DataFrame(CUSTOMERS,
                                                   columns=["customer_id", "acquisition_channel"]))
    yield backend
    backend.disconnect()


def triangle(con, **kw):
    kw = {"as_of": AS_OF, "timezone": TZ, "months": 3} | kw
    return (retention_triangle(con.table("orders"), con.table("customers"), **kw)
            .to_pyarrow().to_pandas())


def test_triangle_matches_the_hand_computed_one(con):
    got = triangle(con)
    assert list(got.columns) == [c for c in TRIANGLE_COLUMNS if c != "acquisition_channel"]
    pd.testing.assert_frame_equal(got[list(EXPECTED.columns)], EXPECTED, check_dtype=False)
    assert got["month"].tolist() == [date(2026, m, 1) for m in (1, 2, 3, 2, 3, 3)]
    assert got["complete"].all()


def ref_triangle(o, as_of, months):
    """Pandas reference: cohorts by local month, k by calendar months, dense cells."""
    net = o[o.status.isin(NET_STATUSES) & o.customer_id.notna()
            & (o.ordered_at < pd.Timestamp(as_of).tz_localize(TZ))].copy()
    local = net.ordered_at.dt.tz_convert(TZ)
    net["m"] = local.dt.year * 12 + local.dt.month - 1
    net["cohort_m"] = net.groupby("customer_id").m.transform("min")
    last = (as_of.year * 12 + as_of.month - 1) - (as_of.day == 1)
    net = net[net.cohort_m > last - months]
    size = net.groupby("cohort_m").customer_id.nunique()
    cells = net.groupby(["cohort_m", net.m - net.cohort_m]).agg(
        active_customers=("customer_id", "nunique"), revenue=("amount", "sum"))
    grid = pd.MultiIndex.from_tuples([(c, k) for c in size.index for k in range(last - c + 1)],
                                     names=["cohort_m", "k"])
    out = cells.reindex(grid, fill_value=0).reset_index()
    out["cohort_size"] = out.cohort_m.map(size)
    out["retention"] = out.active_customers / out.cohort_size
    return out


@pytest.mark.parametrize("as_of", [date(2026, 4, 1), date(2026, 3, 15), date(2026, 2, 1)])
@pytest.mark.parametrize("months", [1, 2, 4])
def test_triangle_matches_a_pandas_reference(con, as_of, months):
    got = triangle(con, as_of=as_of, months=months)
    ref = ref_triangle(orders_frame(), as_of, months)
    assert len(got) == len(ref)
    for column in ("cohort_size", "active_customers", "revenue", "retention"):
        np.testing.assert_allclose(got[column].to_numpy(float), ref[column].to_numpy(float))


def test_the_month_holding_as_of_is_marked_incomplete(con):
    got = triangle(con, as_of=date(2026, 3, 15)).set_index(["cohort", "months_since"])
    assert bool(got.loc[(date(2026, 1, 1), 1), "complete"])
    assert not got.loc[(date(2026, 1, 1), 2), "complete"]  # March has not ended
    assert not got.loc[(date(2026, 2, 1), 1), "complete"]
    # E's only order (31 March) is after as_of: no March cohort yet; A's 1 March order counts.
    assert date(2026, 3, 1) not in got.index.get_level_values("cohort")
    assert got.loc[(date(2026, 1, 1), 2), "revenue"] == 5_000


def test_cells_nobody_bought_in_are_zero_not_missing(con):
    got = triangle(con, as_of=date(2026, 5, 1), months=4).set_index(["cohort", "months_since"])
    assert got.loc[(date(2026, 3, 1), 1), "active_customers"] == 1  # E's 1 April order
    assert got.loc[(date(2026, 2, 1), 2), "active_customers"] == 0  # B, C: nothing in April
    assert got.loc[(date(2026, 2, 1), 2), "retention"] == 0.0
    assert got.loc[(date(2026, 1, 1), 3), "revenue"] == 0.0


def test_split_by_channel_adds_up_to_the_whole(con):
    got = triangle(con, by_channel=True)
    assert "acquisition_channel" in got.columns
    feb0 = got[(got.cohort == date(2026, 2, 1)) & (got.months_since == 0)]
    by = dict(zip(feb0.acquisition_channel.fillna("?"), feb0.cohort_size, strict=True))
    assert by == {"?": 1, "kakao": 1}  # B has no customers row
    jan0 = got[(got.cohort == date(2026, 1, 1)) & (got.months_since == 0)]
    assert dict(zip(jan0.acquisition_channel.fillna("?"), jan0.revenue, strict=True)) == {
        "naver": 10_000, "?": 10_000}
    whole = got.groupby(["cohort", "months_since"])[["cohort_size", "active_customers",
                                                     "revenue"]].sum().reset_index()
    np.testing.assert_allclose(whole[["cohort_size", "active_customers", "revenue"]]
                               .to_numpy(float),
                               EXPECTED[["cohort_size", "active_customers", "revenue"]]
                               .to_numpy(float))


def test_the_triangle_stays_lazy(con):
    expr = retention_triangle(con.table("orders"), as_of=AS_OF, timezone=TZ, months=3)
    assert isinstance(expr, ibis.Table)


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"as_of": "2026-04-01"},
      "retention_triangle: 'as_of' must be a datetime.date; got str."),
     ({"months": 0}, "retention_triangle: 'months' must be between 1 and 120; got 0."),
     ({"by_channel": True, "customers": None},
      "retention_triangle: 'by_channel=True' needs a customers table with "
      "'acquisition_channel'; got None. Pass the customers table or by_channel=False.")],
    ids=["as_of-str", "months-0", "channel-without-customers"])
def test_caller_mistakes_raise(con, kw, message):
    kw = {"as_of": AS_OF, "timezone": TZ, "customers": con.table("customers")} | kw
    customers = kw.pop("customers")
    with pytest.raises(ParameterError, match=f"^{__import__('re').escape(message)}$"):
        retention_triangle(con.table("orders"), customers, **kw)


