r"""Column mappings: how a platform's export becomes canonical tables.

A mapping is a TOML (or YAML) file. Shipped ones live in ``data/mappings/`` (``cafe24``,
``imweb``, ``shopify``, ``online_retail``, ``cdnow``); ``--mapping`` takes such a name or the
path of your own file. The format, with the Cafe24 mapping as the example::

    name = "cafe24"
    description = "Cafe24 order export, one row per order line"
    currency = "KRW"                 # optional: currency of the amounts (rounding digits)
    timezone = "Asia/Seoul"          # optional: zone of naive times (default: the shop's)
    allow_negative = { status = ["cancelled"] }   # optional: rows where negatives are fine

    [read]                           # optional
    delimiter = ","                  # ",", "\t", ";", "|" or "whitespace"
    sheet = "주문"                    # XLSX sheet (default: the first)
    header_row = 1                   # row of the column names
    quote = true                     # '"' quotes fields

    [fields]                         # one value per source row, named after the canonical
    order_id = "주문번호"              # column it fills; a string copies a header
    customer_id = { column = ["주문자ID", "주문자 아이디"], optional = true }
    line_no = { sequence = ["order_id"] }            # 1, 2, ... within each order
    status = { column = "주문상태", map = { "배송완료" = "delivered" },
               rules = [{ regex = "^취소", value = "cancelled" }] }

    [tables.orders]                  # the tables this mapping fills
    one_per = "order_id"             # one row per order: each column takes the first
    fill_sum = { amount = "line_amount" }            # non-empty value of the order's rows
    [tables.order_items]             # no one_per: one row per source row
    replace_children = "order_id"    # upsert: first drop the stored lines of these orders
    [tables.customers]
    one_per = "customer_id"
    skip_empty = true                # rows without a customer (guests) give no customer
    existing = "keep"                # customers already in the store are left as they are
                                     # ("merge": updated, consent merged by date; members)
    [tables.messages]                # a sending service's result report (send_report):
    match = "export"                 # rows are matched to an export's members by customer_id
                                     # or the ``phone`` field (:mod:`workbench.data.sends`)

Headers are matched ignoring spaces, letter case and a currency suffix such as ``(KRW)``, so
``총결제금액``, ``총 결제금액`` and ``총결제금액(KRW)`` are the same header. A field is one of:

- ``"Header"`` or ``{ column = "Header" }``; a list gives alternatives, the first present wins;
  ``optional = true`` lets the header be absent (the field is then empty).
- ``{ value = "confirmed" }``: a constant.
- ``{ template = "{customer_id}-{date}-{seq}" }``: text from headers (or other fields);
  ``{seq}`` numbers the rows that share the rest of the text (1, 2, ...).
- ``{ hash = { phone = "주문자 번호", email = "주문자 이메일" } }``: a salted customer key,
  ``"h_"`` + 16 hex digits of SHA-256(salt + normalised phone, else lower-cased email).
- ``{ sequence = ["order_id"] }``: 1, 2, ... in file order within rows sharing these values.
- ``{ multiply = ["Quantity", "UnitPrice"] }``: the product of numbers.
- ``{ rules = [...] }`` or ``{ column = ..., map = {...}, rules = [...] }``: translate values.
  ``map`` matches whole values; otherwise the first rule that matches wins; a rule is
  ``{ value = "...", column = "...", regex = "...", in = [...], not_empty = true }`` (no
  condition: always; no column: the field's own). Values are compared without spaces and
  ignoring case. Values already canonical (``delivered``) pass; others are errors that list
  the allowed and the known values.

Modifiers: ``format`` (``strptime`` format(s) for dates, tried before the automatic ones),
``unit = "s"`` (Unix seconds), ``transform`` (``phone``, ``email``, ``lower``, ``upper``,
``digits``), ``minus`` (headers subtracted from a number, empty = 0) and ``default`` (value
for empty cells). ``[tables.X] columns = { name = "buyer_name" }`` fills a column from a field
of another name. Every required column of every table must be filled by some field.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench._userfiles import read_toml, read_yaml
from workbench.data.convert import (
    BOOLEAN_FALSE,
    BOOLEAN_TRUE,
    CONTACT_PLACEHOLDERS,
    MAX_ABS_NUMBER,
    bad_emails,
    bad_phones,
    clean_text,
    control_characters,
    mangled_ids,
    normalize_phones,
    normalized_values,
    out_of_range,
    render_template,
    round_money,
    sequence_numbers,
    strip_decimal_zero,
    to_boolean,
    to_date,
    to_number,
    to_timestamp,
    transform_text,
)
from workbench.data.readers import RawTable
from workbench.data.schema import CANONICAL_TABLES, TABLES, Column
from workbench.data.validate import Problem, check_allowed, header_key, quoted, value_problem
from workbench.errors import ParameterError, SchemaError
from workbench.i18n import tr

__all__ = [
    "Evaluator",
    "FieldSpec",
    "Mapping",
    "Rule",
    "TableSpec",
    "canonical_mapping",
    "load_mapping",
    "parse_mapping",
    "shipped_mappings",
]

SOURCES = ("column", "value", "template", "hash", "sequence", "multiply", "rules")
_FIELD_KEYS = (*SOURCES, "optional", "map", "format", "unit", "transform", "minus", "default")
_TABLE_KEYS = ("one_per", "skip_empty", "columns", "fill_sum", "existing", "replace_children",
               "match")
_TOP_KEYS = ("name", "description", "currency", "timezone", "read", "fields", "tables",
             "allow_negative")
_READ_KEYS = ("delimiter", "sheet", "header_row", "quote")
_RULE_KEYS = ("value", "column", "regex", "in", "not_empty")
TRANSFORMS = ("phone", "email", "lower", "upper", "digits")
#: ``match = "export"`` (send reports, :mod:`workbench.data.sends`): columns the match fills
#: when the report lacks them, and the extra fields it reads (the recipient's phone; rows that
#: are opt-outs, 수신거부).
MATCHED_COLUMNS = ("campaign_id", "customer_id", "sent_at")
MATCH_FIELDS = ("phone", "opted_out")
_SUFFIXES = (".toml", ".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Rule:
    """A value given when a condition on a column holds (see the module docstring)."""

    value: str
    column: str | None = None
    regex: str | None = None
    values: tuple[str, ...] = ()
    not_empty: bool = False


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """How one field is computed from a source row (see the module docstring)."""

    name: str
    columns: tuple[str, ...] = ()
    optional: bool = False
    value: str | None = None
    template: str | None = None
    hash: tuple[tuple[str, str], ...] = ()
    sequence: tuple[str, ...] = ()
    multiply: tuple[str, ...] = ()
    rules: tuple[Rule, ...] = ()
    map: tuple[tuple[str, str], ...] = ()
    formats: tuple[str, ...] = ()
    unit: str | None = None
    transform: str | None = None
    minus: tuple[str, ...] = ()
    default: str | None = None

    def references(self) -> list[str]:
        """Headers or fields this field reads, besides its own ``columns``."""
        refs = [f for _, f, _, _ in string.Formatter().parse(self.template or "")
                if f and f != "seq"]
        refs += [ref for _, ref in self.hash]
        refs += [r.column for r in self.rules if r.column]
        return refs + list(self.sequence) + list(self.multiply) + list(self.minus)


@dataclass(frozen=True, slots=True)
class TableSpec:
    """How the rows of one table are formed from the fields."""

    name: str
    one_per: str | None = None
    skip_empty: bool = False
    columns: tuple[tuple[str, str], ...] = ()
    fill_sum: tuple[tuple[str, str], ...] = ()
    existing: str = "error"
    replace_children: str | None = None
    match: str | None = None


@dataclass(frozen=True, slots=True)
class Mapping:
    """A parsed mapping: fields, the tables they fill and how to read the file.

    ``canonical`` marks the implicit mapping of a file whose headers are already the column
    names of one table.
    """

    name: str
    fields: dict[str, FieldSpec]
    tables: dict[str, TableSpec]
    description: str = ""
    path: str | None = None
    currency: str | None = None
    timezone: str | None = None
    allow_negative: tuple[tuple[str, tuple[str, ...]], ...] = ()
    read: dict[str, Any] = field(default_factory=dict)
    canonical: bool = False

    def field_for(self, table: str, column: str) -> str | None:
        """Return the field that fills ``table.column``, or ``None``."""
        name = dict(self.tables[table].columns).get(column, column)
        return name if name in self.fields else None

    def feeds(self, name: str) -> list[tuple[str, str]]:
        """Return the ``(table, column)`` pairs a field fills."""
        return [(t, c.name) for t in self.tables for c in TABLES[t].columns
                if self.field_for(t, c.name) == name]

    def needed(self) -> list[str]:
        """Return the fields that fill, sum or exempt anything, with their dependencies."""
        todo = [f for t in self.tables for c in TABLES[t].columns
                if (f := self.field_for(t, c.name))]
        todo += [src for spec in self.tables.values() for _, src in spec.fill_sum]
        todo += [name for name, _ in self.allow_negative]
        if any(spec.match for spec in self.tables.values()):
            todo += list(MATCH_FIELDS)
        seen: list[str] = []
        while todo:
            name = todo.pop(0)
            if name in seen or name not in self.fields:
                continue
            seen.append(name)
            todo += self.fields[name].references()
        return seen


# -- lookup ----------------------------------------------------------------------------------


def mapping_dirs() -> list[Path]:
    """Return the folders searched for mappings: the project's, then ``./data/mappings``."""
    return [Path(__file__).resolve().parents[2] / "data" / "mappings",
            Path.cwd() / "data" / "mappings"]


def shipped_mappings() -> dict[str, Path]:
    """Return mapping names and files; one in ``./data/mappings`` wins over the project's.

    >>> sorted(shipped_mappings())[:3]
    ['cafe24', 'cafe24_members', 'cdnow']
    """
    found: dict[str, Path] = {}
    for folder in mapping_dirs():
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix in _SUFFIXES and not path.name.startswith("."):
                    found[path.stem] = path
    return found


def load_mapping(name_or_path: str | os.PathLike[str], *, file: str = "-") -> Mapping:
    """Find and parse a mapping by shipped name or path.

    Parameters
    ----------
    name_or_path
        ``"cafe24"`` or the path of a ``.toml``/``.yaml`` file.
    file
        Name of the file being loaded, for messages.

    Raises
    ------
    SchemaError
        No such mapping (the message lists the shipped ones).
    ParameterError
        The mapping file is not valid.

    Examples
    --------
    >>> m = load_mapping("cdnow")
    >>> list(m.tables), m.currency
    (['customers', 'orders', 'order_items'], 'USD')
    """
    shipped = shipped_mappings()
    text = os.fspath(name_or_path)
    path = Path(text)
    if text in shipped:
        path = shipped[text]
    elif not (path.suffix.lower() in _SUFFIXES and path.is_file()):
        raise SchemaError(tr("load.unknown_mapping", file=file, mapping=text,
                             names=", ".join(sorted(shipped))))
    raw = _read_mapping_file(path)
    return parse_mapping(raw, name=str(raw.get("name") or path.stem), path=str(path))


def _read_mapping_file(path: Path) -> dict[str, Any]:
    # Size, encoding, aliases, duplicate keys, tags and nesting are checked by the shared
    # reader of user-written definitions; its messages use load.mapping_invalid too.
    if path.suffix.lower() == ".toml":
        raw = read_toml(path, context="load.mapping_invalid")
    else:
        raw = read_yaml(path, context="load.mapping_invalid") or {}
    if not isinstance(raw, dict):
        raise _invalid(str(path), tr("load.mapping_syntax", format="mapping", error=type(raw)))
    return raw


def _invalid(path: str, detail: str) -> ParameterError:
    return ParameterError(tr("load.mapping_invalid", path=path, detail=detail))


# -- parsing ---------------------------------------------------------------------------------


def _check_keys(raw: dict, allowed: tuple[str, ...], where: str, path: str) -> None:
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise _invalid(path, tr("load.mapping_unknown_key", keys=quoted(unknown), where=where,
                                allowed=quoted(allowed)))


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str | int | float):
        return (str(value),)
    return tuple(str(v) for v in value)


def _parse_rule(raw: Any, where: str, path: str) -> Rule:
    if not isinstance(raw, dict) or "value" not in raw:
        raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                detail=tr("load.mapping_rule")))
    _check_keys(raw, _RULE_KEYS, where, path)
    try:
        re.compile(raw.get("regex") or "")
    except re.error as exc:
        detail = tr("load.mapping_regex", regex=raw["regex"], error=exc)
        raise _invalid(path, tr("load.mapping_bad_value", where=where, detail=detail)) from None
    return Rule(value=str(raw["value"]), column=raw.get("column"), regex=raw.get("regex"),
                values=_strings(raw.get("in")), not_empty=bool(raw.get("not_empty", False)))


def _parse_field(name: str, raw: Any, path: str) -> FieldSpec:
    where = f"[fields] {name}"
    if isinstance(raw, str | list):
        raw = {"column": raw}
    if not isinstance(raw, dict):
        raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                detail=tr("load.mapping_field_form")))
    _check_keys(raw, _FIELD_KEYS, where, path)
    sources = [k for k in SOURCES if k in raw and not (k == "rules" and "column" in raw)]
    if len(sources) != 1:
        raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                detail=tr("load.mapping_one_source", sources=quoted(SOURCES))))
    transform = raw.get("transform")
    if transform is not None and transform not in TRANSFORMS:
        raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                detail=tr("load.mapping_choice", option="transform",
                                          choices=quoted(TRANSFORMS))))
    if raw.get("unit") not in (None, "s", "ms"):
        raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                detail=tr("load.mapping_choice", option="unit",
                                          choices="'s', 'ms'")))
    if raw.get("map") and "column" not in raw:
        raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                detail=tr("load.mapping_map_column")))
    hashed = raw.get("hash") or {}
    if not isinstance(hashed, dict) or set(hashed) - {"phone", "email"}:
        raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                detail=tr("load.mapping_hash")))
    return FieldSpec(
        name=name, columns=_strings(raw.get("column")), optional=bool(raw.get("optional")),
        value=None if raw.get("value") is None else str(raw["value"]),
        template=raw.get("template"), hash=tuple((k, str(v)) for k, v in hashed.items()),
        sequence=_strings(raw.get("sequence")), multiply=_strings(raw.get("multiply")),
        rules=tuple(_parse_rule(r, f"{where} rules", path) for r in raw.get("rules", ())),
        map=tuple((str(k), str(v)) for k, v in (raw.get("map") or {}).items()),
        formats=_strings(raw.get("format")), unit=raw.get("unit"), transform=transform,
        minus=_strings(raw.get("minus")),
        default=None if raw.get("default") is None else str(raw["default"]))


def _parse_table(name: str, raw: Any, path: str) -> TableSpec:
    where = f"[tables.{name}]"
    if name not in CANONICAL_TABLES:
        raise _invalid(path, tr("load.mapping_unknown_table", table=name,
                                tables=quoted(CANONICAL_TABLES)))
    raw = raw or {}
    _check_keys(raw, _TABLE_KEYS, where, path)
    # "merge" (customers only): stored customers are updated by the consent merge of
    # workbench.data.consent in append mode too, so a weekly member export needs no --mode
    policies = ("error", "keep", "merge") if name == "customers" else ("error", "keep")
    if raw.get("existing", "error") not in policies:
        raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                detail=tr("load.mapping_choice", option="existing",
                                          choices=quoted(policies))))
    if raw.get("match") is not None and (name, raw["match"]) != ("messages", "export"):
        raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                detail=tr("load.mapping_match")))
    names = set(TABLES[name].names)
    for key in ("one_per", "replace_children"):
        if raw.get(key) is not None and raw[key] not in names:
            raise _invalid(path, tr("load.mapping_bad_value", where=where,
                                    detail=tr("load.mapping_not_column", option=key, table=name)))
    for key in ("columns", "fill_sum"):
        bad = sorted(set(raw.get(key) or {}) - names)
        if bad:
            raise _invalid(path, tr("load.mapping_unknown_key", keys=quoted(bad),
                                    where=f"{where} {key}", allowed=quoted(sorted(names))))
    return TableSpec(
        name=name, one_per=raw.get("one_per"), skip_empty=bool(raw.get("skip_empty")),
        columns=tuple((raw.get("columns") or {}).items()),
        fill_sum=tuple((raw.get("fill_sum") or {}).items()),
        existing=raw.get("existing", "error"), replace_children=raw.get("replace_children"),
        match=raw.get("match"))


def parse_mapping(raw: dict[str, Any], *, name: str, path: str = "-") -> Mapping:
    """Build a :class:`Mapping` from the parsed TOML/YAML and check it is complete.

    Raises
    ------
    ParameterError
        Unknown keys, a field with no or several sources, or a required column no field fills.
    """
    _check_keys(raw, _TOP_KEYS, "the top level", path)
    _check_keys(raw.get("read") or {}, _READ_KEYS, "[read]", path)
    fields = {n: _parse_field(n, spec, path) for n, spec in (raw.get("fields") or {}).items()}
    specs = {n: _parse_table(n, spec, path) for n, spec in (raw.get("tables") or {}).items()}
    if not specs:
        raise _invalid(path, tr("load.mapping_unknown_table", table="-",
                                tables=quoted(CANONICAL_TABLES)))
    tables = {t: specs[t] for t in CANONICAL_TABLES if t in specs}
    allow = tuple((k, _strings(v)) for k, v in (raw.get("allow_negative") or {}).items())
    mapping = Mapping(name=name, fields=fields, tables=tables,
                      description=str(raw.get("description", "")), path=path,
                      currency=raw.get("currency"), timezone=raw.get("timezone"),
                      allow_negative=allow, read=dict(raw.get("read") or {}))
    for table, spec in tables.items():
        if spec.one_per and mapping.field_for(table, spec.one_per) is None:
            raise _invalid(path, tr("load.mapping_incomplete", table=table,
                                    missing=quoted([spec.one_per])))
        filled = {c for c, _ in spec.fill_sum} | (set(MATCHED_COLUMNS) if spec.match else set())
        missing = [c for c in TABLES[table].required
                   if mapping.field_for(table, c) is None and c not in filled]
        if missing:
            raise _invalid(path, tr("load.mapping_incomplete", table=table,
                                    missing=quoted(missing)))
        if spec.match and mapping.field_for(table, "customer_id") is None \
                and "phone" not in fields:
            raise _invalid(path, tr("load.mapping_incomplete", table=table,
                                    missing=tr("load.or").join(["'customer_id'", "'phone'"])))
    return mapping


def canonical_mapping(table: str, headers: list[str]) -> Mapping:
    """Return the implicit mapping of a file whose headers are the columns of ``table``.

    >>> m = canonical_mapping("products", ["product_id", "Price (KRW)"])
    >>> m.fields["price"].columns
    ('Price (KRW)',)
    """
    by_key = {header_key(h): h for h in reversed(headers)}
    fields = {c.name: FieldSpec(name=c.name, columns=(by_key[header_key(c.name)],))
              for c in TABLES[table].columns if header_key(c.name) in by_key}
    return Mapping(name=table, fields=fields, tables={table: TableSpec(name=table)},
                   canonical=True)


# -- evaluation ------------------------------------------------------------------------------


def apply_rules(spec: FieldSpec, own: pa.Array | None, column: Callable[[str], pa.Array],
                n: int) -> pa.Array:
    """Translate values with ``map`` and ``rules``; null where nothing matches.

    ``own`` is the field's own column (``None`` for rules-only fields); ``column(ref)`` returns
    the cleaned text of another header or field; ``n`` is the number of rows.
    """
    result = pa.nulls(n, pa.string())
    if own is not None and spec.map:
        keys = pa.array([header_key(k) for k, _ in spec.map])
        targets = pa.array([v for _, v in spec.map], type=pa.string())
        result = pc.take(targets, pc.index_in(normalized_values(own), value_set=keys))
    by_rule = pa.nulls(n, pa.string())
    for rule in reversed(spec.rules):  # first matching rule wins
        values = own if rule.column is None else column(rule.column)
        if rule.regex is None and not rule.values and not rule.not_empty:
            hit = pa.repeat(pa.scalar(True), n)
        elif values is None:
            continue
        elif rule.regex is not None:
            hit = pc.match_substring_regex(pc.replace_substring_regex(values, r"\s+", ""),
                                           rule.regex, ignore_case=True)
        elif rule.values:
            hit = pc.is_in(normalized_values(values),
                           value_set=pa.array([header_key(v) for v in rule.values]))
        else:
            hit = pc.is_valid(values)
        by_rule = pc.if_else(pc.fill_null(hit, False), pa.scalar(rule.value), by_rule)
    return pc.coalesce(result, by_rule)


class Evaluator:
    """Compute a mapping's fields over a source table, collecting problems instead of raising.

    Parameters
    ----------
    raw
        The source file as text.
    mapping
        The mapping (or :func:`canonical_mapping`).
    file
        File name for messages.
    timezone
        Zone of naive times (the mapping's, else the shop's).
    digits
        Minor-unit digits of the currency; money is rounded to them.
    salt
        Returns the salt of hashed customer keys (called only if a field hashes).
    dates
        The earliest and latest instants a timestamp may have (``None``: no check); birth
        dates must lie between 1900-01-01 and the latest instant's day.
    """

    def __init__(self, raw: RawTable, mapping: Mapping, *, file: str, timezone: str,
                 digits: int, salt: Callable[[], str],
                 dates: tuple[datetime, datetime] | None = None) -> None:
        self.raw, self.mapping, self.file = raw, mapping, file
        self.timezone, self.digits, self._salt = timezone, digits, salt
        self.dates = dates
        self.n, self.rows = raw.num_rows, raw.rows
        self.problems: list[Problem] = []
        self._headers: dict[str, str] = {}
        for header in raw.headers:
            self._headers.setdefault(header_key(header), header)
        self._text: dict[str, pa.Array] = {}
        self._values: dict[str, pa.Array] = {}
        self._source: dict[str, pa.Array] = {}
        self._typed: dict[tuple[str, str], pa.Array] = {}
        self._busy: list[str] = []
        self._exempt: np.ndarray | None = None
        #: per field, rows whose value was reported as bad and left empty
        self.failed: dict[str, np.ndarray] = {}

    # -- sources -------------------------------------------------------------------------

    def header(self, ref: str) -> str | None:
        """Return the file's header matching ``ref`` (ignoring spaces, case, currency)."""
        return self._headers.get(header_key(ref))

    def _own_header(self, spec: FieldSpec) -> str | None:
        return next((h for c in spec.columns if (h := self.header(c))), None)

    def _shown_header(self, spec: FieldSpec) -> str | None:
        """Return the header naming a field in messages: its own, else its first rule's."""
        refs = [*spec.columns, *(r.column for r in spec.rules if r.column)]
        return next((h for c in refs if (h := self.header(c))), None)

    def check_sources(self) -> list[Problem]:
        """Return problems for headers the mapping needs but the file lacks."""
        problems = []
        for name in self.mapping.needed():
            spec = self.mapping.fields[name]
            if spec.columns and not spec.optional and self._own_header(spec) is None:
                problems.append(self._missing(name, spec.columns))
            hashed = [ref for _, ref in spec.hash]
            for ref in spec.references():
                if ref not in hashed and not self._known(ref):
                    problems.append(self._missing(name, (ref,)))
            if hashed and not any(self._known(ref) for ref in hashed):
                problems.append(self._missing(name, tuple(hashed)))
        return problems

    def _known(self, ref: str) -> bool:
        return self.header(ref) is not None or ref in self.mapping.fields

    def _missing(self, name: str, wanted: tuple[str, ...]) -> Problem:
        hint = "".join(tr("load.did_you_mean", suggestion=close[0], got=w) for w in wanted
                       if (close := difflib.get_close_matches(w, self.raw.headers, 1, 0.6)))
        return Problem("load.mapping_missing_column", {
            "file": self.file, "mapping": self.mapping.name, "target": self.target(name),
            "wanted": tr("load.or").join(f"'{w}'" for w in wanted),
            "got": quoted(self.raw.headers), "hint": hint})

    def target(self, name: str) -> str:
        """Return the table columns a field fills, e.g. ``orders.amount``."""
        return ", ".join(f"{t}.{c}" for t, c in self.mapping.feeds(name)) or name

    def label(self, name: str) -> str:
        """Return how messages name a field: ``'주문일시' (orders.ordered_at)``."""
        header = self._shown_header(self.mapping.fields[name])
        if self.mapping.canonical:
            return f"'{header}'"
        return f"'{header or name}' ({self.target(name)})"

    def column(self, ref: str) -> pa.Array:
        """Return the cleaned text of a header, else of a field."""
        header = self.header(ref)
        if header is None and ref in self.mapping.fields:
            values = self.values(ref)
            return values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
        if header is None:
            return pa.nulls(self.n, pa.string())
        if header not in self._text:
            self._text[header] = clean_text(self.raw.data.column(header))
        return self._text[header]

    # -- fields --------------------------------------------------------------------------

    def values(self, name: str) -> pa.Array:
        """Return a field's values: text, or numbers (``sequence``, ``multiply``, ``minus``)."""
        if name in self._values:
            return self._values[name]
        if name in self._busy:
            raise _invalid(self.mapping.path or "-",
                           tr("load.mapping_cycle", fields=quoted(self._busy)))
        self._busy.append(name)
        try:
            result = self._evaluate(self.mapping.fields[name])
        finally:
            self._busy.pop()
        self._values[name] = result
        return result

    def _evaluate(self, spec: FieldSpec) -> pa.Array:
        own = None
        if spec.columns:
            header = self._own_header(spec)
            own = self.column(header) if header else pa.nulls(self.n, pa.string())
            if spec.default is not None:
                own = pc.coalesce(own, pa.scalar(spec.default))
        if spec.value is not None:
            result = pa.repeat(pa.scalar(spec.value), self.n)
        elif spec.template is not None:
            result = render_template(spec.template, self.column, self.n)
        elif spec.hash:
            result = self._hashed(spec)
        elif spec.sequence:
            return sequence_numbers([self.column(ref) for ref in spec.sequence])
        elif spec.multiply:
            result = self._product(spec)
        else:
            result = own if own is not None else pa.nulls(self.n, pa.string())
        if spec.map or spec.rules:
            self._source[spec.name] = own if own is not None else self.column(
                spec.rules[0].column or "")
            result = apply_rules(spec, own, self.column, self.n)
        if spec.minus:
            result = self._difference(spec, result)
        if pa.types.is_string(result.type):
            if spec.transform:
                result = transform_text(result, spec.transform)
            if spec.default is not None and own is None:
                result = pc.coalesce(result, pa.scalar(spec.default))
        return result

    def _hashed(self, spec: FieldSpec) -> pa.Array:
        parts = []
        for kind, ref in spec.hash:
            if self._known(ref):
                text = self.column(ref)
                parts.append(normalize_phones(text) if kind == "phone" else pc.utf8_lower(text))
        key = pc.coalesce(*parts)
        distinct = pc.unique(key).drop_null()
        salt = self._salt() if len(distinct) else ""
        digests = [hashlib.sha256((salt + v).encode("utf-8")).hexdigest()[:16]
                   for v in distinct.to_pylist()]
        hashed = pa.array(["h_" + d for d in digests], type=pa.string())
        return pc.take(hashed, pc.index_in(key, value_set=distinct))

    def _number(self, ref: str, name: str, text: pa.Array | None = None) -> pa.Array:
        text = self.column(ref) if text is None else text
        conv = to_number(text)
        label = f"'{self.header(ref) or ref}' ({self.target(name)})"
        self._add(value_problem("load.bad_numbers", self.file, label, conv.bad, self.rows, text))
        return conv.values

    def _product(self, spec: FieldSpec) -> pa.Array:
        result = self._number(spec.multiply[0], spec.name)
        for ref in spec.multiply[1:]:
            result = pc.multiply(result, self._number(ref, spec.name))
        return result

    def _difference(self, spec: FieldSpec, base: pa.Array) -> pa.Array:
        if pa.types.is_string(base.type):
            base = self._number(self._own_header(spec) or spec.name, spec.name, base)
        for ref in spec.minus:
            base = pc.subtract(base, pc.fill_null(self._number(ref, spec.name), 0.0))
        return base

    def _add(self, problem: Problem | None, name: str | None = None,
             mask: np.ndarray | None = None) -> None:
        if problem is not None:
            self.problems.append(problem)
            if name is not None and mask is not None:
                self.failed[name] = self.failed.get(name, np.zeros(self.n, dtype=bool)) | mask

    # -- typed columns -------------------------------------------------------------------

    def typed(self, name: str, table: str, column: Column) -> pa.Array:
        """Return the field converted to ``column``'s kind, recording bad values."""
        key = (name, column.name)
        if key not in self._typed:
            values = self.values(name)
            convert = {"string": self._as_text, "int64": self._as_number,
                       "float64": self._as_number, "boolean": self._as_boolean,
                       "timestamp": self._as_time, "date": self._as_time}[column.kind]
            self._typed[key] = convert(name, values, column, f"{table}.{column.name}")
        return self._typed[key]

    def _as_text(self, name: str, values: pa.Array, column: Column, target: str) -> pa.Array:
        text = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
        label = self.label(name)
        key = column.name.endswith("_id") or column.name in ("variant", "coupon_code")
        mask, found = control_characters(text, key=key)
        self._add(value_problem("load.invisible_characters" if key else "load.control_characters",
                                self.file, label, mask, self.rows, target=target,
                                characters=", ".join(found)), name, mask)
        if column.name in ("phone", "email"):
            text = self._contact(name, text, column, label, target)
        if column.name == "phone":
            text = normalize_phones(text)
        if column.name.endswith("_id"):
            text = strip_decimal_zero(text)
            self._add(value_problem("load.excel_ids", self.file, label, mangled_ids(text),
                                    self.rows, text))
        if column.allowed is None and column.name != "variant":
            return text
        shown, unmatched, known = text, None, ""
        if name in self._source:  # translated by map/rules: canonical values pass through
            shown = self._source[name]
            passed = normalized_values(shown)
            canonical = pc.if_else(pc.is_in(passed, value_set=pa.array(column.allowed or ())),
                                   passed, pa.scalar(None, pa.string()))
            text = pc.coalesce(text, canonical)
            unmatched = _true(pc.and_(pc.is_valid(shown), pc.is_null(text)))
            spec = self.mapping.fields[name]
            if spec.map:
                known = tr("load.known_values", mapping=self.mapping.name,
                           known=quoted(k for k, _ in spec.map))
        elif column.allowed is not None:
            text = pc.utf8_lower(text)
        problem = check_allowed(self.file, label, target, column, text, self.rows, shown=shown,
                                unmatched=unmatched, known=known)
        self._add(problem, name, unmatched)
        return text

    def _contact(self, name: str, text: pa.Array, column: Column, label: str,
                 target: str) -> pa.Array:
        """Read placeholders ("-", "없음") as empty and report phones or emails that are not.

        The values are personal data: the message names rows, never the values.
        """
        placeholder = pc.is_in(pc.utf8_lower(text), value_set=pa.array(CONTACT_PLACEHOLDERS))
        text = pc.if_else(pc.fill_null(placeholder, False), pa.scalar(None, pa.string()), text)
        bad = bad_emails(text) if column.name == "email" else bad_phones(text)
        self._add(value_problem(f"load.bad_{column.name}s", self.file, label, bad, self.rows,
                                target=target), name, bad)
        return text

    def _as_number(self, name: str, values: pa.Array, column: Column, target: str) -> pa.Array:
        label = self.label(name)
        integer = column.kind == "int64"
        huge = np.zeros(len(values), dtype=bool)
        if pa.types.is_integer(values.type):
            out, text = values, pc.cast(values, pa.string())
        elif pa.types.is_floating(values.type):  # computed: sequence, multiply, minus
            out, text = values, pc.cast(values, pa.string())
        else:
            text = values if pa.types.is_string(values.type) else pc.cast(values, pa.string())
            conv = to_number(text)
            self._add(value_problem("load.bad_numbers", self.file, label, conv.bad, self.rows,
                                    text), name, conv.bad)
            out, huge = conv.values, conv.huge
        if not pa.types.is_integer(out.type):
            # 1e400 parses as infinity and a product of two big numbers overflows: refuse both
            out, computed = out_of_range(pc.cast(out, pa.float64()))
            huge = huge | computed
            self._add(value_problem("load.number_out_of_range", self.file, label, huge,
                                    self.rows, text, target=target,
                                    limit=f"{MAX_ABS_NUMBER:,.0f}"), name, huge)
            if integer:
                whole = pc.equal(out, pc.floor(out))
                inexact = _true(pc.invert(whole))
                self._add(value_problem("load.not_whole", self.file, label, inexact, self.rows,
                                        text, target=target), name, inexact)
                out = pc.if_else(whole, out, pa.scalar(None, pa.float64()))
        out = pc.cast(out, pa.int64() if integer else pa.float64())
        if column.money:
            out = round_money(out, self.digits)
        if column.nonnegative:
            negative = _true(pc.less(out, 0)) & ~self.exempt()
            self._add(value_problem("load.negative", self.file, label, negative, self.rows,
                                    text, target=target))
        return out

    def _as_boolean(self, name: str, values: pa.Array, column: Column, target: str) -> pa.Array:
        if name in self._source:  # values map/rules leave untranslated are read as they are
            values = pc.coalesce(pc.cast(values, pa.string()), self._source[name])
        conv = to_boolean(pc.cast(values, pa.string()))
        self._add(value_problem("load.bad_booleans", self.file, self.label(name), conv.bad,
                                self.rows, values, yes=", ".join(BOOLEAN_TRUE),
                                no=", ".join(BOOLEAN_FALSE)), name, conv.bad)
        return conv.values

    def _as_time(self, name: str, values: pa.Array, column: Column, target: str) -> pa.Array:
        spec = self.mapping.fields[name]
        text = pc.cast(values, pa.string())
        if column.kind == "date":
            conv = to_date(text, self.timezone, formats=spec.formats)
        else:
            conv = to_timestamp(text, self.timezone, formats=spec.formats, unit=spec.unit)
        label = self.label(name)
        self._add(value_problem("load.bad_dates", self.file, label, conv.bad, self.rows, text,
                                hide=column.pii), name, conv.bad)
        if self.dates is None:
            return conv.values
        earliest, latest = self.dates
        if column.kind == "date":
            # birth dates (the only dates of the contract) lie in the past century
            low = pa.scalar(date(1900, 1, 1), pa.date32())
            high = pa.scalar(latest.date(), pa.date32())
        else:
            low, high = (pa.scalar(t, type=conv.values.type) for t in (earliest, latest))
        outside = _true(pc.or_(pc.less(conv.values, low), pc.greater(conv.values, high)))
        shown = [_local_day(v.as_py(), self.timezone) for v in (low, high)]
        self._add(value_problem("load.date_out_of_range", self.file, label, outside, self.rows,
                                text, hide=column.pii, target=target,
                                earliest=shown[0], latest=shown[1]), name, outside)
        return pc.if_else(pa.array(outside), pa.scalar(None, conv.values.type), conv.values)

    def exempt(self) -> np.ndarray:
        """Return the mask of rows where negative numbers are allowed (``allow_negative``)."""
        if self._exempt is None:
            mask = np.zeros(self.n, dtype=bool)
            for name, allowed in self.mapping.allow_negative:
                values = pc.utf8_lower(pc.cast(self.values(name), pa.string()))
                mask |= _true(pc.is_in(values, value_set=pa.array([a.lower() for a in allowed])))
            self._exempt = mask
        return self._exempt


def _local_day(value: date | datetime, timezone: str) -> str:
    if isinstance(value, datetime):
        value = value.astimezone(ZoneInfo(timezone)).date()
    return value.isoformat()


def _true(values: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)
