"""``workbench audience list|show|count|export``: saved audiences and recipes from the shell.

Hooked into ``workbench.cli`` with :func:`add_parser`; :func:`main` runs the same commands
stand-alone (``python -m workbench.audience.cli ...``) with the same exit codes: 0 success,
2 invalid input, 1 any other failure.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from workbench._args import as_of_moment, local_time, moment_label
from workbench._command import common_parser, early_language, run_command
from workbench.audience.arms import parse_arm_spec
from workbench.audience.audience import Audience
from workbench.audience.compliance import SEND_CHANNELS
from workbench.audience.durations import cooldown_duration
from workbench.audience.export import export_audience
from workbench.audience.personalise import field_help
from workbench.audience.recipes import RECIPES
from workbench.audience.storage import audiences_dir, load_definition, saved_definitions
from workbench.clock import now
from workbench.data.store import connect
from workbench.dates import local_instant
from workbench.errors import ParameterError
from workbench.i18n import format_number, tr
from workbench.settings import Settings

__all__ = ["add_parser", "main", "run"]


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(tr("audience.cli.share", got=repr(text)))
    return value


def _cooldown(text: str) -> str:
    try:
        return cooldown_duration(text, "--cooldown")
    except ParameterError:
        raise argparse.ArgumentTypeError(tr("cli.bad_cooldown", got=text)) from None


def add_parser(subparsers: argparse._SubParsersAction,
               parents: Sequence[argparse.ArgumentParser] = ()) -> argparse.ArgumentParser:
    """Add the ``audience`` command (with ``parents``: the shared store/language options)."""
    p = subparsers.add_parser(
        "audience", parents=list(parents), help="list, count and export saved audiences",
        description=textwrap.dedent("""\
            Saved audiences live in data/audiences/ (next to the store); recipes ship with
            workbench. 'export' applies the Korean advertising rules (consent per channel,
            2-year re-confirmation, 21:00-08:00 night consent, opted-out customers), keeps a
            deterministic holdout out of the file, writes a UTF-8 CSV with BOM holding only the
            column the channel needs, and logs the export in the store. KakaoTalk:
            'alimtalk' (informational only, needs --template-code, reaches any KakaoTalk user by
            phone; customers without KakaoTalk go to <out>.fallback_sms.csv) and 'friendtalk'
            (ads to channel friends only, blocked in the provider's quiet hours, setting
            friendtalk_quiet_hours, default 20:00-08:00); an old 'kakao' audience is exported
            as friendtalk when it is an ad, else alimtalk."""))
    p.add_argument("action", choices=["list", "show", "count", "export"],
                   help="list saved audiences and recipes; show, count or export one")
    p.add_argument("name", nargs="?", help="audience name or recipe (or a .yaml file)")
    p.add_argument("--as-of", type=as_of_moment,
                   help="facts use data strictly before this local date (midnight) or time "
                        "'YYYY-MM-DD HH:MM' (hourly scenarios; default: today)")
    p.add_argument("--channel", choices=list(SEND_CHANNELS),
                   help="export channel (default: the audience's)")
    p.add_argument("--template-code", metavar="CODE",
                   help="AlimTalk: code of the template Kakao approved (required for alimtalk), "
                        "e.g. TPL_ORDER_01")
    p.add_argument("--holdout", type=_share, default=0.0,
                   help="share of eligible customers kept out as a holdout, e.g. 0.1")
    p.add_argument("--out", help="CSV file to write (export); never an existing file unless "
                                 "--force, never the store, a model, the salt or the settings")
    p.add_argument("--force", action="store_true",
                   help="replace the --out file if it already exists")
    p.add_argument("--message", help="file with the message text, checked before export")
    p.add_argument("--subject", help="email subject (where '(광고)' goes for email)")
    p.add_argument("--sender", help="sender name that must appear in the message")
    p.add_argument("--send-at", type=local_time,
                   help="local send time 'YYYY-MM-DD HH:MM' (default: now)")
    p.add_argument("--purpose", help="why the data is exported (default: the audience's)")
    p.add_argument("--author", help="who exports (default: the login name)")
    p.add_argument("--transaction-exemption", action="store_true",
                   help="the ad is for the same kind of goods the customers bought: customers "
                        "without consent within 6 months of a transaction qualify")
    p.add_argument("--since-last-export", action="store_true",
                   help="leave out customers already exported for this audience (any arm) "
                        "within the cooldown: for hourly jobs")
    p.add_argument("--cooldown", metavar="DURATION", type=_cooldown,
                   help="with --since-last-export: '24h', '2d', '1w' (default: the audience's "
                        "'cooldown', else 24h)")
    p.add_argument("--variants", metavar="A=FILE,B=FILE",
                   help="A/B/n message test: one message file per arm (2-10 arms named A, B, "
                        "...); after --holdout the rest is split equally, every message is "
                        "checked, each arm gets its own file (out.A.csv, out.B.csv) and one "
                        "campaign records the arms for the A/B readout")
    p.add_argument("--fields", metavar="F1,F2",
                   help="personalisation columns after the contact column (needs --purpose): "
                        + field_help("en"))
    p.add_argument("--coupon-code", metavar="CODE",
                   help="code of the coupon_code field: one code, or one per arm "
                        "'A=WIN10,B=WIN20'")
    p.add_argument("--dir", help="folder of saved audiences (default: data/audiences)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Run ``workbench audience ...``; return the exit code."""
    folder = Path(args.dir) if args.dir else audiences_dir(settings)
    if args.action == "list":
        # An invalid file gets one line saying why and the rest are still listed; the exit
        # code stays 0 because the listing worked ('show' on the bad file exits 2).
        saved = saved_definitions(folder)
        print(tr("audience.cli.list_saved", folder=str(folder), count=len(saved)))
        for item in saved:
            d = item.definition
            print(f"  {d.name:<28} v{d.version:<3} {d.channel:<10} {d.description}" if d else
                  "  " + tr("audience.cli.list_invalid", file=item.path.name,
                            reason=item.problem))
        print(tr("audience.cli.list_recipes", count=len(RECIPES)))
        for name in RECIPES:
            print(f"  {name}")
        return 0
    if not args.name:
        raise ParameterError(tr("audience.cli.name_needed", action=args.action))
    definition = load_definition(args.name, folder)
    if args.action == "show":
        print(definition.to_yaml(), end="")
        return 0
    con = connect(settings.store, settings=settings)
    try:
        as_of = args.as_of or now(settings).date()
        audience = Audience(definition, con, as_of=as_of, settings=settings)
        if args.action == "count":
            print(tr("audience.cli.count", name=definition.name, as_of=moment_label(as_of),
                     count=format_number(audience.count())))
            for text in audience.notes:  # e.g. customers without a birth date
                print(text)
            day = as_of.date() if isinstance(as_of, datetime) else as_of
            note = _stale_note(con, day, settings)
            if note:
                print(note)
            return 0
        return _export(args, audience, settings)
    finally:
        con.disconnect()


def _stale_note(con, as_of: date, settings: Settings) -> str | None:
    """Say so when the data ends more than a week before ``as_of`` (as the dashboards do).

    An export from a shop a month ago counted "as of today" sees every customer a month older
    and nobody who bought since; the manager should know before acting on the number.
    """
    if "orders" not in con.list_tables():
        return None
    last = con.table("orders").ordered_at.max().execute()
    if last is None or last != last:  # no orders, or NaT
        return None
    last = local_instant(last, settings.timezone).date()
    if last >= as_of - timedelta(days=STALE_AFTER_DAYS):
        return None
    suggest = last + timedelta(days=7 - last.weekday())  # the Monday after the data ends
    return tr("audience.cli.stale_data", data_until=last.isoformat(), as_of=as_of.isoformat(),
              days=format_number((as_of - last).days), suggest=suggest.isoformat())


#: Data that ends more than this many days before the as-of date gets a note with the count:
#: the dashboards' rule (the last order falls before the previous full week).
STALE_AFTER_DAYS = 7


def _export(args: argparse.Namespace, audience: Audience, settings: Settings) -> int:
    if not args.out:
        raise ParameterError(tr("audience.cli.out_needed"))
    message = None
    if args.message:
        message = _read_message(Path(args.message))
    arm_files = parse_arm_spec(args.variants) if args.variants is not None else {}
    variants = {arm: _read_message(Path(f)) for arm, f in arm_files.items()} or None
    send_at = args.send_at or now(settings).replace(tzinfo=None, second=0, microsecond=0)
    result = export_audience(
        audience, out=args.out, channel=args.channel, holdout=args.holdout, send_at=send_at,
        message=message, sender=args.sender, subject=args.subject, purpose=args.purpose,
        author=args.author, transaction_exemption=args.transaction_exemption,
        store=settings.store, force=args.force, since_last_export=args.since_last_export,
        cooldown=args.cooldown, template_code=args.template_code,
        variants=variants, fields=args.fields or (), coupon_code=args.coupon_code,
        inputs=tuple(p for p in (args.message, args.name, *arm_files.values()) if p))
    # An hourly job's log should say which hour each line is about.
    print(tr("audience.cli.export_moment", name=result.audience,
             as_of=moment_label(audience.as_of), send_at=moment_label(send_at)))
    print(result.summary())
    for note in result.notes:
        print(note)
    return 0


#: A message file holds one SMS, LMS or email text: LMS allows 2,000 bytes, and an email body
#: fits in far less than this.
MAX_MESSAGE_BYTES = 64 * 1024


def _read_message(path: Path) -> str:
    """Read the message file: a UTF-8 text file of at most :data:`MAX_MESSAGE_BYTES`."""
    if not path.is_file():
        key = "audience.cli.message_folder" if path.is_dir() else "audience.cli.message_missing"
        raise ParameterError(tr(key, path=str(path)))
    size = path.stat().st_size
    if size > MAX_MESSAGE_BYTES:
        raise ParameterError(tr("audience.cli.message_too_big", path=str(path),
                                size=format_number(size), limit=format_number(MAX_MESSAGE_BYTES)))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParameterError(tr("audience.cli.message_encoding", path=str(path),
                                offset=exc.start)) from None
    if "\x00" in text:
        raise ParameterError(tr("audience.cli.message_encoding", path=str(path),
                                offset=text.index("\x00")))
    return text.strip("\r\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``workbench audience ...`` stand-alone (same options and exit codes)."""
    parser = argparse.ArgumentParser(prog="workbench")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_parser(sub, parents=[common_parser()])
    words = ["audience", *(sys.argv[1:] if argv is None else argv)]
    early_language(words)
    args = parser.parse_args(words)
    return run_command(args, run)


if __name__ == "__main__":
    sys.exit(main())
