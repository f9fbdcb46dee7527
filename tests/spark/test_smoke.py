"""The Spark store opens, reads instants in the shop's zone and leaves the session running."""

from __future__ import annotations

from tests.spark._parity import assert_same


def test_counts_equal(spark_con, duck_con):
    for table in ("customers", "orders", "order_items", "events", "campaigns", "messages"):
        assert spark_con.table(table).count().execute() == duck_con.table(table).count().execute()


def test_timestamps_are_instants_in_the_shop_zone(spark_con, duck_con):
    a = duck_con.table("orders").order_by("order_id").limit(50).to_pandas()
    b = spark_con.table("orders").order_by("order_id").limit(50).to_pandas()
    assert str(b["ordered_at"].dt.tz) == "Asia/Seoul"
    assert_same(a, b, keys=["order_id"], where="orders")


def test_disconnect_leaves_the_session(spark_con):
    spark_con.disconnect()
    assert spark_con.table("orders").count().execute() > 0
