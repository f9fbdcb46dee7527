"""Checks of an import and the messages that explain what to fix.

Checks never stop at the first bad row: each one counts the affected rows, shows up to five of
their row numbers in the file (header = row 1) and a few example values, and says how to fix
the data. Problems are collected as :class:`Problem` values and raised together as one
:class:`~workbench.errors.SchemaError` by :func:`raise_problems`, before anything is written.
Data conditions that do not block a load (guest orders, unknown customers, future dates) are
returned as warning texts instead.

Examples
--------
>>> import numpy as np
>>> format_rows(np.array([9, 2, 5, 11, 12, 14, 20]))
'2, 5, 9, 11, 12, …'
>>> did_you_mean(["orderd_at"], ["ordered_at", "order_id"])
" Did you mean 'ordered_at' instead of 'orderd_at'?"
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.data.schema import VARIANT_PATTERN, Column
from workbench.errors import SchemaError
from workbench.i18n import tr

__all__ = [
    "Problem",
    "did_you_mean",
    "duplicate_key_problem",
    "format_rows",
    "format_values",
    "key_text",
    "missing_columns_problem",
    "raise_problems",
    "unknown_columns_problem",
    "value_problem",
    "warn_future",
    "warn_guests",
]

#: How many row numbers and example values a message shows.
MAX_ROWS = 5
MAX_EXAMPLES = 3


@dataclass(frozen=True, slots=True, eq=False)
class Problem:
    """One reason a file cannot be loaded: a message key and its fields.

    Parameters
    ----------
    key
        Message key in ``workbench/i18n/locales/load.toml``.
    fields
        Values filled into the message.
    """

    key: str
    fields: dict[str, object] = field(default_factory=dict)

    def message(self) -> str:
        """Return the message in the active language."""
        return tr(self.key, **self.fields)


def raise_problems(problems: Sequence[Problem]) -> None:
    """Raise one :class:`SchemaError` for all problems (first in full, the rest after it).

    >>> raise_problems([])
    >>> raise_problems([Problem("load.no_rows", {"file": "a.csv"})])
    Traceback (most recent call last):
    ...
    workbench.errors.SchemaError: a.csv: the file has a header row but no data rows, ...
    """
    messages = list(dict.fromkeys(p.message() for p in problems))
    if not messages:
        return
    text = messages[0]
    if len(messages) > 1:
        text += tr("load.more_problems", count=len(messages) - 1, messages=" ".join(messages[1:]))
    error = SchemaError(text)
    error.problems = list(problems)  # type: ignore[attr-defined]
    raise error


def format_rows(rows: np.ndarray) -> str:
    """Format up to five row numbers, in file order, with ``…`` when there are more."""
    ordered = np.sort(np.asarray(rows))
    shown = ", ".join(str(int(r)) for r in ordered[:MAX_ROWS])
    return shown + (", …" if len(ordered) > MAX_ROWS else "")


def format_values(values: Iterable[object], limit: int = MAX_EXAMPLES) -> str:
    """Format up to ``limit`` distinct values, quoted: ``'a', 'b'``.

    >>> format_values(["x", "y", "x", "z"])
    "'x', 'y', 'z'"
    >>> format_values(["x", "y", "z", "w"])
    "'x', 'y', 'z', …"
    """
    distinct = list(dict.fromkeys(v for v in values if v is not None))
    shown = ", ".join(f"'{v}'" for v in distinct[:limit])
    return shown + (", …" if len(distinct) > limit else "")


def quoted(names: Iterable[str]) -> str:
    """Format names in quotes, comma-separated: ``'a', 'b'``."""
    return ", ".join(f"'{n}'" for n in names)


def did_you_mean(got: Iterable[str], candidates: Sequence[str]) -> str:
    """Return hints for names that look like typos of ``candidates`` (difflib, cutoff 0.6)."""
    hints = []
    for name in got:
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
        if close and close[0] != name:
            hints.append(tr("load.did_you_mean", suggestion=close[0], got=name))
    return "".join(hints)


def missing_columns_problem(file: str, table: str, missing: Sequence[str],
                            headers: Sequence[str], unknown: Sequence[str]) -> Problem:
    """Report required columns of ``table`` that the file lacks (no mapping)."""
    hint = "".join(
        tr("load.did_you_mean", suggestion=m, got=close[0])
        for m in missing
        if (close := difflib.get_close_matches(m, list(unknown), n=1, cutoff=0.6))
    )
    return Problem("load.missing_columns", {"file": file, "table": table,
                                            "missing": quoted(missing), "got": quoted(headers),
                                            "hint": hint})


def unknown_columns_problem(file: str, table: str, unknown: Sequence[str],
                            allowed: Sequence[str]) -> Problem:
    """Report columns of the file that ``table`` does not have (no mapping)."""
    return Problem("load.unknown_columns", {"file": file, "table": table,
                                            "unknown": quoted(unknown), "allowed": quoted(allowed),
                                            "hint": did_you_mean(unknown, allowed)})


def value_problem(key: str, file: str, column: str, mask: np.ndarray, rows: np.ndarray,
                  values: pa.Array | None = None, *, hide: bool = False,
                  **extra: object) -> Problem | None:
    """Return a problem for the rows where ``mask`` is true, or ``None`` if there are none.

    Parameters
    ----------
    key
        Message key (``load.bad_numbers``, ``load.negative`` ...).
    file
        File name.
    column
        Column label as shown (``'주문일시' (orders.ordered_at)``).
    mask
        Rows affected.
    rows
        Row numbers of all rows in the file.
    values
        Values to quote as examples (the source text).
    hide
        The values are personal data (names, phones, emails, birth dates): say so instead of
        quoting them, since error messages end up in terminals and cron logs.
    **extra
        More message fields (``target``, ``allowed`` ...).
    """
    if not mask.any():
        return None
    hit = np.flatnonzero(mask)
    order = np.argsort(rows[hit], kind="stable")
    fields = {"file": file, "column": column, "count": f"{len(hit):,}",
              "rows": format_rows(rows[hit]), **extra}
    if hide:
        fields["examples"] = tr("load.examples_hidden")
    elif values is not None:
        first = hit[order[: 50]]
        fields.setdefault("examples", format_values(pc.take(values, pa.array(first)).to_pylist()))
    return Problem(key, fields)


def check_allowed(file: str, label: str, target: str, column: Column, values: pa.Array,
                  rows: np.ndarray, *, shown: pa.Array | None = None,
                  unmatched: np.ndarray | None = None, known: str = "") -> Problem | None:
    """Report values outside ``column.allowed`` (statuses, event types ...) or bad variants.

    ``shown`` are the source values quoted as examples (default ``values``); ``unmatched``
    marks rows a mapping could not translate.
    """
    shown = values if shown is None else shown
    if column.allowed is not None:
        ok = pc.is_in(values, value_set=pa.array(column.allowed))
        mask = _true(pc.and_(pc.is_valid(values), pc.invert(ok)))
        if unmatched is not None:
            mask |= unmatched
        return value_problem("load.unknown_values", file, label, mask, rows, shown,
                             target=target, allowed=quoted(column.allowed), known=known)
    if column.name != "variant":
        return None
    mask = _true(pc.invert(pc.match_substring_regex(values, VARIANT_PATTERN)))
    return value_problem("load.bad_pattern", file, label, mask, rows, shown, target=target,
                         expected=tr("load.variant_expected"))


def _true(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def key_text(table: pa.Table, key: Sequence[str], index: np.ndarray) -> list[str]:
    """Return keys of the given rows as text: ``O1`` or ``(O1, 2)`` for composite keys."""
    picked = table.select(list(key)).take(pa.array(index)).to_pylist()
    if len(key) == 1:
        return [str(row[key[0]]) for row in picked]
    return ["(" + ", ".join(str(row[k]) for k in key) + ")" for row in picked]


def duplicate_key_problem(file: str, table_name: str, table: pa.Table, key: Sequence[str],
                          rows: np.ndarray) -> Problem | None:
    """Report rows whose key an earlier row of the same file already has."""
    frame = pd.DataFrame({k: table.column(k).to_pandas() for k in key})
    dup = frame.duplicated(keep="first").to_numpy(dtype=bool)
    return _key_problem("load.duplicate_keys", file, table_name, table, key, rows, dup)


def existing_key_problem(file: str, table_name: str, table: pa.Table, key: Sequence[str],
                         rows: np.ndarray, existing: np.ndarray) -> Problem | None:
    """Report rows whose key is already in the store (append mode)."""
    return _key_problem("load.existing_keys", file, table_name, table, key, rows, existing)


def _key_problem(message: str, file: str, table_name: str, table: pa.Table,
                 key: Sequence[str], rows: np.ndarray, hit_mask: np.ndarray) -> Problem | None:
    """Report the rows ``hit_mask`` marks, in file order, with up to 50 example keys."""
    if not hit_mask.any():
        return None
    hit = np.flatnonzero(hit_mask)
    hit = hit[np.argsort(rows[hit], kind="stable")]
    return Problem(message, {
        "file": file, "table": table_name, "key_columns": ", ".join(key), "count": f"{len(hit):,}",
        "rows": format_rows(rows[hit]),
        "examples": format_values(key_text(table, key, hit[:50]))})


# -- warnings --------------------------------------------------------------------------------


def warn_guests(orders: pa.Table) -> str | None:
    """Warn about orders without a customer."""
    if "customer_id" not in orders.column_names:
        return tr("load.warn_guests", count=f"{orders.num_rows:,}")
    guests = orders.column("customer_id").null_count
    return tr("load.warn_guests", count=f"{guests:,}") if guests else None


def warn_future(table_name: str, table: pa.Table, rows: np.ndarray, now: datetime,
                timezone: str) -> list[str]:
    """Warn about timestamps and dates later than the time of the load."""
    out = []
    stamp = pa.scalar(now, type=pa.timestamp("us", tz="UTC"))
    today = pd.Timestamp(now).tz_convert(timezone).date()
    for name in table.column_names:
        values = table.column(name)
        if pa.types.is_timestamp(values.type):
            late = pc.greater(values, stamp)
        elif pa.types.is_date(values.type):
            late = pc.greater(values, pa.scalar(today, type=values.type))
        else:
            continue
        mask = _true(late)
        if mask.any():
            shown = pd.Timestamp(now).tz_convert(timezone).strftime("%Y-%m-%d %H:%M")
            out.append(tr("load.warn_future", count=f"{int(mask.sum()):,}",
                          column=f"{table_name}.{name}", now=shown,
                          rows=format_rows(rows[mask])))
    return out


def header_key(name: str) -> str:
    """Normalise a header for matching: no whitespace, case folded, no ``(KRW)`` suffix.

    >>> header_key("총 결제금액(KRW)"), header_key("Lineitem quantity")
    ('총결제금액', 'lineitemquantity')
    """
    key = re.sub(r"\s+", "", name).casefold()
    return re.sub(r"\((krw|원|₩|usd|\$|gbp|£|eur|€|jpy|¥)\)$", "", key)
