"""A new load into a store copy, as a manager makes one: for tests of what a load invalidates."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from workbench.data import connect
from workbench.data.load import load_file
from workbench.settings import Settings


def load_more_orders(store: Path, before: date, *, n: int = 40, lines: bool = True) -> int:
    """Append ``n`` paid orders of existing customers, dated the week before ``before``.

    The orders (and, with ``lines``, one line each copying an existing line's product) go
    through :func:`workbench.data.load.load_file` from CSV files, as ``workbench load`` does.
    Returns how many orders were loaded.
    """
    settings = Settings(store=str(store), timezone="Asia/Seoul")
    con = connect(store, settings=settings)
    try:
        o = con.table("orders")
        src = o.filter(o.customer_id.notnull()).order_by("order_id").limit(n).to_pandas()
        items = (con.table("order_items").order_by(["order_id", "line_no"]).limit(n).to_pandas()
                 if lines else None)
    finally:
        con.disconnect()
    when = pd.Timestamp(before - timedelta(days=3)).tz_localize("Asia/Seoul")
    new = pd.DataFrame({
        "order_id": [f"NEW{i:05d}" for i in range(len(src))],
        "customer_id": src["customer_id"].to_numpy(),
        "ordered_at": [(when + pd.Timedelta(minutes=7 * i)).isoformat()
                       for i in range(len(src))],
        "status": "paid", "amount": 12_345.0})
    folder = store.parent
    new.to_csv(folder / "more_orders.csv", index=False)
    load_file("orders", folder / "more_orders.csv", store=store, settings=settings)
    if items is not None:
        lines_frame = items.assign(order_id=new["order_id"].to_numpy()[:len(items)], line_no=1)
        lines_frame.to_csv(folder / "more_lines.csv", index=False)
        load_file("order_items", folder / "more_lines.csv", store=store, settings=settings)
    return len(new)
