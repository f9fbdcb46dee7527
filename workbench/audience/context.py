"""What compiling a condition needs: the store's tables, the cut-off, windows, and notes.

Every condition type's compiler (:mod:`workbench.audience.conditions`) takes a
:class:`CompileContext` and the condition's validated fields and returns a boolean expression
over ``ctx.base`` (the ``customers`` table). The helpers here are the pieces several types
share: a window before the cut-off, identified events, completed orders, a count in a range.

Time
    Everything is relative to a cut-off: local midnight at the start of ``as_of`` (a date) in
    the shop's zone, or the instant ``as_of`` itself (a datetime, for hour-level timings such as
    "+1 h after the cart"). Only orders and events strictly before the cut-off count. A window
    ``from_ago``/``to_ago`` is ``[cutoff - from_ago, cutoff - to_ago)``; day lengths are
    calendar days in the shop's zone. Conditions that are day-level by nature read the day of
    ``as_of`` (``ctx.day``) even when it has a time: a birthday month, replenishment due from
    the purchase cycle, and the snapshot's columns (RFM segment, churn, CLV band), which are
    computed once a day.

Counts of zero
    A range that admits zero (``max_count: 0``, ``max_days: 1``) also matches customers with no
    matching rows at all ("no login in 90 days" includes customers who never logged in).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from workbench.audience.durations import to_timedelta
from workbench.data.schema import TABLES
from workbench.dates import cutoff
from workbench.errors import SchemaError
from workbench.i18n import tr

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from workbench.settings import Settings

__all__ = ["COMPLETED_STATUSES", "CompileContext", "Note", "in_range", "product_filter"]

#: Ibis types of the contract's column types (a NULL standing in for a missing column).
_IBIS_TYPES = {"string": "string", "boolean": "boolean", "date": "date", "float64": "float64",
               "int64": "int64", "timestamp": "timestamp('UTC')"}

#: Order statuses that mean a checkout was completed (pending: payment not finished).
COMPLETED_STATUSES = ("paid", "shipped", "delivered", "confirmed", "cancelled", "returned")


@dataclass(frozen=True, slots=True)
class Note:
    """Something people should know about an answer (a column read from an older snapshot).

    ``key`` names the message (``audience.note.<key>``) and ``fields`` fill it; the sentence is
    made when it is shown, in the reader's language.

    >>> Note("older_snapshot", {"type": "clv_band", "column": "clv_band", "day": "2026-11-16",
    ...                         "as_of": "2026-11-20"}).message("en")
    'clv_band: clv_band comes from the snapshot of 2026-11-16, not 2026-11-20.'
    """

    key: str
    fields: Mapping[str, Any]

    def message(self, language: str | None = None) -> str:
        """Return the note as a sentence (default: the active language)."""
        return tr(f"audience.note.{self.key}", language=language, **self.fields)


@dataclass
class CompileContext:
    """What compiling needs: tables, the cut-off, and notes for people.

    Parameters
    ----------
    con
        The store.
    settings
        Settings (the shop's time zone).
    as_of
        A date (cut-off at local midnight) or a datetime (cut-off at that instant).
    notes
        Collects :class:`Note` objects while compiling.
    cache
        Members of conditions kept between counts (see :mod:`workbench.audience.compile`);
        ``None``: no cache.
    """

    con: BaseBackend
    settings: Settings
    as_of: date | datetime
    notes: list[Note] = field(default_factory=list)
    cache: dict | None = None
    _tables: dict[str, ir.Table] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cutoff = cutoff(self.as_of, self.settings.timezone)
        # The local day of the cut-off: a tz-aware datetime in UTC still names the shop's day.
        self.day = self.cutoff.date() if isinstance(self.as_of, datetime) else self.as_of
        self.names = set(self.con.list_tables())
        self.base = self.table("customers")

    def table(self, name: str) -> ir.Table:
        """Return a table of the store (a readable error when it is missing)."""
        if name not in self._tables:
            if name not in self.names:
                raise SchemaError(tr("audience.error.no_table", table=name))
            self._tables[name] = self.con.table(name)
        return self._tables[name]

    def at(self, text: str | None) -> ir.TimestampScalar | None:
        """Return the instant ``text`` (a duration) before the cut-off as a literal."""
        if text is None:
            return None
        delta = to_timedelta(text)
        if delta.seconds == 0 and delta.microseconds == 0:  # whole days: calendar arithmetic
            local = self.cutoff.tz_localize(None) - timedelta(days=delta.days)
            ts = local.tz_localize(self.settings.timezone)
        else:
            ts = self.cutoff - delta
        return ibis.literal(ts)

    def before(self) -> ir.TimestampScalar:
        """Return the cut-off as a literal (rows strictly before it count)."""
        return ibis.literal(self.cutoff)

    def window(self, col: ir.TimestampValue, fields: Mapping[str, Any]) -> ir.BooleanValue:
        """Return ``col`` within the fields' ``from_ago``/``to_ago`` window."""
        hi = self.at(fields.get("to_ago"))
        hi = self.before() if hi is None else hi
        lo = self.at(fields.get("from_ago"))
        return (col < hi) if lo is None else ((col >= lo) & (col < hi))

    def events(self, *types: str) -> ir.Table:
        """Return identified events of some types before the cut-off."""
        ev = self.table("events")
        return ev.filter(ev.type.isin(types), ev.customer_id.notnull(), ev.ts < self.before())

    def completed_orders(self, since: ir.TimestampScalar | None) -> ir.Table:
        """Return identified orders with a completed checkout in ``[since, cutoff)``.

        Cancelled and returned orders count: the customer did check out (a cart or a checkout
        that ended in an order is not "abandoned").
        """
        orders = self.table("orders")
        o = orders.filter(orders.customer_id.notnull(), orders.status.isin(COMPLETED_STATUSES),
                          orders.ordered_at < self.before())
        return o if since is None else o.filter(o.ordered_at >= since)

    def note(self, key: str, **fields: Any) -> None:
        """Record a :class:`Note` for people (once: the same note again is not repeated)."""
        note = Note(key, fields)
        if note not in self.notes:
            self.notes.append(note)

    def column(self, name: str, *, condition: str) -> ir.Value:
        """Return a column of the customers (``ctx.base``), or NULL when the store lacks it.

        A store written before the column was in the contract and opened read-only has no
        such column (writing adds it): every customer reads as unknown there (a test on it
        matches nobody, its NOT everybody), and a note names the column and the condition.
        """
        if name in self.base.columns:
            return self.base[name]
        self.note("missing_column", type=condition, column=name)
        spec = next(c for c in TABLES["customers"].columns if c.name == name)
        kind = _IBIS_TYPES[spec.kind]
        return ibis.literal(None, type=kind)

    def count_unknown(self, col: ir.Value, *, column: str) -> None:
        """Record a note with how many customers have no value in ``column`` (none: no note)."""
        if column not in self.base.columns:
            return  # the missing column has its own note
        key = ("unknown", column, str(self.cutoff), id(self.con))
        if self.cache is not None and key in self.cache:
            unknown = self.cache[key]
        else:
            unknown = int(self.base.filter(col.isnull()).count().execute())
            if self.cache is not None:
                self.cache[key] = unknown
        if unknown:
            self.note(f"unknown_{column}", count=unknown)


def in_range(ctx: CompileContext, agg: ir.Table, bounds: Mapping[str, tuple[Any, Any]],
             zero_ok: bool | None = None) -> ir.BooleanValue:
    """Return customers whose ``agg`` row lies in every ``column: (lo, hi)`` range (inclusive).

    A customer without a row counts as zero: they match when every lower bound admits zero,
    unless ``zero_ok`` says otherwise ("3+ views" never includes customers without views; "no
    login in 90 days" includes those who never logged in).
    """
    passing = agg
    for col, (lo, hi) in bounds.items():
        if lo is not None:
            passing = passing.filter(passing[col] >= lo)
        if hi is not None:
            passing = passing.filter(passing[col] <= hi)
    expr = ctx.base.customer_id.isin(passing.customer_id)
    if zero_ok is None:
        zero_ok = all(lo is None or lo <= 0 for lo, _ in bounds.values())
    if zero_ok:
        expr = expr | ~ctx.base.customer_id.isin(agg.customer_id)
    return expr


def product_filter(ctx: CompileContext, table: ir.Table, fields: Mapping[str, Any]
                   ) -> ir.Table:
    """Keep rows whose ``product_id`` is one of the products or in one of the categories."""
    products, categories = fields.get("products"), fields.get("categories")
    if products:
        table = table.filter(table.product_id.isin(list(products)))
    if categories:
        cat = ctx.table("products")
        table = table.filter(table.product_id.isin(
            cat.filter(cat.category.isin(list(categories))).product_id))
    return table
