"""Export history speed: the frequency cap and --since-last-export against raw DuckDB SQL.

Every ad export now reads the store's send history: the frequency cap counts each customer's ad
sends on the send day and in every 7-day window around it (``export_members`` and the
``messages`` of ad campaigns), and ``--since-last-export`` looks up who an earlier export of the
same audience covered. This script measures both on a store with a busy history, against one
hand-written DuckDB query each with the same meaning (both sides must give the same customers;
the script exits non-zero otherwise), and what the history adds to a whole export.

The store is a 100k-customer sample (``--customers``) written once to ``--store`` and reused;
the script then writes its history: 14 days x 3 ad exports a day (10:00, 14:00, 19:00), each to
30 % of the customers (about 1.3M ``export_members`` rows), plus the sample's campaigns'
messages.

Usage::

    python benchmarks/bench_export.py                       # /tmp/bench-export-100k.duckdb
    python benchmarks/bench_export.py --repeat 7 --customers 200000

Prints the median seconds of ours and of the reference, their ratio, the number of customers
capped / recently exported, the seconds of a whole export with and without the history rules,
and the peak RSS. Timings are reported, not asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import statistics
import sys
import tempfile
import time
import warnings
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore", message=".*inplace.*")

TZ = "Asia/Seoul"
END = date(2026, 11, 30)
SEND = datetime(2026, 11, 29, 14, 30)  # a Sunday afternoon, local time


def _store(path: Path, customers: int) -> None:
    from workbench.data import write_store
    from workbench.data.sample import write_sample

    if not path.exists():
        print(f"writing a {customers:,}-customer sample to {path} ...", flush=True)
        write_sample(path, customers, seed=1, end=END)
    rng = np.random.default_rng(7)
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    ids = np.array([r[0] for r in con.execute("SELECT customer_id FROM customers").fetchall()])
    con.close()
    rows = []
    for day in range(14):
        for hour, name in ((10, "hist_morning"), (14, "hist_afternoon"), (19, "hist_evening")):
            at = pd.Timestamp(SEND.date() - timedelta(days=day - 1)).replace(hour=hour)
            who = ids[rng.random(len(ids)) < 0.3]
            rows.append(pd.DataFrame({
                "export_id": f"{name}-{at:%Y%m%d%H}", "customer_id": who, "audience": name,
                "channel": "sms", "is_ad": True,
                "variant": np.where(rng.random(len(who)) < 0.1, "holdout", "send"),
                "send_at": at.tz_localize(TZ)}))
    history = pd.concat(rows, ignore_index=True)
    with write_store(path) as w:
        w.con.execute("DELETE FROM export_members")
        w.write("export_members", history)
    print(f"history: {len(history):,} export_members rows over 15 days", flush=True)


def reference_cap(con, send: pd.Timestamp, audience: str, per_day: int, per_week: int
                  ) -> set[str]:
    """Customers at the cap, in one DuckDB query (same rules as workbench.audience.history)."""
    day = send.tz_convert(TZ).date()
    lo = pd.Timestamp(day - timedelta(days=6)).tz_localize(TZ)
    hi = pd.Timestamp(day + timedelta(days=7)).tz_localize(TZ)
    sql = f"""
    WITH s AS (
        SELECT export_id AS src, customer_id, send_at AS ts FROM export_members
        WHERE coalesce(is_ad, false) AND coalesce(variant, 'send') <> 'holdout'
          AND send_at >= $lo AND send_at < $hi AND NOT (audience = $aud AND send_at = $send)
        UNION ALL
        SELECT m.campaign_id, m.customer_id, m.sent_at FROM messages m
        JOIN campaigns c USING (campaign_id)
        WHERE coalesce(c.is_ad, false) AND (m.status IS NULL OR m.status <> 'failed')
          AND m.customer_id IS NOT NULL AND m.sent_at >= $lo AND m.sent_at < $hi
    ), one AS (
        SELECT customer_id, min(ts) AS ts FROM s GROUP BY src, customer_id
    ), d AS (
        SELECT customer_id,
               date_diff('day', DATE '{day}', (ts AT TIME ZONE '{TZ}')::DATE) AS k FROM one
    ), c AS (
        SELECT customer_id, count(*) FILTER (WHERE k = 0) AS today,
               {", ".join(f"count(*) FILTER (WHERE k BETWEEN {j - 6} AND {j}) AS w{j}"
                          for j in range(7))}
        FROM d GROUP BY customer_id
    )
    SELECT customer_id FROM c
    WHERE today >= {per_day} OR greatest({", ".join(f"w{j}" for j in range(7))}) >= {per_week}
    """
    rows = con.execute(sql, {"lo": lo.to_pydatetime(), "hi": hi.to_pydatetime(),
                             "aud": audience, "send": send.to_pydatetime()}).fetchall()
    return {r[0] for r in rows}


def reference_recent(con, send: pd.Timestamp, audience: str, cooldown: timedelta) -> set[str]:
    rows = con.execute(
        "SELECT DISTINCT customer_id FROM export_members WHERE audience = ? "
        "AND send_at > ? AND send_at < ?",
        [audience, (send - cooldown).to_pydatetime(), (send + cooldown).to_pydatetime()]
    ).fetchall()
    return {r[0] for r in rows}


def _median(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", type=Path, default=Path("/tmp/bench-export-100k.duckdb"))
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)

    from workbench.audience import Audience, export_audience, load_recipe
    from workbench.audience.history import capped, recently_exported
    from workbench.data import connect
    from workbench.settings import FrequencyCap, load_settings

    _store(args.store, args.customers)
    settings = load_settings(store=str(args.store))
    send = pd.Timestamp(SEND).tz_localize(TZ)
    cap = FrequencyCap()  # the default: 1 ad a day, 3 in 7 days
    con = connect(args.store, settings=settings)
    raw = con.con  # the same DuckDB connection, for the reference queries
    failed = False

    ours_t, hits = _median(lambda: capped(con, channel="sms", send=send, timezone=TZ, cap=cap,
                                          audience="cart"), args.repeat)
    ref_t, ref = _median(lambda: reference_cap(raw, send, "cart", cap.ads_per_day,
                                               cap.ads_per_week), args.repeat)
    same = set(hits["customer_id"]) == ref
    failed |= not same
    print(f"frequency cap      ours {ours_t:6.3f} s  reference {ref_t:6.3f} s  "
          f"ratio {ours_t / ref_t:5.2f}  capped {len(hits):,}  same={same}")

    cooldown = timedelta(hours=24)
    ours_t, recent = _median(lambda: set(recently_exported(
        con, audience="hist_afternoon", send=send, cooldown=cooldown).to_pandas()["customer_id"]),
        args.repeat)
    ref_t, ref = _median(lambda: reference_recent(raw, send, "hist_afternoon", cooldown),
                         args.repeat)
    same = recent == ref
    failed |= not same
    print(f"since-last-export  ours {ours_t:6.3f} s  reference {ref_t:6.3f} s  "
          f"ratio {ours_t / ref_t:5.2f}  left out {len(recent):,}  same={same}")

    definition = load_recipe("dormant")
    audience = Audience(definition, con, as_of=SEND, settings=settings)
    with tempfile.TemporaryDirectory() as tmp:
        def export(history: bool, k: list[int] = [0]) -> object:  # noqa: B006 - a counter
            k[0] += 1
            s = settings if history else settings.replace(
                frequency_cap=FrequencyCap(enabled=False))
            # A new name per run: each run is a first export (the runs before are not its
            # history), capped against the 15 days of other audiences' sends.
            a = Audience(dataclasses.replace(definition, name=f"dormant_{k[0]}"), con,
                         as_of=SEND, settings=s)
            return export_audience(a, out=Path(tmp) / f"x{k[0]}.csv", send_at=SEND,
                                   purpose="bench", since_last_export=history,
                                   store=args.store, now=datetime(2026, 11, 29, 5, 0, k[0]))
        plain_t, plain = _median(lambda: export(False), max(3, args.repeat // 2))
        full_t, full = _median(lambda: export(True), max(3, args.repeat // 2))
    print(f"whole export ({audience.count():,} in 'dormant'): without history rules "
          f"{plain_t:6.3f} s, with cap + since-last-export {full_t:6.3f} s "
          f"(ratio {full_t / plain_t:4.2f}); capped {full.excluded['frequency_cap_day']:,} "
          f"+ {full.excluded['frequency_cap_week']:,}, already exported "
          f"{full.excluded['recently_exported']:,}")
    con.disconnect()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MiB")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
