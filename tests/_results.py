"""Comparing two result objects field by field (memoised or kept results against fresh ones)."""

from __future__ import annotations

import dataclasses

import pandas as pd


def assert_same_result(a, b, *, unordered: tuple[str, ...] = ()) -> None:
    """Assert every field of two results is equal (frames with ``assert_frame_equal``).

    ``unordered`` names frames whose rows come in the backend's order, which varies: they are
    compared sorted by ``customer_id``.
    """
    for field in dataclasses.fields(a):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if field.name in unordered:
            x = x.sort_values("customer_id", ignore_index=True)
            y = y.sort_values("customer_id", ignore_index=True)
        if isinstance(x, pd.DataFrame):
            pd.testing.assert_frame_equal(x, y, obj=field.name)
        else:
            assert x == y, field.name
