"""Audience definitions as data: conditions, AND/OR/NOT groups, YAML files with a version.

A definition is a tree of :class:`Group` (``and`` / ``or``, optionally negated) whose leaves are
:class:`Condition` objects: a condition *type* from :data:`CONDITION_TYPES` plus its fields.
Every field is validated against the type's :class:`FieldSpec` when a condition is built, so a
definition that exists is a valid one; nothing in it is ever evaluated as code, and the
compiler (:mod:`workbench.audience.compile`) passes every value to the backend as an Ibis
literal.

Files live under ``data/audiences/<name>.yaml`` (next to the store, see :func:`audiences_dir`)::

    schema_version: 2
    name: cart_abandoners_sms
    description: Members who left items in the cart
    purpose: cart reminder (+1 h)
    channel: sms
    is_ad: true
    author: kim
    created_at: '2026-11-16T10:00:00+00:00'
    updated_at: '2026-11-16T10:00:00+00:00'
    version: 1
    rules:
      op: and
      conditions:
      - {type: consent, channel: sms}
      - {type: cart, min_age: 1h, max_age: 24h}

Windows are durations before the audience's cut-off (``as_of``): ``"14d"`` is fourteen days,
``"1h"`` one hour, ``"2w"`` two weeks; a bare number means days. ``from_ago: 14d, to_ago: 7d``
is the half-open window ``[cutoff - 14 days, cutoff - 7 days)``.

Older files keep loading: :func:`migrate` turns schema version 1 (``match: all|any`` and a flat
``filters`` list whose entries name their type under ``kind``) into the current shape.

Examples
--------
>>> d = AudienceDefinition.from_dict({
...     "name": "vip", "channel": "sms",
...     "rules": {"op": "and", "conditions": [
...         {"type": "orders", "from_ago": "90d", "min_count": 3}]}})
>>> d.rules.items[0].get("min_count"), d.rules.items[0].get("from_ago")
(3, '90d')
>>> Condition.make("orders", min_count="x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
workbench.errors.ParameterError: condition 'orders': 'min_count' must be a whole number; ...
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workbench._userfiles import UserFileError, parse_yaml, read_yaml, short
from workbench.data.schema import CAMPAIGN_CHANNELS, NET_STATUSES, ORDER_STATUSES
from workbench.errors import InputError, ParameterError
from workbench.i18n import tr

__all__ = [
    "CONDITION_TYPES",
    "SCHEMA_VERSION",
    "AudienceDefinition",
    "Condition",
    "ConditionType",
    "FieldSpec",
    "Group",
    "SavedDefinition",
    "audiences_dir",
    "duration",
    "list_definitions",
    "load_definition",
    "migrate",
    "save_definition",
    "saved_definitions",
]

#: Version of the file layout written by :func:`save_definition`.
SCHEMA_VERSION = 2
#: Consent flags a ``consent`` condition can test (``night``: the separate 21:00-08:00 consent).
CONSENT_CHANNELS = (*CAMPAIGN_CHANNELS, "night")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_DURATION = re.compile(r"^\s*(\d{1,5})\s*([hdw]?)\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks", "": "days"}
_MAX_TEXT = 200
_MAX_ITEMS = 500
#: Largest saved audience file read (256 KiB; a definition is a few kilobytes).
MAX_DEFINITION_BYTES = 256 * 1024
_FILE_CONTEXT = "audience.file_invalid"


# --------------------------------------------------------------------------- durations


def duration(value: Any, *, where: str = "duration") -> str:
    """Return a window bound in canonical form (``"14d"``, ``"1h"``), validating it.

    Parameters
    ----------
    value
        ``"14d"``, ``"36h"``, ``"2w"`` or a whole number of days.
    where
        Named in the error message.

    Examples
    --------
    >>> duration(14), duration("36h"), duration(" 2w ")
    ('14d', '36h', '14d')
    """
    if isinstance(value, bool):
        value = "?"
    if isinstance(value, int):
        value = str(value)
    m = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not m:
        raise ParameterError(
            f"{where} must be a duration such as '14d', '1h' or '2w' (or a whole number of "
            f"days); got {short(value)}. Fix: write a number followed by h, d or w.")
    n, unit = int(m.group(1)), m.group(2) or "d"
    if unit == "w":
        n, unit = 7 * n, "d"
    if n > (36_500 if unit == "d" else 876_000):
        raise ParameterError(f"{where} is longer than 100 years; got {short(value)}.")
    return f"{n}{unit}"


def to_timedelta(text: str) -> timedelta:
    """Return the :class:`~datetime.timedelta` of a canonical duration.

    >>> to_timedelta("36h"), to_timedelta("2d")
    (datetime.timedelta(days=1, seconds=43200), datetime.timedelta(days=2))
    """
    n, unit = int(text[:-1]), text[-1]
    return timedelta(**{_UNITS[unit]: n})


# --------------------------------------------------------------------------- field specs


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a condition type.

    ``kind`` is one of ``duration``, ``int``, ``number``, ``bool``, ``text``, ``texts`` (a list
    of free texts such as product ids), ``choice``, ``choices`` (a list from ``choices``) and
    ``month`` (``this``, ``next`` or 1-12). ``None`` is allowed for optional fields and means
    "no bound" / "any".
    """

    name: str
    kind: str
    default: Any = None
    required: bool = False
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""


@dataclass(frozen=True, slots=True)
class ConditionType:
    """A kind of condition, its fields and what it reads."""

    name: str
    fields: tuple[FieldSpec, ...]
    reads: str
    help: str = ""

    def spec(self, name: str) -> FieldSpec:
        """Return the spec of one field."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _window(default_from: str | None, default_to: str = "0h") -> tuple[FieldSpec, FieldSpec]:
    return (FieldSpec("from_ago", "duration", default_from,
                      help="start of the window before as_of (empty: all history)"),
            FieldSpec("to_ago", "duration", default_to, help="end of the window before as_of"))


def _range(name: str, kind: str, default_min: Any = None) -> tuple[FieldSpec, FieldSpec]:
    return (FieldSpec(f"min_{name}", kind, default_min, minimum=0),
            FieldSpec(f"max_{name}", kind, None, minimum=0))


_PRODUCTS = (FieldSpec("products", "texts", help="product ids (empty: all products)"),
             FieldSpec("categories", "texts", help="categories (empty: all categories)"))

_TYPES = (
    ConditionType("consent", (
        FieldSpec("channel", "choice", required=True, choices=CONSENT_CHANNELS),
        FieldSpec("granted", "bool", True)),
        reads="customers", help="advertising consent flag of a channel (or night-time)"),
    ConditionType("signup", _window("30d"), reads="customers",
                  help="signed up within a window"),
    ConditionType("membership", (FieldSpec("is_member", "bool", True),), reads="customers",
                  help="member or guest"),
    ConditionType("region", (FieldSpec("values", "texts", required=True),), reads="customers",
                  help="region is one of the values"),
    ConditionType("tier", (FieldSpec("values", "texts", required=True),), reads="snapshot",
                  help="loyalty tier (snapshot column tier)"),
    ConditionType("birthday_month", (
        FieldSpec("month", "month", "this", choices=("this", "next", *range(1, 13))),),
        reads="customers", help="birthday in a month (this: the month of as_of)"),
    ConditionType("orders", (
        *_window(None),
        FieldSpec("date_field", "choice", "ordered", choices=("ordered", "delivered")),
        FieldSpec("statuses", "choices", NET_STATUSES, choices=ORDER_STATUSES),
        *_PRODUCTS, *_range("count", "int", 1), *_range("amount", "number")),
        reads="orders", help="orders in a window: status, product, count and amount ranges"),
    ConditionType("cart", (
        *_PRODUCTS, *_range("items", "int", 1),
        FieldSpec("min_age", "duration", "0h", help="the item was added at least this long ago"),
        FieldSpec("max_age", "duration", "30d", help="and at most this long ago"),
        FieldSpec("not_purchased_since", "bool", True)),
        reads="events", help="items in the cart (cart_add minus cart_remove), not bought since"),
    ConditionType("product_views", (
        *_PRODUCTS, *_window("30d"), *_range("count", "int", 1),
        FieldSpec("per_product", "bool", True,
                  help="count views of each product separately (3+ views of one product)")),
        reads="events", help="product-page views in a window"),
    ConditionType("visits", (
        FieldSpec("event", "choice", "any", choices=("any", "login", "visit")),
        *_window("90d"), *_range("days", "int", 1)),
        reads="events", help="number of distinct days with a login or visit in a window"),
    ConditionType("searches", (
        FieldSpec("query", "text", required=True),
        FieldSpec("match", "choice", "contains", choices=("contains", "exact")),
        *_window("30d"), FieldSpec("min_count", "int", 1, minimum=1)),
        reads="events", help="searched for a text in a window"),
    ConditionType("checkout_abandoned", _window("1d"), reads="events",
                  help="started checkout in a window and placed no order since"),
    ConditionType("rfm_segment", (FieldSpec("values", "texts", required=True),),
                  reads="snapshot", help="RFM segment (snapshot column segment)"),
    ConditionType("churn_risk", (FieldSpec("values", "texts", required=True),),
                  reads="snapshot", help="churn-risk band (snapshot column risk_band)"),
    ConditionType("clv_band", (FieldSpec("values", "texts", required=True),),
                  reads="snapshot", help="CLV band (snapshot column clv_band)"),
    ConditionType("replenishment_due", (
        FieldSpec("level", "choice", "category", choices=("category", "product")),
        FieldSpec("keys", "texts", help="categories or product ids (empty: all)"),
        FieldSpec("due_within_days", "int", 7, minimum=1, maximum=365),
        FieldSpec("max_overdue_days", "int", 0, minimum=0, maximum=365),
        FieldSpec("min_repeats", "int", 30, minimum=1)),
        reads="orders", help="next purchase expected soon from the purchase cycle"),
)
#: Every condition type by name.
CONDITION_TYPES: dict[str, ConditionType] = {t.name: t for t in _TYPES}


def _did_you_mean(value: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(str(value), list(known), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


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


def _check_field(owner: str, spec: FieldSpec, value: Any) -> Any:  # noqa: C901 - one branch per kind
    where = f"{owner}: {spec.name!r}"
    if value is None or (value == "" and spec.kind not in ("text",)):
        if spec.required:
            raise ParameterError(f"{where} is required. Fix: give a value "
                                 f"({spec.help or spec.kind}).")
        return None
    kind = spec.kind
    if kind == "duration":
        return duration(value, where=where)
    if kind in ("int", "number"):
        number = _number(value, kind)
        if number is None:
            word = "a whole number" if kind == "int" else "a number"
            raise ParameterError(f"{where} must be {word}; got {short(value)}. Fix: write a number "
                                 "such as 1.")
        if number != number or number in (float("inf"), float("-inf")):
            raise ParameterError(f"{where} must be a finite number; got {short(value)}.")
        if spec.minimum is not None and number < spec.minimum:
            raise ParameterError(f"{where} must be at least {spec.minimum:g}; got {short(value)}.")
        if spec.maximum is not None and number > spec.maximum:
            raise ParameterError(f"{where} must be at most {spec.maximum:g}; got {short(value)}.")
        return number
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ParameterError(f"{where} must be true or false; got {short(value)}.")
    if kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise ParameterError(f"{where} must be a non-empty text; got {short(value)}.")
        if len(value) > _MAX_TEXT:
            raise ParameterError(f"{where} is longer than {_MAX_TEXT} characters; shorten it.")
        return value
    if kind in ("texts", "choices"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            raise ParameterError(f"{where} must be a list of texts; got {short(value)}.")
        if len(value) > _MAX_ITEMS:
            raise ParameterError(f"{where} holds more than {_MAX_ITEMS} values; narrow it.")
        out = []
        for item in value:
            if not isinstance(item, str) or not item.strip() or len(item) > _MAX_TEXT:
                raise ParameterError(f"{where} must hold non-empty texts of at most "
                                     f"{_MAX_TEXT} characters; got {short(item)}.")
            if kind == "choices" and item not in spec.choices:
                raise ParameterError(f"{where}: {short(item)} is not allowed; allowed: "
                                     f"{list(spec.choices)}.{_did_you_mean(item, spec.choices)}")
            out.append(item)
        if not out and spec.required:
            raise ParameterError(f"{where} needs at least one value.")
        return tuple(dict.fromkeys(out)) or None
    if kind in ("choice", "month"):
        if kind == "month" and isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or value not in spec.choices:
            hint = _did_you_mean(str(value), [str(c) for c in spec.choices])
            raise ParameterError(f"{where} must be one of {list(spec.choices)}; got "
                                 f"{short(value)}.{hint}")
        return value
    raise AssertionError(kind)  # pragma: no cover - specs are written in this module


# --------------------------------------------------------------------------- the tree


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition: a type from :data:`CONDITION_TYPES` and its validated fields.

    Build it with :meth:`make`, which fills defaults and validates; ``negate`` turns it into
    NOT.
    """

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    negate: bool = False

    @classmethod
    def make(cls, type: str, *, negate: bool = False, **params: Any) -> Condition:  # noqa: A002
        """Return a validated condition; defaults fill the fields not given."""
        if not isinstance(type, str) or type not in CONDITION_TYPES:
            raise ParameterError(
                f"unknown condition type {short(type)}; known: {sorted(CONDITION_TYPES)}."
                f"{_did_you_mean(str(type), CONDITION_TYPES)}")
        ctype = CONDITION_TYPES[type]
        owner = f"condition {short(type)}"
        names = {f.name for f in ctype.fields}
        unknown = sorted(set(params) - names)
        if unknown:
            hint = _did_you_mean(unknown[0], names)
            raise ParameterError(f"{owner}: unknown field(s) {unknown}; allowed: "
                                 f"{sorted(names)}.{hint}")
        if not isinstance(negate, bool):
            raise ParameterError(f"{owner}: 'not' must be true or false; got {short(negate)}.")
        values = {f.name: _check_field(owner, f, params.get(f.name, f.default))
                  for f in ctype.fields}
        _check_ranges(owner, values)
        return cls(type, values, negate)

    def get(self, name: str) -> Any:
        """Return a field's value."""
        return self.params[name]

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form: ``type``, the fields that differ from defaults, ``not``."""
        ctype = CONDITION_TYPES[self.type]
        out: dict[str, Any] = {"type": self.type}
        for f in ctype.fields:
            value = self.params.get(f.name)
            default = _check_field("default", f, f.default) if f.default is not None else None
            if value != default or f.required:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        if self.negate:
            out["not"] = True
        return out


def _check_ranges(owner: str, values: dict[str, Any]) -> None:
    for name in ("count", "amount", "items", "days"):
        lo, hi = values.get(f"min_{name}"), values.get(f"max_{name}")
        if lo is not None and hi is not None and lo > hi:
            raise ParameterError(f"{owner}: 'min_{name}' ({lo}) is greater than 'max_{name}' "
                                 f"({hi}). Fix: swap them or widen the range.")
    if values.get("min_items") is not None and values["min_items"] < 1:
        raise ParameterError(f"{owner}: 'min_items' must be at least 1 (for an empty cart use "
                             "'not' on a cart condition).")
    lo, hi = values.get("from_ago"), values.get("to_ago")
    if lo is not None and hi is not None and to_timedelta(lo) <= to_timedelta(hi):
        raise ParameterError(f"{owner}: the window starts ({lo} ago) at or after it ends ({hi} "
                             "ago). Fix: 'from_ago' must be longer ago than 'to_ago', e.g. "
                             "from 14d to 7d.")
    lo, hi = values.get("min_age"), values.get("max_age")
    if lo is not None and hi is not None and to_timedelta(lo) >= to_timedelta(hi):
        raise ParameterError(f"{owner}: 'min_age' ({lo}) must be shorter than 'max_age' ({hi}).")


@dataclass(frozen=True, slots=True)
class Group:
    """Conditions and groups combined with ``and`` or ``or``; ``negate`` makes it NOT."""

    op: str = "and"
    items: tuple[Condition | Group, ...] = ()
    negate: bool = False

    def __post_init__(self) -> None:
        if self.op not in ("and", "or"):
            raise ParameterError(f"group: 'op' must be 'and' or 'or'; got {short(self.op)}.")
        object.__setattr__(self, "items", tuple(self.items))

    def conditions(self) -> list[Condition]:
        """Return every condition of the tree, depth first."""
        out: list[Condition] = []
        for item in self.items:
            out.extend(item.conditions() if isinstance(item, Group) else [item])
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {"op": self.op,
                               "conditions": [i.to_dict() for i in self.items]}
        if self.negate:
            out["not"] = True
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "rules") -> Group:
        """Build a group from its YAML form (validated)."""
        if not isinstance(data, Mapping):
            raise ParameterError(f"{where} must be a mapping with 'op' and 'conditions'; got "
                                 f"{type(data).__name__}.")
        unknown = sorted(set(data) - {"op", "conditions", "not"})
        if unknown:
            raise ParameterError(f"{where}: unknown key(s) {short(unknown, 80)}; allowed: "
                                 "['conditions', 'not', 'op'].")
        items = data.get("conditions") or []
        if not isinstance(items, list):
            raise ParameterError(f"{where}: 'conditions' must be a list.")
        built: list[Condition | Group] = []
        for i, item in enumerate(items, 1):
            here = f"{where}, item {i}"
            if isinstance(item, Mapping) and "conditions" in item:
                built.append(cls.from_dict(item, here))
                continue
            if not isinstance(item, Mapping) or "type" not in item:
                raise ParameterError(f"{here} must be a mapping with a 'type' (one of "
                                     f"{sorted(CONDITION_TYPES)}) or a group with "
                                     f"'conditions'; got {short(item)}.")
            fields = {str(k): v for k, v in item.items() if k not in ("type", "not")}
            try:
                built.append(Condition.make(item["type"], negate=item.get("not", False),
                                            **fields))
            except ParameterError as exc:
                raise ParameterError(f"{here}: {exc}") from None
        negate = data.get("not", False)
        if not isinstance(negate, bool):
            raise ParameterError(f"{where}: 'not' must be true or false; got {short(negate)}.")
        return cls(data.get("op", "and"), tuple(built), negate)


_META = ("name", "description", "purpose", "channel", "is_ad", "author", "created_at",
         "updated_at", "version", "schema_version", "rules")


@dataclass(frozen=True, slots=True)
class AudienceDefinition:
    """A named, versioned audience definition.

    Parameters
    ----------
    name
        File-safe id: lower-case letters, digits, ``_`` and ``-`` (at most 64).
    description, purpose
        Free text for people; ``purpose`` is recorded with every export (PIPA: the reason for a
        download).
    channel
        Default channel of exports: one of ``sms``, ``lms``, ``email``, ``push``, ``kakao``.
    is_ad
        An advertising message: the consent and night-time rules apply at export.
    author
        Who wrote it.
    created_at, updated_at
        Set by :func:`save_definition`.
    version
        Incremented by :func:`save_definition` whenever the content changes.
    rules
        The conditions.
    """

    name: str
    rules: Group = field(default_factory=Group)
    description: str = ""
    purpose: str = ""
    channel: str = "sms"
    is_ad: bool = True
    author: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ParameterError(
                f"audience: 'name' must be 1-64 lower-case letters, digits, '_' or '-' starting "
                f"with a letter or digit; got {short(self.name)}. Fix: e.g. 'cart_abandoners_sms'.")
        if self.channel not in CAMPAIGN_CHANNELS:
            raise ParameterError(
                f"audience {short(self.name)}: 'channel' must be one of "
                f"{list(CAMPAIGN_CHANNELS)}; got {short(self.channel)}."
                f"{_did_you_mean(str(self.channel), CAMPAIGN_CHANNELS)}")
        for name in ("description", "purpose", "author"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > 2000:
                raise ParameterError(f"audience {short(self.name)}: {name!r} must be a text of at "
                                     f"most 2,000 characters; got {type(value).__name__}.")
        if not isinstance(self.is_ad, bool):
            raise ParameterError(f"audience {short(self.name)}: 'is_ad' must be true or false.")
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise ParameterError(f"audience {short(self.name)}: 'version' must be a whole "
                                 f"number >= 1; got {short(self.version)}.")
        if not isinstance(self.rules, Group):
            raise ParameterError(f"audience {short(self.name)}: 'rules' must be a Group.")
        for name in ("created_at", "updated_at"):
            object.__setattr__(self, name, _as_datetime(getattr(self, name), name, self.name))

    def replace(self, **changes: Any) -> AudienceDefinition:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form (current schema version)."""
        return {
            "schema_version": SCHEMA_VERSION, "name": self.name,
            "description": self.description, "purpose": self.purpose,
            "channel": self.channel, "is_ad": self.is_ad, "author": self.author,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "version": self.version, "rules": self.rules.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Any) -> AudienceDefinition:
        """Build a definition from its YAML form, migrating older schema versions."""
        if not isinstance(data, Mapping):
            raise ParameterError(f"audience definition must be a mapping; got "
                                 f"{type(data).__name__}.")
        data = migrate(dict(data))
        unknown = sorted(set(data) - set(_META))
        if unknown:
            raise ParameterError(f"audience {short(data.get('name'))}: unknown key(s) "
                                 f"{short(unknown, 80)}; allowed: {sorted(_META)}.")
        where = f"audience {short(data.get('name'))}: rules"
        rules = Group.from_dict(data.get("rules") or {"op": "and", "conditions": []}, where)
        kwargs = {k: data[k] for k in _META if k in data and k not in ("rules", "schema_version")
                  and data[k] is not None}
        if "name" not in kwargs:
            raise ParameterError("audience definition has no 'name'; add one such as "
                                 "'name: cart_abandoners_sms'.")
        return cls(rules=rules, **kwargs)

    def to_yaml(self) -> str:
        """Return the YAML text (``yaml.safe_dump``: no tags, no code)."""
        import yaml

        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<text>") -> AudienceDefinition:
        """Parse YAML text safely and validate it.

        The parser (:func:`workbench._userfiles.parse_yaml`) never executes tags and refuses
        aliases, duplicate keys, deep nesting and other tags than the core ones; dates stay
        text and are checked here.

        Raises
        ------
        UserFileError
            A :class:`~workbench.errors.ParameterError` naming ``source``, what is wrong (the
            line when known) and the fix.
        """
        return cls._from_data(parse_yaml(text, source=source, context=_FILE_CONTEXT), source)

    @classmethod
    def _from_data(cls, data: Any, source: str) -> AudienceDefinition:
        try:
            return cls.from_dict(data)
        except ParameterError as exc:
            detail = str(exc).rstrip(".?")  # the message adds its own full stop
            raise UserFileError(tr(_FILE_CONTEXT, path=source, detail=detail), path=source,
                                detail=detail) from None

    def content_key(self) -> dict[str, Any]:
        """Return the parts whose change makes a new version (not times, version, author)."""
        d = self.to_dict()
        return {k: d[k] for k in ("description", "purpose", "channel", "is_ad", "rules")}


def _as_datetime(value: Any, name: str, owner: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(f"audience {owner!r}: {name!r} must be an ISO timestamp such as "
                             f"2026-11-16T10:00:00+00:00; got {short(value)}.") from None


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Return a definition's mapping in the current schema version.

    Version 1 (files without ``schema_version``) wrote ``match: all|any`` and a flat
    ``filters`` list whose entries name their type under ``kind`` and negate with
    ``exclude: true``; version 2 writes ``rules: {op, conditions}`` with ``type`` and ``not``.

    >>> migrate({"name": "x", "match": "any", "filters": [{"kind": "region", "values": ["서울"],
    ...          "exclude": True}]})["rules"]
    {'op': 'or', 'conditions': [{'type': 'region', 'values': ['서울'], 'not': True}]}
    """
    # Version 1 files carry no schema_version; a hand-written file without one but in the
    # current layout (``rules``) is read as current.
    legacy = "filters" in data or "match" in data
    version = data.get("schema_version", 1 if legacy else SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ParameterError(f"audience {short(data.get('name'))}: 'schema_version' must be a "
                             f"whole number; got {short(version)}.")
    if version > SCHEMA_VERSION:
        raise ParameterError(
            f"audience {short(data.get('name'))} was written by a newer workbench (schema_version "
            f"{version}; this one reads up to {SCHEMA_VERSION}). Fix: upgrade workbench.")
    if version == 1:
        match = data.pop("match", "all")
        if match not in ("all", "any"):
            raise ParameterError(f"audience {short(data.get('name'))}: 'match' must be 'all' or "
                                 f"'any'; got {short(match)}.")
        filters = data.pop("filters", []) or []
        conditions = []
        for f in filters:
            if not isinstance(f, Mapping) or "kind" not in f:
                raise ParameterError(f"audience {short(data.get('name'))}: each filter needs a "
                                     f"'kind'; got {short(f)}.")
            c = {"type": f["kind"], **{k: v for k, v in f.items()
                                       if k not in ("kind", "exclude")}}
            if f.get("exclude"):
                c["not"] = True
            conditions.append(c)
        data["rules"] = {"op": "and" if match == "all" else "or", "conditions": conditions}
        data["schema_version"] = SCHEMA_VERSION
    return data


# --------------------------------------------------------------------------- files


def audiences_dir(settings: Any = None) -> Path:
    """Return the folder of saved audiences: ``audiences/`` next to the store file.

    With the default store ``data/workbench.duckdb`` this is ``data/audiences/``; with a URL
    store it is ``data/audiences`` in the working folder.
    """
    from workbench.settings import load_settings

    store = (settings or load_settings()).store
    if "://" in store:
        return Path("data") / "audiences"
    return Path(store).parent / "audiences"


def _path_for(name_or_path: str | Path, directory: Path | None) -> Path:
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        return Path(text)
    if not _NAME.match(text):
        raise ParameterError(f"audience name {short(text)} is not valid: use lower-case letters, "
                             "digits, '_' and '-'.")
    return (directory or audiences_dir()) / f"{text}.yaml"


def load_definition(name_or_path: str | Path, directory: Path | None = None
                    ) -> AudienceDefinition:
    """Load a saved audience by name (from ``directory``) or path; recipes by their name too.

    The file is read by :func:`workbench._userfiles.read_yaml`: at most
    :data:`MAX_DEFINITION_BYTES`, UTF-8, no anchors or aliases, no duplicate keys, only core
    tags, at most 50 levels deep; dates stay text and are checked with the other fields.

    Raises
    ------
    InputError
        No such file (the message lists the saved audiences and recipes), or invalid content
        (a ``UserFileError`` naming the file, the line when known and the fix).
    """
    path = _path_for(name_or_path, directory)
    if not path.exists():
        from workbench.audience.recipes import RECIPES, load_recipe

        if str(name_or_path) in RECIPES:
            return load_recipe(str(name_or_path))
        saved = [p.stem for p in list_definitions(directory)]
        raise InputError(
            f"audience {str(name_or_path)!r} not found in {str(path.parent)!r}; saved: "
            f"{saved or 'none'}; recipes: {sorted(RECIPES)}."
            f"{_did_you_mean(str(name_or_path), [*saved, *RECIPES])}")
    return _read_definition(path)


def _read_definition(path: Path) -> AudienceDefinition:
    data = read_yaml(path, max_bytes=MAX_DEFINITION_BYTES, context=_FILE_CONTEXT)
    return AudienceDefinition._from_data(data, str(path))


def list_definitions(directory: Path | None = None) -> list[Path]:
    """Return the saved audience files, sorted by name."""
    folder = directory or audiences_dir()
    return sorted(folder.glob("*.yaml")) if folder.exists() else []


@dataclass(frozen=True, slots=True)
class SavedDefinition:
    """One file of :func:`saved_definitions`: its definition, or why it cannot be used."""

    path: Path
    definition: AudienceDefinition | None = None
    problem: str = ""


def saved_definitions(directory: Path | None = None) -> list[SavedDefinition]:
    r"""Read every saved audience file; an invalid one is reported, not raised.

    One broken or hostile file must not hide the others (``workbench audience list``, the
    builder's start picker). Each file is read with the limits of :func:`load_definition`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "bad.yaml").write_text("a: &x 1\nb: *x\n", encoding="utf-8")
    ...     save_definition(AudienceDefinition("ok", rules=Group()), Path(d)).version
    ...     [(s.path.name, s.definition is None) for s in saved_definitions(Path(d))]
    1
    [('bad.yaml', True), ('ok.yaml', False)]
    """
    found = []
    for path in list_definitions(directory):
        try:
            found.append(SavedDefinition(path, _read_definition(path)))
        except InputError as exc:  # errors as data: the caller shows them beside the others
            found.append(SavedDefinition(path, problem=getattr(exc, "detail", None) or str(exc)))
    return found


def save_definition(definition: AudienceDefinition, directory: Path | None = None, *,
                    now: datetime | None = None) -> AudienceDefinition:
    """Save a definition as ``<directory>/<name>.yaml`` and return what was saved.

    A new file gets version 1 and ``created_at = now``; saving changed content over an
    existing file increments its version and keeps its ``created_at``; saving unchanged content
    changes nothing. The file is written to a temporary name and renamed, so a reader never
    sees half a file.

    Parameters
    ----------
    definition
        What to save.
    directory
        Folder (default :func:`audiences_dir`).
    now
        Time stamp to record (default: the current time, UTC; bookkeeping only).
    """
    import os
    import tempfile

    folder = directory or audiences_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{definition.name}.yaml"
    now = now or datetime.now(UTC)
    saved = definition.replace(created_at=definition.created_at or now, updated_at=now,
                               version=1)
    if path.exists():
        old = _read_definition(path)
        if old.content_key() == definition.content_key() and old.author == definition.author:
            return old
        saved = definition.replace(created_at=old.created_at or now, updated_at=now,
                                   version=old.version + 1)
    fd, tmp = tempfile.mkstemp(prefix=f".{definition.name}.", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(saved.to_yaml())
    os.replace(tmp, path)
    return saved
