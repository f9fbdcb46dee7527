"""The ``workbench`` command: parses arguments and calls the package (no logic of its own).

Exit codes: 0 success, 2 invalid input (a file, column or parameter the user can fix), 1 any
other failure. Errors are printed as one paragraph without a traceback unless ``--debug``.

Each command imports what it runs inside its function: importing every command's modules up
front would add 2.2-2.5 s to each call, ``--help`` included (three runs on 2 cores, after the
0.8-1.0 s this module takes).
"""

from __future__ import annotations

import argparse
import logging
import sys
import textwrap
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

from workbench import __version__
from workbench._args import iso_date
from workbench._command import common_parser, early_language, positive_int, run_command
from workbench._progress import Progress
from workbench.clock import this_week, today
from workbench.errors import ParameterError
from workbench.i18n import format_number, tr
from workbench.settings import LANGUAGES, Settings

__all__ = ["main"]

log = logging.getLogger("workbench")


# --------------------------------------------------------------------------- commands


def _cmd_sample(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.data.sample import write_sample

    if args.send_report:
        from workbench.data.simulate_sends import write_send_report

        path, export_id, rows = write_send_report(args.send_report, export_id=args.export,
                                                  store=settings.store, settings=settings,
                                                  force=args.force)
        print(tr("sends.sim_written", export=export_id, path=str(path),
                 rows=format_number(rows)))
        return 0
    if args.as_files:
        from workbench.data.shop_files import write_shop_files

        end = args.end or today(settings)
        paths = write_shop_files(args.as_files, args.customers, seed=args.seed, end=end,
                                 timezone=settings.timezone, force=args.force)
        print(tr("sample.files_written", customers=format_number(args.customers),
                 seed=args.seed, end=end.isoformat(), path=args.as_files,
                 **{k: v.name for k, v in paths.items()}))
        return 0
    path = Path(settings.store)
    if args.if_empty and _store_has_orders(settings):
        print(tr("cli.sample_skipped", path=str(path)))
        return 0
    if not args.if_empty and not args.replace and _store_has_orders(settings):
        raise ParameterError(tr("cli.sample_would_replace", path=str(path)))
    end = args.end or today(settings)
    summary = write_sample(path, args.customers, seed=args.seed, end=end, settings=settings,
                           progress=Progress(enabled=not args.quiet))
    print(summary.summary())
    return 0


def _cmd_load(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.data.load import load_file

    report = load_file(args.table, args.file, mapping=args.mapping, mode=args.mode,
                       store=settings.store, settings=settings,
                       progress=Progress(enabled=not args.quiet), campaign=args.campaign)
    print(report.summary())
    return 0


def _cmd_refresh(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.data.serving import export_serving, serving_target
    from workbench.snapshot import refresh

    serving = serving_target(settings, args.serve_from)  # checked before the long compute
    report = refresh(args.as_of or today(settings), store=settings.store, settings=settings)
    print(report.summary())
    pages = settings.store
    if serving is not None:  # a Spark store: the pages read a local copy of the lake
        served = export_serving(settings.store, serving, settings=settings)
        print(served.summary())
        pages = str(served.path)
    elif pages.startswith("spark:"):
        print(tr("serving.no_copy", store=settings.store))
    if not args.no_warm and not pages.startswith("spark:"):
        print(_warm_pages(pages, settings.replace(store=pages), settings.language,
                          Progress(enabled=not args.quiet)).summary())
    return 0


def _warm_pages(store: str, settings: Settings, language: str, progress: Progress | None,
                notebooks: tuple[str, ...] | None = None) -> Any:
    """Compute the dashboards' pages ahead, in ``language`` first (refresh, report weekly)."""
    # Imported here: the pages pull in ipywidgets and plotly, which no other command needs.
    from workbench.ui.warm import warm

    return warm(store, settings=settings,
                languages=(language, *(x for x in LANGUAGES if x != language)),
                notebooks=notebooks,
                progress=None if progress is None else (
                    lambda page, i, n: progress(tr("cache.progress", page=page), i, n)))


def _cmd_churn(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.churn import ChurnDefinition, saved_name, train
    from workbench.churn.model import models_dir
    from workbench.data import connect

    as_of = args.as_of or today(settings)
    definition = ChurnDefinition(horizon_days=args.horizon)
    args.name = args.name or saved_name(definition)
    started = time.perf_counter()
    con = connect(settings.store, settings=settings)
    try:
        model = train(con, as_of, definition=definition, settings=settings,
                      backtest_cutoffs=args.backtest, save=args.name)
    finally:
        con.disconnect()
    metrics = model.metadata_.get("backtest", {}).get("metrics", [])
    auc = [f"{r['cutoff']} {r['roc_auc']:.3f}" for r in metrics
           if r.get("scorer") == "model" and r.get("roc_auc") is not None]
    print(tr("cli.churn_trained", name=args.name, as_of=as_of.isoformat(),
             folder=str(models_dir(settings)), seconds=f"{time.perf_counter() - started:.1f}",
             auc=", ".join(auc) or "-"))
    return 0


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.reporting.run import run_weekly

    as_of = args.as_of or this_week(settings)
    notebooks = tuple(args.notebook) if args.notebook else None
    kwargs = {"notebooks": notebooks} if notebooks else {}
    run = run_weekly(as_of, store=settings.store, out_dir=args.out, settings=settings,
                     notebooks_path=args.notebooks_dir, progress=Progress(enabled=not args.quiet),
                     force=args.force, serve_from=args.serve_from,
                     prepare=None if args.no_warm else partial(_warm_pages, notebooks=notebooks),
                     **kwargs)
    print(run.summary())
    return 0


def _cmd_dashboard(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.dashboard import serve
    from workbench.data.serving import pages_store

    # A Spark store's pages read its serving file (a local copy): Spark is too slow per query.
    settings = settings.replace(store=pages_store(settings, args.serve_from, command="dashboard"))
    return serve(port=args.port, settings=settings, notebooks_path=args.notebooks_dir,
                 stop_after=args.stop_after, max_kernels=args.max_kernels,
                 max_kernels_per_page=args.max_kernels_per_page,
                 allow_hosts=tuple(args.allow_host or ()), token=args.token,
                 reports=args.reports, cell_timeout=args.cell_timeout)


def _cmd_info(args: argparse.Namespace, settings: Settings) -> int:
    from workbench.data.store import describe_store

    print(describe_store(settings=settings))
    return 0


def _store_has_orders(settings: Settings) -> bool:
    from workbench.data.store import is_spark, table_counts

    if not is_spark(settings.store) and not Path(settings.store).exists():
        return False
    return table_counts(settings=settings).get("orders", 0) > 0


# --------------------------------------------------------------------------- parser


def _parser() -> argparse.ArgumentParser:
    # Global options go before or after the command; given in both places, the later wins.
    common = common_parser(keep_earlier=True)

    parser = argparse.ArgumentParser(
        prog="workbench", parents=[common_parser()],
        description="CRM analytics and campaign workbench for online shops.",
        epilog="Run 'workbench COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser(
        "sample", parents=[common], help="write realistic synthetic shop data into the store",
        description=textwrap.dedent("""\
            Write a synthetic Korean online shop (customers with consent flags, orders, order
            lines, products, web events, two years of CRM campaigns with holdouts and a 5%
            global holdout) with known ground truth (truth_customers, truth_campaigns,
            truth_parameters) into the store. Replaces the whole store; refuses to
            overwrite a store that holds orders unless --replace is given."""),
    )
    p.add_argument("--customers", type=positive_int, default=20_000,
                   help="number of customers (default 20,000)")
    p.add_argument("--seed", type=int, default=42,
                   help="random seed (default 42): same seed, same data")
    p.add_argument("--end", type=iso_date,
                   help="first day after the data, YYYY-MM-DD (default: today)")
    p.add_argument("--replace", action="store_true",
                   help="overwrite a store that already holds orders")
    p.add_argument("--if-empty", action="store_true",
                   help="do nothing if the store already holds orders")
    p.add_argument("--as-files", metavar="DIR",
                   help="instead of a store, write the shop as Cafe24 exports into DIR: "
                        "회원목록.xlsx (members), 주문목록.xlsx (orders), events.csv, "
                        "products.csv")
    p.add_argument("--send-report", metavar="FILE",
                   help="instead of a store, write a simulated sending-service result report "
                        "(발송 결과 CSV) for the latest audience export in the store")
    p.add_argument("--export", metavar="EXPORT_ID",
                   help="with --send-report: the export to report on (default: the latest)")
    p.add_argument("--force", action="store_true",
                   help="with --as-files or --send-report: replace files of the same names")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser(
        "load", parents=[common], help="import a CSV, Excel or Parquet file into a table",
        description=textwrap.dedent("""\
            Import a CSV (UTF-8 with or without BOM, or CP949), XLSX or Parquet file into a
            canonical table, all or nothing: on any error the store is left exactly as it was.
            With --mapping, the file's own layout (cafe24, imweb, shopify, online_retail, cdnow,
            or a mapping file) is translated, and one item-level export can fill orders,
            order_items and customers at once. A sending service's result report loads into
            messages with --mapping send_report, matched to the customers of the export named
            by --campaign. Member exports (--mapping cafe24_members or imweb_members) reload
            weekly without --mode: stored members are updated, columns the file lacks keep
            their values, and consent is merged by date; an opt-out is never undone by an
            undated or older opt-in."""),
    )
    p.add_argument("table", help="canonical table: customers, orders, order_items, products, "
                                 "events, campaigns, assignments, messages")
    p.add_argument("file", help="the file to import")
    p.add_argument("--mapping", help="shipped mapping name or a mapping file (TOML/YAML)")
    p.add_argument("--mode", choices=["append", "replace", "upsert"], default="append",
                   help="append rows (default), replace the table, or upsert by key")
    p.add_argument("--campaign", metavar="EXPORT_ID",
                   help="send reports (--mapping send_report): the export the report's rows "
                        "belong to, when the report has no campaign/export id column")
    p.set_defaults(func=_cmd_load)

    p = sub.add_parser(
        "refresh", parents=[common], help="compute the per-customer snapshot dashboards read",
        description="Compute the per-customer snapshot for --as-of (default: today) and swap it "
                    "into the store in one step; open dashboards keep working and never see a "
                    "half-written snapshot.")
    p.add_argument("--as-of", type=iso_date, help="facts use data strictly before this date")
    p.add_argument("--no-warm", action="store_true",
                   help="do not compute the dashboards' pages ahead (they then compute on open)")
    p.add_argument("--serve-from", metavar="FILE",
                   help="with a spark: store, then copy the lake into this local DuckDB file, "
                        "which dashboards and reports read (default: [spark] serve_from)")
    p.set_defaults(func=_cmd_refresh)

    p = sub.add_parser(
        "churn", parents=[common], help="train and save the churn-risk model",
        description="'workbench churn train' trains the churn model for --as-of (features "
                    "strictly before it, calibrated on a later slice), backtests it on "
                    "--backtest consecutive cutoffs and saves it with its metadata and SHA-256 "
                    "in models/ next to the store. 'workbench refresh' then scores every "
                    "customer with it (without a saved model, refresh trains and saves one).")
    p.add_argument("action", choices=["train"], help="what to do")
    p.add_argument("--as-of", type=iso_date, help="the date the model will score at "
                                                   "(default: today)")
    p.add_argument("--backtest", type=int, default=3,
                   help="backtest cutoffs stored with the model (default 3; 0: none)")
    p.add_argument("--horizon", type=int, default=90,
                   help="churned = no order in this many days after a cutoff (default 90)")
    p.add_argument("--name", default="", help="model name (default: churn for 90 days, the one "
                                              "refresh uses; churn-<N>d otherwise, the one "
                                              "the dashboard looks for)")
    p.set_defaults(func=_cmd_churn)

    p = sub.add_parser(
        "report", parents=[common], help="render the weekly report with papermill",
        description="'workbench report weekly' refreshes the snapshot and runs every report "
                    "notebook through papermill into reports/<YYYY>-W<ww>/ (HTML without code, "
                    "charts that work offline, index.html, run.json). The folder is replaced "
                    "only when every notebook succeeded.")
    p.add_argument("kind", choices=["weekly"], help="the report to render")
    p.add_argument("--as-of", type=iso_date,
                   help="report the Monday-Sunday week ending before this date "
                        "(default: Monday of this week, i.e. last week's report)")
    p.add_argument("--out", default="reports", help="output folder (default: reports/)")
    p.add_argument("--force", action="store_true",
                   help="replace an index.html or week folder in --out that workbench did not "
                        "write")
    p.add_argument("--notebook", action="append",
                   help="run only this notebook (repeatable; default: all report notebooks)")
    p.add_argument("--notebooks-dir", help=argparse.SUPPRESS)
    p.add_argument("--no-warm", action="store_true",
                   help="do not compute the dashboards' pages ahead (they then compute on open)")
    p.add_argument("--serve-from", metavar="FILE",
                   help="with a spark: store, the local DuckDB copy the notebooks read "
                        "(default: [spark] serve_from)")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser(
        "dashboard", parents=[common], help="serve the Voila dashboards on 127.0.0.1",
        description="Serve every dashboard with Voila on 127.0.0.1 (sources hidden) with a "
                    "landing page that links them. Each open page runs its own kernel, so the "
                    "number of open pages is capped; only requests for localhost, 127.0.0.1 and "
                    "[::1] are answered unless --allow-host is given. Stop with Ctrl+C.")
    p.add_argument("--port", type=int, default=8866,
                   help="port on 127.0.0.1 (default 8866); a port in use is refused")
    p.add_argument("--max-kernels", type=positive_int, default=4, metavar="N",
                   help="most dashboard pages open at once on the server (default 4); "
                        "beyond it visitors get a 'busy' page")
    p.add_argument("--max-kernels-per-page", type=positive_int, default=2, metavar="N",
                   help="most tabs open at once of one dashboard (default 2)")
    p.add_argument("--allow-host", action="append", metavar="NAME",
                   help="also answer requests for this host name, e.g. a reverse proxy's "
                        "(repeatable)")
    p.add_argument("--token", nargs="?", const="", metavar="VALUE",
                   help="require an access token on every request: a random one without "
                        "VALUE; the printed address carries it")
    p.add_argument("--stop-after", type=float, metavar="SECONDS",
                   help="stop the server by itself after this many seconds")
    p.add_argument("--reports", default="reports", metavar="FOLDER",
                   help="weekly reports folder linked from the home page and served read-only "
                        "under /reports/ (default: reports, as 'workbench report weekly --out')")
    p.add_argument("--serve-from", metavar="FILE",
                   help="with a spark: store, the local DuckDB copy the pages read, written by "
                        "'workbench refresh --serve-from' (default: [spark] serve_from)")
    p.add_argument("--cell-timeout", type=float, default=120.0, help=argparse.SUPPRESS)
    p.add_argument("--notebooks-dir", help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_dashboard)

    p = sub.add_parser("info", parents=[common], help="show the store, its tables and recent loads")
    p.set_defaults(func=_cmd_info)

    from workbench.audience.cli import add_parser as add_audience_parser

    add_audience_parser(sub, parents=[common])
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 ok, 2 invalid input, 1 other failure)."""
    parser = _parser()
    early_language(sys.argv[1:] if argv is None else list(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    return run_command(args, args.func)


if __name__ == "__main__":
    sys.exit(main())
