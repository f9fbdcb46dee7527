r"""Import a CSV, XLSX or Parquet file into the store, all or nothing.

:func:`load_file` reads every source column as text (:mod:`~workbench.data.readers`), computes
the canonical columns with a mapping (:mod:`~workbench.data.mappings`; without one, the headers
must be the table's column names), types them (:mod:`~workbench.data.convert`) and checks
them (:mod:`~workbench.data.validate`). Every check runs before anything is written; all
tables of one load are written inside one :func:`~workbench.data.store.write_store` block, so a
failure leaves the store exactly as it was.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "products.csv").write_text('product_id,name,price\n007,Tea,"12,000원"\n')
>>> report = load_file("products", folder / "products.csv", store=folder / "shop.duckdb")
>>> report.rows_written, report.encoding
({'products': 1}, 'utf-8')
>>> print(report.summary())
Loaded products.csv: 1 row(s) read (mapping -, encoding utf-8, mode append); written: products 1.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.data.consent import consent_warnings, merge_customers, with_consent_at
from workbench.data.convert import round_money
from workbench.data.mappings import (
    MATCH_FIELDS,
    MATCHED_COLUMNS,
    Evaluator,
    Mapping,
    canonical_mapping,
    load_mapping,
)
from workbench.data.readers import RawTable, read_source
from workbench.data.schema import CANONICAL_TABLES, TABLES
from workbench.data.sends import match_report
from workbench.data.spark import is_spark, lake_path
from workbench.data.store import MODES, StoreWriter, store_path, write_store
from workbench.data.validate import (
    Problem,
    duplicate_key_problem,
    existing_key_problem,
    format_values,
    header_key,
    missing_columns_problem,
    quoted,
    raise_problems,
    unknown_columns_problem,
    value_problem,
    warn_future,
    warn_guests,
)
from workbench.errors import ParameterError, SchemaError
from workbench.i18n import tr
from workbench.settings import Settings, load_settings

__all__ = ["LoadReport", "load_file"]

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class LoadReport:
    """What a load did.

    Parameters
    ----------
    file
        The file loaded, as given.
    table
        The table named on the command line.
    mapping
        Mapping name, or ``None`` for a file with canonical headers.
    encoding
        Detected encoding of a text file (``utf-8-sig``, ``utf-8``, ``cp949``); ``None`` for
        XLSX and Parquet.
    rows_read
        Data rows in the file.
    rows_written
        Rows written per table.
    warnings
        Conditions worth a look that did not block the load.
    fingerprint
        SHA-256 of the file's bytes (also in ``load_log``).
    mode
        ``append``, ``replace`` or ``upsert``.
    """

    file: str
    table: str
    mapping: str | None
    encoding: str | None
    rows_read: int
    rows_written: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    fingerprint: str = ""
    mode: str = "append"

    def summary(self) -> str:
        """One paragraph for people, English or Korean, with the warnings as a list."""
        written = ", ".join(f"{t} {n:,}" for t, n in self.rows_written.items())
        details = tr("load.summary_details", mapping=self.mapping or "-",
                     encoding=self.encoding or "-", mode=self.mode)
        text = tr("load.summary", file=Path(self.file).name, rows=f"{self.rows_read:,}",
                  details=details, written=written or tr("load.none"))
        if self.warnings:
            text += "\n" + tr("load.summary_warnings", count=len(self.warnings))
            text += "".join(f"\n- {w}" for w in self.warnings)
        return text


@dataclass(slots=True)
class _Built:
    """One table ready to write: its rows and, for each, the row number in the file."""

    name: str
    table: pa.Table
    rows: np.ndarray
    existing: np.ndarray | None = None
    mixed: dict[str, int] = field(default_factory=dict)


def load_file(table: str, file: str | os.PathLike, *, mapping: str | os.PathLike | None = None,
              mode: str = "append", store: str | os.PathLike | None = None,
              settings: Settings | None = None,
              progress: Callable[[str, int, int], None] | None = None,
              campaign: str | None = None) -> LoadReport:
    """Load a file into a canonical table (and the tables its mapping derives), all or nothing.

    Parameters
    ----------
    table
        A canonical table: customers, orders, order_items, products, events, campaigns,
        assignments or messages. With a mapping, one of the tables the mapping fills; all of
        them are written.
    file
        CSV/TSV/TXT (UTF-8 with or without BOM, or CP949), XLSX or Parquet.
    mapping
        A shipped mapping name (``cafe24``, ``imweb``, ``cafe24_members``,
        ``imweb_members``, ``shopify``, ``online_retail``, ``cdnow``, ``send_report``) or the
        path of a mapping file. Without one, the headers must be the table's column names.
    mode
        ``append`` (keys already in the store are an error), ``replace`` (empty the written
        tables first) or ``upsert`` (replace rows with the same key). Stored customers are
        updated by a merge that keeps an opt-out (:mod:`~workbench.data.consent`), in append
        mode too for mappings with ``existing = "merge"`` (member exports).
    store
        The DuckDB store (default: the ``store`` setting).
    settings
        Settings (time zone, currency); default ``workbench.toml``.
    progress
        Called as ``progress(stage, done, total)`` with stages read, convert, check and write.
    campaign
        Send reports (a mapping with ``match = "export"``, e.g. ``send_report``): the export
        id (= campaign id) of rows whose report has no campaign column
        (:mod:`~workbench.data.sends`).

    Returns
    -------
    LoadReport
        Rows read and written, the encoding and the warnings.

    Raises
    ------
    SchemaError
        The file cannot be loaded; the message names the file, the column, example rows and
        the fix. Nothing was written.
    ParameterError
        Bad ``mode``, an invalid mapping file, or ``campaign`` with a mapping that does not
        match a send report.
    """
    settings = settings or load_settings()
    progress = progress or (lambda stage, done, total: None)
    path = Path(file)
    spec = _mapping_for(table, path, mapping, mode)
    report = spec is not None and any(t.match for t in spec.tables.values())
    if campaign is not None and not report:
        raise ParameterError(tr("load.campaign_without_report", campaign=campaign,
                                mapping=spec.name if spec else "-"))
    if report and mode == "replace":  # it would empty every campaign's messages
        raise ParameterError(tr("load.report_replace", file=path.name))
    read = spec.read if spec is not None else {}
    raw = read_source(path, delimiter=read.get("delimiter"), sheet=read.get("sheet"),
                      header_row=int(read.get("header_row", 1)), quote=read.get("quote", True),
                      progress=progress)
    if spec is None:
        _check_canonical_headers(raw, table, path.name)
        spec = canonical_mapping(table, raw.headers)
    location = store_path(store, settings)
    evaluator = Evaluator(raw, spec, file=path.name, timezone=spec.timezone or settings.timezone,
                          digits=_digits(spec, settings), salt=lambda: _salt(location),
                          dates=date_limits(settings))
    raise_problems(evaluator.check_sources())
    built = _build_all(evaluator, spec, progress)
    warnings = _warnings(built, spec, settings)
    match = None
    if any(t.match for t in spec.tables.values()):
        match = partial(_match_report, ev=evaluator, spec=spec, campaign=campaign)
    written, more = _write(built, spec, raw, path, mode, location, settings, progress, match)
    return LoadReport(file=str(path), table=table, mapping=None if spec.canonical else spec.name,
                      encoding=raw.encoding, rows_read=raw.num_rows, rows_written=written,
                      warnings=tuple(warnings + more), fingerprint=raw.fingerprint, mode=mode)


def date_limits(settings: Settings, now: datetime | None = None) -> tuple[datetime, datetime]:
    """Return the earliest and latest instants an imported timestamp may have.

    From midnight of ``earliest_date`` in the shop's zone to ``max_years_ahead`` years after
    ``now`` (default: the current time).

    >>> from workbench.settings import Settings
    >>> low, high = date_limits(Settings(), now=datetime(2026, 12, 7, tzinfo=UTC))
    >>> low.isoformat(), high.isoformat()
    ('1989-12-31T15:00:00+00:00', '2036-12-07T00:00:00+00:00')
    """
    now = now or datetime.now(UTC)
    earliest = datetime.combine(settings.earliest_date, datetime.min.time(), tzinfo=settings.tz)
    try:
        latest = now.replace(year=now.year + settings.max_years_ahead)
    except ValueError:  # 29 February
        latest = now.replace(year=now.year + settings.max_years_ahead, day=28)
    return earliest.astimezone(UTC), latest.astimezone(UTC)


def _mapping_for(table: str, path: Path, mapping: str | os.PathLike | None,
                 mode: str) -> Mapping | None:
    """Check the table and mode; return the mapping (``None``: canonical headers)."""
    if table not in CANONICAL_TABLES:
        raise SchemaError(tr("load.unknown_table", file=path.name, table=table,
                             tables=", ".join(CANONICAL_TABLES)))
    if mode not in MODES:
        raise ParameterError(tr("load.bad_mode", modes=quoted(MODES), mode=mode))
    spec = None if mapping is None else load_mapping(mapping, file=path.name)
    if spec is not None and table not in spec.tables:
        raise SchemaError(tr("load.mapping_table", file=path.name, mapping=spec.name,
                             table=table, tables=quoted(spec.tables)))
    return spec


def _digits(spec: Mapping, settings: Settings) -> int:
    if spec.currency:
        return settings.replace(currency=spec.currency).currency_digits
    return settings.currency_digits


def _salt(location: str) -> str:
    """Return the salt of hashed customer keys: ``$WORKBENCH_SALT``, else ``.salt`` by the store.

    The file is created with a random value on first use; it must stay with the store (the
    same customer must get the same key in every load) and never be committed. A Spark lake
    keeps it inside its folder (``<lake>/.salt``).
    """
    env = os.environ.get("WORKBENCH_SALT")
    if env:
        return env
    folder = lake_path(location) if is_spark(location) else Path(location).resolve().parent
    path = folder / ".salt"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(16) + "\n")
    return path.read_text(encoding="utf-8").strip()


def _check_canonical_headers(raw: RawTable, table: str, file: str) -> None:
    names = TABLES[table].names
    keys = {header_key(c) for c in names}
    present = {header_key(h) for h in raw.headers}
    unknown = [h for h in raw.headers if header_key(h) not in keys]
    missing = [c for c in TABLES[table].required if header_key(c) not in present]
    problems = []
    if missing:
        problem = missing_columns_problem(file, table, missing, raw.headers, unknown)
        problems.append(problem)
        # a header already suggested as a typo of a missing column needs no second message
        unknown = [u for u in unknown if f"'{u}'?" not in str(problem.fields["hint"])]
    if unknown:
        problems.append(unknown_columns_problem(file, table, unknown, names))
    raise_problems(problems)


# -- building the tables ---------------------------------------------------------------------


def _build_all(ev: Evaluator, spec: Mapping, progress: Progress) -> dict[str, _Built]:
    needed = [(t, c) for t in spec.tables for c in TABLES[t].columns if spec.field_for(t, c.name)]
    for i, (t, column) in enumerate(needed, start=1):
        ev.typed(spec.field_for(t, column.name), t, column)
        progress("convert", i, len(needed))
    built = {name: _build(ev, spec, name) for name in spec.tables}
    problems: list[Problem] = list(ev.problems)
    for item in built.values():
        problems += _table_problems(ev, spec, item)
    raise_problems(problems)
    return built


def _build(ev: Evaluator, spec: Mapping, name: str) -> _Built:
    table_spec = spec.tables[name]
    columns = {c.name: ev.typed(f, name, c) for c in TABLES[name].columns
               if (f := spec.field_for(name, c.name))}
    for column, source in table_spec.fill_sum:
        feeds = spec.feeds(source)
        src_table, src_column = feeds[0] if feeds else (name, column)
        columns[f"__sum_{column}"] = ev.typed(source, src_table, TABLES[src_table][src_column])
    data = pa.table({**columns, "__row__": pa.array(ev.rows)})
    key = table_spec.one_per
    if key is None:
        return _Built(name, _finish(data, name), ev.rows)
    if not table_spec.skip_empty:
        _require_keys(ev, spec, name, key, data)
    data = data.filter(pc.is_valid(data.column(key)))
    grouped, mixed = _group_first(data, key)
    for column, _ in table_spec.fill_sum:
        total = round_money(grouped.column(f"__sum_{column}"), ev.digits)
        current = grouped.column(column) if column in grouped.column_names else None
        grouped = _set(grouped, column, total if current is None else pc.coalesce(current, total))
    rows = grouped.column("__row__").to_numpy()
    return _Built(name, _finish(grouped, name), rows, mixed=mixed)


def _group_first(data: pa.Table, key: str) -> tuple[pa.Table, dict[str, int]]:
    """One row per key in order of first appearance: each column's first non-empty value.

    ``__sum_*`` columns are summed instead, ``__row__`` takes the first row. Also counts, per
    column, the keys whose first and last non-empty values differ (rows that disagree).
    Vectorised with numpy (``ufunc.at``): Arrow's ordered "first" aggregation is
    single-threaded and several times slower on a million rows.
    """
    encoded = pc.dictionary_encode(data.column(key).combine_chunks())
    codes = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    groups, n = len(encoded.dictionary), data.num_rows
    out: dict[str, pa.Array] = {key: encoded.dictionary}
    mixed: dict[str, int] = {}
    for name in data.column_names:
        if name == key:
            continue
        values = data.column(name).combine_chunks()
        valid = np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        if name.startswith("__sum_"):
            weights = values.fill_null(0).to_numpy(zero_copy_only=False)
            total = np.bincount(codes, weights=weights, minlength=groups)
            seen = np.bincount(codes[valid], minlength=groups) > 0
            out[name] = pa.array(total, mask=~seen)
            continue
        first = np.full(groups, n, dtype=np.int64)
        np.minimum.at(first, codes[valid], np.flatnonzero(valid))
        found = first < n
        out[name] = values.take(pa.array(np.where(found, first, 0), mask=~found))
        if not name.startswith("__"):
            last = np.full(groups, 0, dtype=np.int64)
            np.maximum.at(last, codes[valid], np.flatnonzero(valid))
            differs = pc.not_equal(out[name], values.take(pa.array(last)))
            if count := int(pc.sum(differs).as_py() or 0):
                mixed[name] = count
    return pa.table(out), mixed


def _set(table: pa.Table, name: str, values: pa.ChunkedArray | pa.Array) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


def _finish(data: pa.Table, name: str) -> pa.Table:
    """Keep the table's columns, in storage order."""
    return data.select([c for c in TABLES[name].names if c in data.column_names])


def _require_keys(ev: Evaluator, spec: Mapping, name: str, key: str, data: pa.Table) -> None:
    empty = np.asarray(data.column(key).is_null().to_numpy(zero_copy_only=False), dtype=bool)
    field_name = spec.field_for(name, key)
    problem = value_problem("load.required_empty", ev.file, ev.label(field_name), empty,
                            ev.rows, target=f"{name}.{key}")
    if problem is not None:
        ev.problems.append(problem)


def _table_problems(ev: Evaluator, spec: Mapping, item: _Built) -> list[Problem]:
    problems: list[Problem | None] = []
    schema = TABLES[item.name]
    key = spec.tables[item.name].one_per
    matched = MATCHED_COLUMNS if spec.tables[item.name].match else ()
    for column in schema.required:
        if column == key or column in matched or column not in item.table.column_names:
            continue
        empty = np.asarray(item.table.column(column).is_null().to_numpy(zero_copy_only=False),
                           dtype=bool)
        source = spec.field_for(item.name, column)
        failed = ev.failed.get(source) if source else None
        if failed is not None:  # rows already reported as bad values are not empty cells
            if key is not None:
                continue
            empty &= ~failed
        label = ev.label(source) if source else f"'{column}'"
        problems.append(value_problem("load.required_empty", ev.file, label, empty, item.rows,
                                      target=f"{item.name}.{column}"))
    if key is None and not matched and all(k in item.table.column_names for k in schema.key):
        problems.append(duplicate_key_problem(ev.file, item.name, item.table, schema.key,
                                              item.rows))
    return [p for p in problems if p is not None]


# -- warnings and writing --------------------------------------------------------------------


def _warnings(built: dict[str, _Built], spec: Mapping, settings: Settings) -> list[str]:
    warnings = []
    if spec.currency and spec.currency.upper() != settings.currency.upper():
        warnings.append(tr("load.warn_currency", mapping=spec.name, currency=spec.currency,
                           store_currency=settings.currency))
    if "orders" in built and (text := warn_guests(built["orders"].table)):
        warnings.append(text)
    now = datetime.now(UTC)
    for name, item in built.items():
        warnings += warn_future(name, item.table, item.rows, now, settings.timezone)
        if item.mixed:
            warnings.append(tr("load.warn_mixed", table=name, group=spec.tables[name].one_per,
                               columns=", ".join(f"'{c}' ({n:,} {spec.tables[name].one_per})"
                                                 for c, n in item.mixed.items())))
    return warnings


def _write(built: dict[str, _Built], spec: Mapping, raw: RawTable, path: Path, mode: str,
           location: str, settings: Settings, progress: Progress,
           match: Callable[[StoreWriter, dict[str, _Built]], list[str]] | None = None,
           ) -> tuple[dict[str, int], list[str]]:
    written: dict[str, int] = {}
    with write_store(location, settings=settings) as writer:
        progress("check", 0, len(built))
        matched = match(writer, built) if match is not None else []
        problems = []
        for name, item in built.items():
            item.existing = _existing(writer, name, item.table)
            if mode == "append" and spec.tables[name].existing not in ("keep", "merge"):
                problems.append(existing_key_problem(path.name, name, item.table,
                                                     TABLES[name].key, item.rows, item.existing))
        raise_problems([p for p in problems if p is not None])
        warnings = matched + _store_warnings(writer, built, mode)
        progress("check", len(built), len(built))
        for i, (name, item) in enumerate(built.items(), start=1):
            if name == "customers":
                warnings += _merge_customers(writer, spec, item, mode)
            written[name], kept = _write_table(writer, spec, item, mode)
            if kept:
                warnings.append(tr("load.warn_kept", count=f"{kept:,}", table=name))
            writer.log_load(name, source=str(path), mapping=None if spec.canonical else spec.name,
                            mode=mode, rows_in=raw.num_rows, rows_written=written[name],
                            fingerprint=raw.fingerprint)
            progress("write", i, len(built))
    return written, warnings


def _match_report(writer: StoreWriter, built: dict[str, _Built], *, ev: Evaluator,
                  spec: Mapping, campaign: str | None) -> list[str]:
    """Replace a send report's rows by those matched to their export's members (in place)."""
    warnings: list[str] = []
    for name, item in list(built.items()):
        if not spec.tables[name].match:
            continue
        extra = {f: ev.values(f) if f in spec.fields else None for f in MATCH_FIELDS}
        found = match_report(writer.con, item.table, item.rows, phones=extra["phone"],
                             opted_out=extra["opted_out"], file=ev.file, campaign=campaign)
        built[name] = _Built(name, _finish(found.table, name), found.rows)
        warnings += found.warnings
    return warnings


def _write_table(writer: StoreWriter, spec: Mapping, item: _Built, mode: str) -> tuple[int, int]:
    table_spec = spec.tables[item.name]
    data, kept = item.table, 0
    if mode != "replace" and table_spec.existing == "keep" and item.existing is not None:
        kept = int(item.existing.sum())
        data = data.filter(pa.array(~item.existing))
        return writer.write(item.name, data, mode="append"), kept
    if mode == "upsert" and table_spec.replace_children:
        parent = table_spec.replace_children
        writer.con.register("_wb_parents", pa.table({parent: pc.unique(data.column(parent))}))
        try:
            writer.con.execute(f'DELETE FROM "{item.name}" WHERE "{parent}" IN '
                               f'(SELECT "{parent}" FROM _wb_parents)')
        finally:
            writer.con.unregister("_wb_parents")
    if mode == "append" and table_spec.existing == "merge":
        mode = "upsert"  # rows already stored were merged with them by _merge_customers
    return writer.write(item.name, data, mode=mode), kept


def _merge_customers(writer: StoreWriter, spec: Mapping, item: _Built, mode: str) -> list[str]:
    """Merge the file's customers into the stored ones (:mod:`~workbench.data.consent`).

    Runs for ``--mode upsert`` and for mappings with ``existing = "merge"`` (member exports,
    reloaded weekly without choosing a mode); replaces ``item.table`` by every column of the
    merged rows and returns the warnings about kept opt-outs.
    """
    item.table = with_consent_at(item.table)
    policy = spec.tables[item.name].existing
    if (mode == "replace" or policy == "keep" or (mode == "append" and policy != "merge")
            or item.existing is None or not item.existing.any()):
        return []
    keys = item.table.column("customer_id")
    probe = pa.table({"customer_id": keys, "__i": pa.array(np.arange(item.table.num_rows))})
    writer.con.register("_wb_probe", probe)
    try:
        stored = writer.con.execute(
            'SELECT t.* FROM _wb_probe p LEFT JOIN customers t ON t.customer_id = p.customer_id '
            'ORDER BY p.__i').fetch_arrow_table()
    finally:
        writer.con.unregister("_wb_probe")
    merged = merge_customers(stored, item.table, found=item.existing)
    item.table = merged.table
    return consent_warnings(merged, mode=mode)


def _existing(writer: StoreWriter, name: str, table: pa.Table) -> np.ndarray:
    """Return the mask of rows whose key is already in the store's table."""
    key = TABLES[name].key
    mask = np.zeros(table.num_rows, dtype=bool)
    if writer.count(name) == 0 or not all(k in table.column_names for k in key):
        return mask
    probe = table.select(list(key)).append_column("__i", pa.array(np.arange(table.num_rows)))
    cond = " AND ".join(f't."{k}" IS NOT DISTINCT FROM p."{k}"' for k in key)
    writer.con.register("_wb_probe", probe)
    try:
        hits = writer.con.execute(
            f'SELECT p.__i FROM _wb_probe p WHERE EXISTS (SELECT 1 FROM "{name}" t WHERE {cond})'
        ).fetchnumpy()["__i"]
    finally:
        writer.con.unregister("_wb_probe")
    mask[np.asarray(hits, dtype=np.int64)] = True
    return mask


#: References checked after a load: (table, its reference column, the table referred to,
#: the warning). The warning's count placeholder is named after the table referred to.
_REFERENCES = (("orders", "customer_id", "customers", "load.warn_unknown_customers"),
               ("order_items", "order_id", "orders", "load.warn_orphan_items"))


def _store_warnings(writer: StoreWriter, built: dict[str, _Built], mode: str) -> list[str]:
    warnings = []
    for child, column, parent, message in _REFERENCES:
        if child not in built or column not in built[child].table.column_names:
            continue
        loaded = built[parent].table.column(column) if parent in built else None
        replaced = mode == "replace" and parent in built
        count, refs = _unknown(writer, built[child].table.column(column), parent, column,
                               loaded, replaced)
        if refs:
            warnings.append(tr(message, count=f"{count:,}", **{parent: f"{len(refs):,}"},
                               examples=format_values(refs[:3])))
    return warnings


def _unknown(writer: StoreWriter, refs: pa.ChunkedArray, table: str, column: str,
             loaded: pa.ChunkedArray | None, replaced: bool) -> tuple[int, list[str]]:
    """Count rows whose reference is neither loaded now nor stored; list those references."""
    distinct = pc.unique(refs).drop_null()
    if loaded is not None:
        distinct = distinct.filter(pc.invert(pc.is_in(distinct, value_set=loaded)))
    if len(distinct) and not replaced and writer.count(table):
        writer.con.register("_wb_refs", pa.table({"ref": distinct}))
        try:
            rest = writer.con.execute(
                f'SELECT ref FROM _wb_refs WHERE ref NOT IN (SELECT "{column}" FROM "{table}" '
                f'WHERE "{column}" IS NOT NULL)').fetchall()
        finally:
            writer.con.unregister("_wb_refs")
        distinct = pa.array([r[0] for r in rest], type=pa.string())
    if not len(distinct):
        return 0, []
    rows = int(pc.sum(pc.is_in(refs, value_set=distinct)).as_py())
    return rows, sorted(distinct.to_pylist())
