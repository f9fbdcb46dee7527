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


def test_in_memory_tables_go_to_spark_as_arrow(spark_con, duck_con):
    """Scores computed in pandas join Spark tables; chunked Arrow-backed columns included.

    A 20,000-customer refresh failed in PySpark's pandas path ("Cannot convert
    pyarrow.lib.ChunkedArray to pyarrow.lib.Array"); the backend now registers Arrow.
    """
    import ibis
    import pandas as pd
    import pyarrow as pa

    ids = duck_con.table("customers").customer_id.to_pandas().tolist()
    half = len(ids) // 2
    chunked = pa.table({
        "customer_id": pa.chunked_array([ids[:half], ids[half:]]),
        "score": pa.chunked_array([[i / 7 for i in range(half)],
                                   [None] * (len(ids) - half)], type=pa.float64()),
        "band": pa.chunked_array([["high"] * half, ["low"] * (len(ids) - half)]),
    })
    for frame in (chunked.to_pandas(), chunked.to_pandas(types_mapper=pd.ArrowDtype)):
        results = []
        for con in (duck_con, spark_con):
            scores = ibis.memtable(frame)
            customers = con.table("customers")
            joined = customers.left_join(scores, "customer_id")
            results.append(con.execute(joined.group_by("band").aggregate(
                n=joined.count(), total=joined.score.sum()).order_by("band")))
        assert_same(results[0], results[1], keys=["band"], where="memtable join")
