r"""Merge a customers file into stored customers without ever losing an opt-out.

Member exports (``cafe24_members``, ``imweb_members``) are reloaded every week, and each load
brings the platform's current consent flags. Korean ad law (정보통신망법 Art. 50, PRODUCT_NOTES
2.1) makes an opt-out final until the customer consents again, so a stale or undated "Y" must
not undo a stored "N". Per channel (SMS, email, push, and night ads), with the stored flag and
date beside the file's:

- the file says nothing for the channel (empty flag): the stored flag and date stay;
- nothing is stored yet: the file's flag and date are taken;
- both are dated: the later statement wins; on the same date an opt-out wins; a statement
  older than the stored one is ignored;
- otherwise (either is undated): the file's flag is taken, **except** that an opt-in never
  replaces a stored opt-out. Only an opt-in dated strictly later than the stored opt-out's
  date does. Such kept opt-outs are counted and reported as warnings.

The stored date of a channel is its own ``*_consent_at``; a row that has none of the channel
dates (stores written before they existed) uses its ``consent_at`` instead, and so does a file
without channel date columns (a canonical file with ``consent_at``). Night consent has
no date of its own and is compared on ``consent_at``. Every other column takes the file's value
where the file has one and keeps the stored value otherwise, so columns the file does not fill
(``kakao_friend`` from another source, say) survive a reload. ``consent_at`` becomes the latest
of the channel dates.

Examples
--------
>>> from datetime import datetime, UTC
>>> stored = pa.table({"customer_id": ["C1"], "sms_opt_in": [False],
...                    "sms_consent_at": pa.array([datetime(2024, 3, 1, tzinfo=UTC)])})
>>> undated_yes = pa.table({"customer_id": ["C1"], "sms_opt_in": [True]})
>>> merged = merge_customers(stored, undated_yes, found=np.array([True]))
>>> merged.table.column("sms_opt_in").to_pylist(), merged.kept_undated
([False], {'sms': 1})
>>> later_yes = undated_yes.append_column(
...     "sms_consent_at", pa.array([datetime(2024, 5, 1, tzinfo=UTC)]))
>>> merge_customers(stored, later_yes, found=np.array([True])).table.column(
...     "sms_opt_in").to_pylist()
[True]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from workbench.data.schema import TABLES
from workbench.i18n import tr

__all__ = ["CHANNELS", "Merged", "consent_warnings", "merge_customers", "with_consent_at"]

#: Consent channels: (name, flag column, date column; ``None``: dated by ``consent_at``).
CHANNELS = (("sms", "sms_opt_in", "sms_consent_at"),
            ("email", "email_opt_in", "email_consent_at"),
            ("push", "push_opt_in", "push_consent_at"),
            ("night", "night_opt_in", None))
_DATES = tuple(date for _, _, date in CHANNELS if date)
_UTC = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True, slots=True)
class Merged:
    """The merged customers rows and what the merge kept from the store.

    Parameters
    ----------
    table
        Every customers column, one row per row of the file's table, in its order.
    kept_undated
        Per channel: stored opt-outs kept against an opt-in without a date.
    kept_stale
        Per channel: stored opt-outs kept against an opt-in dated no later than them.
    ignored_older
        Per channel: file statements older than the stored one (ignored).
    updated
        Rows of the file that were already stored.
    """

    table: pa.Table
    kept_undated: dict[str, int] = field(default_factory=dict)
    kept_stale: dict[str, int] = field(default_factory=dict)
    ignored_older: dict[str, int] = field(default_factory=dict)
    updated: int = 0


def with_consent_at(table: pa.Table) -> pa.Table:
    """Set ``consent_at`` to the latest channel date where the table has channel dates.

    Rows without any channel date keep their ``consent_at``; a table without channel date
    columns is returned unchanged.

    >>> from datetime import datetime, UTC
    >>> t = pa.table({"sms_consent_at": pa.array([datetime(2024, 1, 1, tzinfo=UTC), None]),
    ...               "email_consent_at": pa.array([datetime(2024, 2, 1, tzinfo=UTC), None])})
    >>> [v and v.date().isoformat() for v in with_consent_at(t).column("consent_at").to_pylist()]
    ['2024-02-01', None]
    """
    dates = [table.column(c) for c in _DATES if c in table.column_names]
    if not dates:
        return table
    latest = _latest(dates)
    if "consent_at" in table.column_names:
        latest = pc.coalesce(latest, table.column("consent_at").cast(_UTC))
    return _set(table, "consent_at", latest)


def merge_customers(stored: pa.Table, loaded: pa.Table, *, found: np.ndarray) -> Merged:
    """Merge the file's customers rows into the stored ones (see the module docstring).

    Parameters
    ----------
    stored
        Stored customers rows aligned with ``loaded`` (row ``i`` is the stored row of
        ``loaded``'s row ``i``; anything where ``found`` is false).
    loaded
        The file's rows: ``customer_id`` and the columns the file fills.
    found
        Rows of ``loaded`` whose customer is stored.

    Returns
    -------
    Merged
        The rows to write (every customers column) and the counts of kept opt-outs.
    """
    n = loaded.num_rows
    names = TABLES["customers"].names
    found_arr = pa.array(np.asarray(found, dtype=bool))
    stored = stored.select([c for c in names if c in stored.column_names])
    out: dict[str, pa.Array] = {}
    for name in names:
        new = _column(loaded, name, n)
        old = _column(stored, name, n, like=new)
        if new is None and old is None:
            continue
        if name in loaded.column_names and old is not None:
            out[name] = pc.if_else(found_arr, pc.coalesce(new, old.cast(new.type)), new)
        elif new is not None:
            out[name] = new
        else:
            out[name] = pc.if_else(found_arr, old, pa.nulls(n, old.type))
    counts: dict[str, dict[str, int]] = {"kept_undated": {}, "kept_stale": {},
                                         "ignored_older": {}}
    fallback = (_fallback_date(stored, n), _file_date(loaded))
    for channel, flag, date in CHANNELS:
        if flag in loaded.column_names:
            _merge_channel(counts, out, stored, loaded, found, channel, flag, date, fallback)
    dates = [out[d] for d in _DATES if d in out]
    if dates:
        # the latest channel date; for stored rows never earlier than the stored consent_at
        # (the file's own consent_at may come from a statement the merge ignored)
        for old in (_column(stored, "consent_at", n), fallback[1]):
            if old is not None:
                dates.append(pc.if_else(found_arr, old.cast(_UTC), pa.nulls(n, _UTC)))
        latest, file_at = _latest(dates), out.get("consent_at")
        out["consent_at"] = latest if file_at is None else pc.if_else(
            found_arr, latest, pc.coalesce(latest, file_at.cast(_UTC)))
    table = pa.table(out)
    return Merged(table=table.select([c for c in names if c in table.column_names]),
                  updated=int(found.sum()), **counts)


def _merge_channel(counts: dict[str, dict[str, int]], out: dict[str, pa.Array],
                   stored: pa.Table, loaded: pa.Table,
                   found: np.ndarray, channel: str, flag: str, date: str | None,
                   fallback: tuple[pa.Array | None, pa.Array | None]) -> None:
    """Apply the consent rule of one channel to ``out`` in place; count what was kept.

    ``fallback`` holds the ``consent_at`` standing in for the channel date of rows without any
    channel date: the stored one (:func:`_fallback_date`) and the file's (:func:`_file_date`).
    """
    n = loaded.num_rows
    ts = _UTC
    date_col = date or "consent_at"
    new_opt = loaded.column(flag).combine_chunks()
    old_opt = _column(stored, flag, n, like=new_opt)
    if old_opt is None:
        return
    own_at, old_at = (pa.nulls(n, ts) if (c := _column(t, date_col, n)) is None else c.cast(ts)
                      for t in (loaded, stored))
    old_fallback, new_fallback = fallback if date is not None else (None, None)
    old_date = old_at if old_fallback is None else pc.coalesce(old_at, old_fallback)
    new_at = own_at if new_fallback is None else pc.coalesce(own_at, new_fallback)
    has_new = found & _mask(pc.is_valid(new_opt))
    has_old = has_new & _mask(pc.is_valid(old_opt))
    dated = _mask(pc.is_valid(new_at)) & _mask(pc.is_valid(old_date))
    newer = has_old & dated & _mask(pc.greater(new_at, old_date))
    older = has_old & dated & _mask(pc.less(new_at, old_date))
    same = has_old & dated & _mask(pc.equal(new_at, old_date))
    # a stored opt-out met by an opt-in that is not strictly later: the opt-out stays
    kept = has_old & ~_mask(pc.fill_null(old_opt, True)) & _mask(new_opt) & ~newer
    keep_old = ~has_new | older | kept
    opt = pc.if_else(pa.array(keep_old), old_opt, pc.coalesce(new_opt, old_opt))
    opt = pc.if_else(pa.array(same & ~kept), pc.and_(old_opt, new_opt), opt)
    out[flag] = pc.if_else(pa.array(found), opt, new_opt)
    at = pc.if_else(pa.array(keep_old), old_at, pc.coalesce(new_at, old_at))
    if date is not None and (date in loaded.column_names or date in stored.column_names):
        out[date] = pc.if_else(pa.array(found), at, own_at)
    undated = ~_mask(pc.is_valid(new_at))
    for key, mask in (("kept_undated", kept & undated), ("kept_stale", kept & ~undated),
                      ("ignored_older", older & ~kept)):
        if count := int(mask.sum()):
            counts[key][channel] = count


def _fallback_date(stored: pa.Table, n: int) -> pa.Array | None:
    """Return the stored ``consent_at`` where a row has no channel date at all (old stores)."""
    if "consent_at" not in stored.column_names:
        return None
    ts = _UTC
    none = np.ones(n, dtype=bool)
    for date in _DATES:
        if date in stored.column_names:
            none &= ~_mask(pc.is_valid(stored.column(date)))
    consent = stored.column("consent_at").combine_chunks().cast(ts)
    return pc.if_else(pa.array(none), consent, pa.nulls(n, ts))


def _latest(dates: list[pa.Array | pa.ChunkedArray]) -> pa.Array:
    """Return the element-wise latest instant, skipping nulls (UTC)."""
    # Arrow has no element-wise max of zoned timestamps: compare the microseconds
    micros = [d.cast(_UTC).cast(pa.int64()) for d in dates]
    return pc.max_element_wise(*micros, skip_nulls=True).cast(_UTC)


def _file_date(loaded: pa.Table) -> pa.Array | None:
    """Return the file's ``consent_at`` if the file has it and no channel date column."""
    if "consent_at" not in loaded.column_names or any(d in loaded.column_names for d in _DATES):
        return None
    return loaded.column("consent_at").combine_chunks().cast(_UTC)


def _column(table: pa.Table, name: str, n: int, like: pa.Array | None = None) -> pa.Array | None:
    if name not in table.column_names:
        return None
    values = table.column(name).combine_chunks()
    if like is not None and values.type != like.type and not pa.types.is_null(values.type):
        values = values.cast(like.type)
    return values


def _mask(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def _set(table: pa.Table, name: str, values: pa.Array | pa.ChunkedArray) -> pa.Table:
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


def consent_warnings(merged: Merged, *, mode: str) -> list[str]:
    """Return the load warnings of a merge: kept opt-outs, ignored older values, updates."""
    warnings = []
    for key, counts in (("consent.kept_undated", merged.kept_undated),
                        ("consent.kept_stale", merged.kept_stale),
                        ("consent.ignored_older", merged.ignored_older)):
        for channel, _, _ in CHANNELS:
            if counts.get(channel):
                warnings.append(tr(key, count=f"{counts[channel]:,}",
                                   channel=tr(f"consent.channel_{channel}")))
    if mode == "append" and merged.updated:
        warnings.append(tr("consent.updated", count=f"{merged.updated:,}"))
    return warnings
