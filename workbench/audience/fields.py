"""Fields of audience conditions: what each accepts, where a form finds its options, its label.

A condition type (:mod:`workbench.audience.conditions`) is a list of :class:`FieldSpec`.
:func:`check_field` validates one value against its spec and returns it in canonical form
(numbers from form text, durations as ``"14d"``, lists as tuples), so a condition that exists
is a valid one; :func:`check_ranges` checks the pairs (``min_``/``max_``, ``from_ago``/
``to_ago``). An :class:`OptionSource` says which column of the store holds the values a form
offers for a field (regions, categories, products, a snapshot column).

Examples
--------
>>> spec = FieldSpec("min_count", "int", 1, minimum=0)
>>> check_field("condition 'orders'", spec, "1,000")
1000
>>> check_field("condition 'orders'", spec, "many")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
workbench.errors.ParameterError: condition 'orders': 'min_count' must be a whole number; ...
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench._userfiles import short
from workbench.audience.durations import duration, to_timedelta
from workbench.errors import ParameterError
from workbench.i18n import tr

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["CATEGORIES", "KINDS", "PRODUCTS", "PRODUCT_FIELDS", "FieldSpec", "OptionSource",
           "check_field", "check_ranges", "choice_label", "did_you_mean", "field_label",
           "range_fields", "window_fields"]

#: Kinds of field: ``texts`` is a list of free texts (product ids), ``choices`` a list from
#: ``choices``, ``month`` is ``this``, ``next`` or 1-12.
KINDS = ("duration", "int", "number", "bool", "text", "texts", "choice", "choices", "month")
_MAX_TEXT = 200
_MAX_ITEMS = 500
#: The pairs :func:`check_ranges` orders (``min_count <= max_count`` ...).
_RANGES = ("count", "amount", "items", "days")


@dataclass(frozen=True, slots=True)
class OptionSource:
    """A column of the store whose values a form offers for a field.

    Parameters
    ----------
    table, column
        Where the values are (a missing table or column offers nothing).
    label
        A column shown beside each value (a product's name); ``None``: the value alone.
    limit
        At most this many values are read.
    search
        Too many to scroll: the form shows a search box over them.
    """

    table: str
    column: str
    label: str | None = None
    limit: int = 500
    search: bool = False

    def read(self, con: BaseBackend | None) -> list[tuple[str, str]]:
        """Return ``(label, value)`` pairs: distinct values sorted, or labelled rows by value."""
        if con is None or self.table not in con.list_tables():
            return []
        t = con.table(self.table)
        if self.column not in t.columns:
            return []
        if self.label is None or self.label not in t.columns:
            values = t.filter(t[self.column].notnull()).select(v=t[self.column]).distinct()
            found = values.limit(self.limit).to_pandas()["v"]
            return [(v, v) for v in sorted(str(v) for v in found if str(v).strip())]
        rows = t.select(v=t[self.column], text=t[self.label]).order_by("v").limit(
            self.limit).to_pandas()
        return [(f"{r.v} {r.text or ''}".strip(), str(r.v)) for r in rows.itertuples()]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a condition type.

    ``kind`` is one of :data:`KINDS`. ``None`` is allowed for optional fields and means "no
    bound" / "any". ``options`` are the store columns a form offers values from (``texts``
    fields); ``help`` documents the field for developers.
    """

    name: str
    kind: str
    default: Any = None
    required: bool = False
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[OptionSource, ...] = ()
    help: str = ""

    def initial(self) -> Any:
        """Return the value a new condition in a form starts with (a required choice: the first).

        >>> FieldSpec("channel", "choice", required=True, choices=("sms", "email")).initial()
        'sms'
        """
        if self.default is not None or not self.choices or self.kind == "choices":
            return self.default  # an empty list of choices means "any"
        return self.choices[0]

    def searchable(self) -> bool:
        """Tell whether a form should offer a search box over the options (products)."""
        return any(source.search for source in self.options)

    def read_options(self, con: BaseBackend | None) -> list[tuple[str, str]]:
        """Return the ``(label, value)`` pairs a form offers, from every source in order."""
        return [pair for source in self.options for pair in source.read(con)]


#: Where forms find categories and products (``products`` holds both).
CATEGORIES = OptionSource("products", "category")
PRODUCTS = OptionSource("products", "product_id", label="name", limit=5000, search=True)
#: ``products`` and ``categories``: rows of any of them count (empty: all).
PRODUCT_FIELDS = (FieldSpec("products", "texts", options=(PRODUCTS,),
                            help="product ids (empty: all products)"),
                  FieldSpec("categories", "texts", options=(CATEGORIES,),
                            help="categories (empty: all categories)"))


def window_fields(default_from: str | None, default_to: str = "0h"
                  ) -> tuple[FieldSpec, FieldSpec]:
    """Return ``from_ago`` and ``to_ago``: the window ``[cutoff - from_ago, cutoff - to_ago)``."""
    return (FieldSpec("from_ago", "duration", default_from,
                      help="start of the window before as_of (empty: all history)"),
            FieldSpec("to_ago", "duration", default_to, help="end of the window before as_of"))


def range_fields(name: str, kind: str, default_min: Any = None) -> tuple[FieldSpec, FieldSpec]:
    """Return ``min_<name>`` and ``max_<name>`` (inclusive, at least 0; ``None``: no bound)."""
    return (FieldSpec(f"min_{name}", kind, default_min, minimum=0),
            FieldSpec(f"max_{name}", kind, None, minimum=0))




def field_label(name: str, language: str | None = None) -> str:
    """Return the label of a field in a form (``min_count`` -> "Count from")."""
    return tr(f"audience.field.{name}", language=language)


def choice_label(value: Any, language: str | None = None) -> str:
    """Return the label of a choice (``night`` -> "Night-time (21-08)"; months as numbers)."""
    return tr(f"audience.choice.{value}", language=language) if isinstance(value, str) else str(
        value)


def did_you_mean(value: Any, known: Iterable[Any]) -> str:
    """Return " Did you mean 'x'?" for the closest known value, or ``""``.

    >>> did_you_mean("smss", ["sms", "email"])
    " Did you mean 'sms'?"
    """
    close = difflib.get_close_matches(str(value), [str(k) for k in known], n=1)
    return tr("params.did_you_mean", suggestion=close[0]) if close else ""


def _number(value: Any, kind: str) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if kind == "int":
            return int(text) if re.fullmatch(r"-?\d+", text) else None
        try:
            return float(text)
        except ValueError:
            return None
    if isinstance(value, int):
        return value if kind == "int" else float(value)
    if isinstance(value, float):
        if kind == "int":
            return int(value) if value.is_integer() else None
        return value
    return None


def _check_number(where: str, spec: FieldSpec, value: Any) -> float | int:
    number = _number(value, spec.kind)
    if number is None:
        raise ParameterError(tr("audience.error.not_number", where=where, got=short(value),
                                kind=tr(f"audience.kind.{spec.kind}")))
    if number != number or number in (float("inf"), float("-inf")):
        raise ParameterError(tr("audience.error.not_finite", where=where, got=short(value)))
    if spec.minimum is not None and number < spec.minimum:
        raise ParameterError(tr("audience.error.at_least", where=where, got=short(value),
                                low=f"{spec.minimum:g}"))
    if spec.maximum is not None and number > spec.maximum:
        raise ParameterError(tr("audience.error.at_most", where=where, got=short(value),
                                high=f"{spec.maximum:g}"))
    return number


def _check_texts(where: str, spec: FieldSpec, value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ParameterError(tr("audience.error.not_texts", where=where, got=short(value)))
    if len(value) > _MAX_ITEMS:
        raise ParameterError(tr("audience.error.too_many_values", where=where, limit=_MAX_ITEMS))
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > _MAX_TEXT:
            raise ParameterError(tr("audience.error.bad_item", where=where, got=short(item),
                                    limit=_MAX_TEXT))
        if spec.kind == "choices" and item not in spec.choices:
            raise ParameterError(tr("audience.error.not_allowed", where=where, got=short(item),
                                    allowed=list(spec.choices),
                                    hint=did_you_mean(item, spec.choices)))
    if not value and spec.required:
        raise ParameterError(tr("audience.error.no_values", where=where))
    return tuple(dict.fromkeys(value)) or None


def _check_choice(where: str, spec: FieldSpec, value: Any) -> Any:
    if spec.kind == "month" and isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or value not in spec.choices:
        raise ParameterError(tr("audience.error.not_choice", where=where, got=short(value),
                                allowed=list(spec.choices),
                                hint=did_you_mean(value, spec.choices)))
    return value


def _check_text(where: str, spec: FieldSpec, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(tr("audience.error.not_text", where=where, got=short(value)))
    if len(value) > _MAX_TEXT:
        raise ParameterError(tr("audience.error.text_too_long", where=where, limit=_MAX_TEXT))
    return value


def _check_bool(where: str, spec: FieldSpec, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParameterError(tr("audience.error.not_bool", where=where, got=short(value)))
    return value


_CHECKS = {
    "duration": lambda where, spec, value: duration(value, where=where),
    "int": _check_number, "number": _check_number, "bool": _check_bool, "text": _check_text,
    "texts": _check_texts, "choices": _check_texts, "choice": _check_choice,
    "month": _check_choice,
}


def check_field(owner: str, spec: FieldSpec, value: Any) -> Any:
    """Return ``value`` validated against ``spec`` in canonical form (``None``: no value).

    Parameters
    ----------
    owner
        Named first in error messages (``condition 'orders'``).
    spec
        The field.
    value
        What the file or the form gives (numbers may come as text).

    Raises
    ------
    ParameterError
        Naming the owner, the field, what was expected and what was received.
    """
    where = f"{owner}: {spec.name!r}"
    if value is None or (value == "" and spec.kind != "text"):
        if spec.required:
            raise ParameterError(tr("audience.error.required", where=where,
                                    kind=tr(f"audience.kind.{spec.kind}")))
        return None
    return _CHECKS[spec.kind](where, spec, value)


def check_ranges(owner: str, values: Mapping[str, Any]) -> None:
    """Check that ``min_*`` is not above ``max_*`` and that a window starts before it ends.

    Raises
    ------
    ParameterError
        An inverted pair, with the fix.
    """
    for name in _RANGES:
        lo, hi = values.get(f"min_{name}"), values.get(f"max_{name}")
        if lo is not None and hi is not None and lo > hi:
            raise ParameterError(tr("audience.error.inverted_range", owner=owner, name=name,
                                    low=lo, high=hi))
    lo, hi = values.get("from_ago"), values.get("to_ago")
    if lo is not None and hi is not None and to_timedelta(lo) <= to_timedelta(hi):
        raise ParameterError(tr("audience.error.inverted_window", owner=owner, start=lo,
                                end=hi))
