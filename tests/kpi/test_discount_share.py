"""Discount and points share tiles of the overview against plain DuckDB SQL on the sample."""

from datetime import date

import duckdb
import pytest

from workbench.data import connect
from workbench.data.schema import NET_STATUSES
from workbench.dates import period_bounds
from workbench.kpi import run_overview
from workbench.reporting import OverviewParams
from workbench.settings import Settings

SETTINGS = Settings(timezone="Asia/Seoul", currency="KRW", language="en")
SQL = """
SELECT sum(coalesce(discount, 0)) / sum(amount + coalesce(discount, 0)
                                        + coalesce(points_used, 0)) AS discount_share,
       sum(coalesce(points_used, 0)) / sum(amount + coalesce(discount, 0)
                                           + coalesce(points_used, 0)) AS points_share
FROM orders
WHERE status IN ({statuses}) AND ordered_at >= ?::DATE::TIMESTAMPTZ
  AND ordered_at < ?::DATE::TIMESTAMPTZ
"""


def reference(path, start, end):
    statuses = ", ".join(f"'{s}'" for s in NET_STATUSES)
    with duckdb.connect(str(path), read_only=True) as db:
        db.execute("SET TimeZone = 'Asia/Seoul'")  # dates are the shop's local midnights
        return db.execute(SQL.format(statuses=statuses),
                          [start, end]).fetchone()


@pytest.mark.parametrize("period", ["W", "M"])
def test_discount_and_points_shares_match_sql(sample_store, period):
    as_of = date(2026, 11, 16)
    con = connect(sample_store, settings=SETTINGS, read_only=True)
    try:
        result = run_overview(con, OverviewParams(as_of=as_of, period=period),
                              settings=SETTINGS)
    finally:
        con.disconnect()
    tiles = result.tiles.set_index("metric")
    prev, cur, end = period_bounds(as_of, period)
    for column, (lo, hi) in {"previous": (prev, cur), "current": (cur, end)}.items():
        discount, points = reference(sample_store, lo, hi)
        assert tiles.loc["discount_share", column] == pytest.approx(discount, rel=1e-9)
        assert tiles.loc["points_share", column] == pytest.approx(points, rel=1e-9)
    assert 0 < tiles.loc["discount_share", "current"] < 0.5  # the sample has coupons
    assert tiles.loc["discount_share", "unit"] == "share"
    assert "할인 비중" in result.definitions_in("ko")
