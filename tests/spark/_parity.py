"""Compare results of two engines: exact for keys, counts and dates; 1e-9 relative for numbers."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

REL = 1e-9


def run_entry(entry_points: Mapping[str, Any], name: str, con: Any, settings: Any) -> Any:
    """Run one entry point on ``con`` with the memos emptied (two DuckDB connections to one
    file would otherwise share a result, and the UTC comparison would be trivially equal)."""
    from workbench.data.memo import clear_memos

    clear_memos()
    return entry_points[name](con, settings)


def reference_cache(entry_points: Mapping[str, Any], con: Any, settings: Any) -> Any:
    """Return ``get(name)``: the entry point's result on ``con``, computed on first use."""
    cache: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in cache:
            cache[name] = run_entry(entry_points, name, con, settings)
        return cache[name]

    return get


def assert_same(a: Any, b: Any, *, keys: Sequence[str] | None = None, where: str = "") -> None:
    """Assert that two results are equal: frames, series, scalars, mappings or dataclasses.

    Frames are sorted by ``keys`` (default: every non-float column) and compared column by
    column; floats to 1e-9 relative (and 1e-9 absolute near zero), everything else exactly.
    Time stamps are compared as instants (a tz-aware value equals the same instant in another
    zone, never a naive one).
    """
    if isinstance(a, pd.DataFrame):
        _frames(a, b, keys, where)
    elif isinstance(a, pd.Series):
        _frames(a.to_frame("value").reset_index(), b.to_frame("value").reset_index(), keys,
                where)
    elif isinstance(a, Mapping):
        assert set(a) == set(b), f"{where}: keys differ: {sorted(set(a) ^ set(b))}"
        for k in a:
            assert_same(a[k], b[k], keys=keys, where=f"{where}.{k}")
    elif hasattr(a, "__dataclass_fields__"):
        for name in a.__dataclass_fields__:
            assert_same(getattr(a, name), getattr(b, name), keys=keys, where=f"{where}.{name}")
    elif isinstance(a, (list, tuple)) and not isinstance(a, str):
        assert len(a) == len(b), f"{where}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, keys=keys, where=f"{where}[{i}]")
    else:
        _scalars(a, b, where)


def _scalars(a: Any, b: Any, where: str) -> None:
    if _missing(a) or _missing(b):
        assert _missing(a) and _missing(b), f"{where}: {a!r} != {b!r}"
    elif isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
        assert math.isclose(float(a), float(b), rel_tol=REL, abs_tol=REL), \
            f"{where}: {a!r} != {b!r}"
    elif isinstance(a, pd.Timestamp | np.datetime64) or isinstance(b, pd.Timestamp):
        ta, tb = pd.Timestamp(a), pd.Timestamp(b)
        assert (ta.tzinfo is None) == (tb.tzinfo is None), f"{where}: {ta!r} vs {tb!r}"
        assert ta == tb, f"{where}: {ta!r} != {tb!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _missing(x: Any) -> bool:
    try:
        return x is None or x is pd.NaT or (not isinstance(x, str) and bool(pd.isna(x)))
    except (TypeError, ValueError):
        return False


def _frames(a: pd.DataFrame, b: pd.DataFrame, keys: Sequence[str] | None, where: str) -> None:
    assert list(a.columns) == list(b.columns), f"{where}: columns {list(a.columns)} != " \
                                               f"{list(b.columns)}"
    assert len(a) == len(b), f"{where}: {len(a)} rows != {len(b)} rows"
    if keys is None:
        keys = [c for c in a.columns if not pd.api.types.is_float_dtype(a[c])
                and a[c].map(lambda v: isinstance(v, (str, int, np.integer)) or _missing(v)).all()]
    if keys:
        a = a.sort_values(list(keys), kind="stable").reset_index(drop=True)
        b = b.sort_values(list(keys), kind="stable").reset_index(drop=True)
    else:
        a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    for column in a.columns:
        x, y = a[column], b[column]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            xf, yf = x.astype(float).to_numpy(), y.astype(float).to_numpy()
            both_nan = np.isnan(xf) & np.isnan(yf)
            close = np.isclose(xf, yf, rtol=REL, atol=REL) | both_nan
            bad = np.flatnonzero(~close)
            assert not len(bad), f"{where}.{column}: {len(bad)} rows differ, e.g. " \
                                 f"{xf[bad[:3]]} != {yf[bad[:3]]}"
        elif isinstance(x.dtype, pd.DatetimeTZDtype) or isinstance(y.dtype, pd.DatetimeTZDtype):
            assert isinstance(x.dtype, pd.DatetimeTZDtype) and isinstance(
                y.dtype, pd.DatetimeTZDtype), f"{where}.{column}: {x.dtype} vs {y.dtype}"
            assert (x.dt.tz_convert("UTC") == y.dt.tz_convert("UTC")).where(
                x.notna() | y.notna(), True).all(), f"{where}.{column}: instants differ"
        else:
            for i, (u, v) in enumerate(zip(x, y, strict=True)):
                _scalars(u, v, f"{where}.{column}[{i}]")
