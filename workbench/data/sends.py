"""Match a sending service's result report to the export it came from.

A send report (발송 결과) lists one row per recipient: the phone number the message went to
(the export file held only that), sometimes the shop's customer key, and what happened (sent
or failed, opened, clicked, 수신거부). A mapping with ``[tables.messages] match = "export"``
(the shipped ``send_report``) loads it into ``messages`` through :func:`match_report`:

1. each row's campaign is its own ``campaign_id`` cell (services that echo the export id), else
   the ``--campaign`` given to the load; an export's id is its campaign id;
2. the campaign's members are the customers its export covered (``export_members``; for
   exports logged before that table existed, the campaign's ``assignments``), without the
   holdout, who got nothing;
3. a row is matched by its customer key when it has one, else by its phone, normalised like
   ``customers.phone`` (digits; a leading 0 that Excel dropped is put back) and looked up among
   the members' phones only, so a number shared with a customer outside the export cannot
   match; a phone two members share matches neither;
4. rows that match no member are left out and reported by row number (never by phone); when
   no row matches, the load fails;
5. ``variant``, ``channel`` and an empty ``sent_at`` come from the member's export row; a row
   marked as an opt-out (``opted_out`` field, e.g. 수신거부) without its own
   ``unsubscribed_at`` gets the send time, so the consent rules
   (:func:`workbench.audience.eligibility`) see the opt-out at the next export.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.data.convert import normalize_phones, to_boolean
from workbench.data.validate import Problem, format_rows, format_values, raise_problems
from workbench.errors import SchemaError
from workbench.i18n import tr

__all__ = ["Matched", "match_report"]

@dataclass(frozen=True, slots=True)
class Matched:
    """The report's rows that matched, their file row numbers, and what was left out."""

    table: pa.Table
    rows: np.ndarray
    unmatched_rows: np.ndarray
    warnings: tuple[str, ...] = ()


def match_report(con: duckdb.DuckDBPyConnection, table: pa.Table, rows: np.ndarray, *,
                 phones: pa.Array | None, opted_out: pa.Array | None, file: str,
                 campaign: str | None) -> Matched:
    """Match a send report's rows to the members of their export and fill the message rows.

    Parameters
    ----------
    con
        The store (a connection of :class:`~workbench.data.store.StoreWriter`).
    table
        The report's ``messages`` columns, one row per report row (``customer_id`` and
        ``campaign_id`` may be missing or empty).
    rows
        The file's row number of each row (header = row 1).
    phones
        The recipient's phone per row, as in the file (``None``: no phone column).
    opted_out
        Per row, whether the recipient refused (수신거부) as yes/no text (``None``: no column).
    file
        The file's name, for messages.
    campaign
        The export id for rows without their own campaign id (``--campaign``).

    Returns
    -------
    Matched

    Raises
    ------
    SchemaError
        Rows without a campaign, an unknown campaign, no row matching, two rows for one
        customer, or rows without a send time.
    """
    n = table.num_rows
    campaigns = _campaigns(table, rows, file, campaign)
    wanted = sorted(set(campaigns))
    exports = _exports(con, wanted, file)
    members = _members(con, wanted)
    report = pd.DataFrame({
        "pos": np.arange(n), "campaign_id": campaigns,
        "customer_id": _column(table, "customer_id", n),
        "phone": (normalize_phones(phones).to_pylist() if phones is not None else [None] * n)})
    found = _lookup(report, members)
    hit = found["pos"].to_numpy(dtype=np.int64)
    missed = np.setdiff1d(np.arange(n), hit)
    if not len(hit):
        raise SchemaError(tr("load.report_none_matched", file=file, rows=f"{n:,}",
                             campaigns=format_values(wanted)))
    out = _fill(table.take(pa.array(hit)), found, exports, opted_out, hit)
    _check_matched(out, rows[hit], file)
    warnings = []
    if len(missed):
        warnings.append(tr("load.report_unmatched", file=file, count=f"{len(missed):,}",
                           total=f"{n:,}", rows=format_rows(rows[missed]),
                           campaigns=format_values(wanted)))
    return Matched(out, rows[hit], rows[missed], tuple(warnings))


def _column(table: pa.Table, name: str, n: int) -> list:
    if name not in table.column_names:
        return [None] * n
    return table.column(name).to_pylist()


def _campaigns(table: pa.Table, rows: np.ndarray, file: str, campaign: str | None) -> list[str]:
    own = _column(table, "campaign_id", table.num_rows)
    filled = [c if c is not None else campaign for c in own]
    empty = np.array([c is None for c in filled], dtype=bool)
    if empty.any():
        raise SchemaError(tr("load.report_no_campaign", file=file, count=f"{int(empty.sum()):,}",
                             rows=format_rows(rows[empty])))
    return filled


def _fetch(con: duckdb.DuckDBPyConnection, sql: str, wanted: list[str]) -> pd.DataFrame:
    con.register("_wb_campaigns", pa.table({"campaign_id": pa.array(wanted, pa.string())}))
    try:
        return con.execute(sql).to_arrow_table().to_pandas()
    finally:
        con.unregister("_wb_campaigns")


def _exports(con: duckdb.DuckDBPyConnection, wanted: list[str], file: str) -> pd.DataFrame:
    """Return each campaign's channel and send time (export log, else campaigns)."""
    known = _fetch(con, """
        SELECT w.campaign_id, coalesce(e.channel, c.channel) AS export_channel,
               coalesce(e.send_at, c.started_at) AS export_send_at,
               e.export_id IS NOT NULL OR c.campaign_id IS NOT NULL AS known
        FROM _wb_campaigns w
        LEFT JOIN audience_exports e ON e.export_id = w.campaign_id
        LEFT JOIN campaigns c ON c.campaign_id = w.campaign_id""", wanted)
    unknown = known.loc[~known["known"].astype(bool), "campaign_id"].tolist()
    if unknown:
        recent = [r[0] for r in con.execute(
            "SELECT export_id FROM audience_exports ORDER BY exported_at DESC LIMIT 3").fetchall()]
        raise SchemaError(tr("load.report_unknown_campaign", file=file,
                             campaigns=format_values(unknown),
                             recent=format_values(recent) if recent else tr("load.none")))
    return known.drop(columns="known")


def _members(con: duckdb.DuckDBPyConnection, wanted: list[str]) -> pd.DataFrame:
    """Return the customers each campaign's export sent to, with their phone and arm."""
    members = _fetch(con, """
        WITH listed AS (
            SELECT export_id AS campaign_id, customer_id, variant, channel, send_at
            FROM export_members WHERE export_id IN (SELECT campaign_id FROM _wb_campaigns)),
        assigned AS (
            SELECT campaign_id, customer_id, variant, NULL::VARCHAR AS channel,
                   NULL::TIMESTAMPTZ AS send_at
            FROM assignments
            WHERE campaign_id IN (SELECT campaign_id FROM _wb_campaigns)
              AND campaign_id NOT IN (SELECT campaign_id FROM listed))
        SELECT m.*, c.phone FROM (SELECT * FROM listed UNION ALL SELECT * FROM assigned) m
        LEFT JOIN customers c USING (customer_id)
        WHERE m.variant IS DISTINCT FROM 'holdout'""", wanted)
    # Stored phones were normalised on load, but a store written by code (the sample, a
    # notebook) may hold "010-1234-5678": normalise both sides the same way.
    members["phone"] = normalize_phones(pa.array(members["phone"], pa.string())).to_pylist()
    return members.rename(columns={"variant": "member_variant", "channel": "member_channel",
                                   "send_at": "member_send_at"})


def _lookup(report: pd.DataFrame, members: pd.DataFrame) -> pd.DataFrame:
    """Return the matched report positions with the member's customer id and export row."""
    info = ["member_variant", "member_channel", "member_send_at"]
    by_key = report[report["customer_id"].notna()].merge(
        members[["campaign_id", "customer_id", *info]], on=["campaign_id", "customer_id"])
    phoned = members[members["phone"].notna()]
    shared = phoned.duplicated(["campaign_id", "phone"], keep=False)
    by_phone = report[report["customer_id"].isna() & report["phone"].notna()].drop(
        columns="customer_id").merge(phoned.loc[~shared, ["campaign_id", "phone", "customer_id",
                                                          *info]],
                                     on=["campaign_id", "phone"])
    found = pd.concat([by_key, by_phone], ignore_index=True)
    return found.sort_values("pos", kind="stable").reset_index(drop=True)


def _fill(data: pa.Table, found: pd.DataFrame, exports: pd.DataFrame,
          opted_out: pa.Array | None, hit: np.ndarray) -> pa.Table:
    export = found[["campaign_id"]].merge(exports, on="campaign_id", how="left")
    n = data.num_rows

    def own(name: str, kind: pa.DataType) -> pa.Array:
        if name in data.column_names:
            return data.column(name).combine_chunks().cast(kind)
        return pa.nulls(n, kind)

    ts = pa.timestamp("us", tz="UTC")
    sent_at = pc.coalesce(own("sent_at", ts), _times(found["member_send_at"]),
                          _times(export["export_send_at"]))
    failure = own("failure_reason", pa.string())
    status = pc.coalesce(own("status", pa.string()), pc.if_else(
        pc.is_valid(failure), pa.scalar("failed"), pa.scalar("sent")))
    unsubscribed = own("unsubscribed_at", ts)
    if opted_out is not None:
        flag = to_boolean(pc.take(opted_out, pa.array(hit))).values
        unsubscribed = pc.coalesce(unsubscribed, pc.if_else(pc.fill_null(flag, False), sent_at,
                                                            pa.scalar(None, ts)))
    columns = {
        "campaign_id": pa.array(found["campaign_id"], pa.string()),
        "customer_id": pa.array(found["customer_id"], pa.string()),
        "variant": pc.coalesce(own("variant", pa.string()),
                               _text(found["member_variant"])),
        "sent_at": sent_at,
        "opened_at": own("opened_at", ts), "clicked_at": own("clicked_at", ts),
        "unsubscribed_at": unsubscribed,
        "channel": pc.coalesce(own("channel", pa.string()), _text(found["member_channel"]),
                               _text(export["export_channel"])),
        "status": status, "failure_reason": failure}
    return pa.table(columns)


def _text(values: pd.Series) -> pa.Array:
    return pa.array(values.astype(object).where(values.notna(), None).tolist(), pa.string())


def _times(values: pd.Series) -> pa.Array:
    stamps = pd.to_datetime(values, utc=True)
    return pa.array(stamps, type=pa.timestamp("us", tz="UTC"), from_pandas=True)


def _check_matched(table: pa.Table, rows: np.ndarray, file: str) -> None:
    problems = []
    no_time = np.asarray(table.column("sent_at").is_null().to_numpy(zero_copy_only=False),
                         dtype=bool)
    if no_time.any():
        problems.append(Problem("load.report_no_sent_at", {
            "file": file, "count": f"{int(no_time.sum()):,}", "rows": format_rows(rows[no_time])}))
    keys = pd.DataFrame({"c": table.column("campaign_id").to_pylist(),
                         "k": table.column("customer_id").to_pylist()})
    twice = keys.duplicated(keep=False).to_numpy()
    if twice.any():
        problems.append(Problem("load.report_duplicate", {
            "file": file, "count": f"{int(twice.sum()):,}", "rows": format_rows(rows[twice])}))
    raise_problems(problems)
