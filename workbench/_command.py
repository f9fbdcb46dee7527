"""What every ``workbench`` command shares: the common options, settings, exit codes.

Exit codes: 0 success, 2 a problem the user can fix (a file, a column, a setting, a path), 1
any other failure (a full disk, a bug). Errors are printed as one paragraph without a traceback
unless ``--debug``. ``workbench.cli`` and the stand-alone ``workbench.audience.cli`` both run
their commands through :func:`run_command`.
"""

from __future__ import annotations

import argparse
import errno
import sys
import textwrap
import traceback
from collections.abc import Callable

from workbench.errors import InputError, WorkbenchError
from workbench.i18n import set_language, tr
from workbench.settings import Settings, load_settings

__all__ = ["common_parser", "early_language", "positive_int", "run_command"]


def common_parser(*, keep_earlier: bool = False) -> argparse.ArgumentParser:
    """Return the parent parser of the options every command takes.

    The top-level parser and every command take these options, so ``workbench --language ko
    load ...`` and ``workbench load ... --language ko`` mean the same. With ``keep_earlier``
    (the commands' copy), an option left out after the command keeps the value given before
    it instead of resetting it to the default.
    """
    common = argparse.ArgumentParser(add_help=False,
                                     argument_default=argparse.SUPPRESS if keep_earlier else None)
    common.add_argument("--store", help="DuckDB file or Ibis URL (default: workbench.toml's store)")
    common.add_argument("--config", help="settings file (default: ./workbench.toml)")
    common.add_argument("--language", choices=["en", "ko"], help="language of messages")
    common.add_argument("--timezone", help="shop time zone, e.g. Asia/Seoul")
    common.add_argument("--currency", help="ISO 4217 currency code, e.g. KRW")
    common.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    common.add_argument("-q", "--quiet", action="store_true", help="no progress output")
    return common


def positive_int(text: str) -> int:
    """Parse a positive whole number (``20,000`` and ``20_000`` too)."""
    try:
        value = int(text.replace(",", "").replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive whole number; got {text!r}")
    return value


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, store=args.store, language=args.language,
                         timezone=args.timezone, currency=args.currency)


def _fail(exc: BaseException, code: int, debug: bool) -> int:
    if debug:
        traceback.print_exception(exc)
    message = str(exc) or type(exc).__name__
    if code == 1 and not isinstance(exc, WorkbenchError):
        message = tr("cli.unexpected", kind=type(exc).__name__, message=message)
    print(textwrap.fill(tr("cli.error_prefix") + message, width=100, break_long_words=False,
                        break_on_hyphens=False), file=sys.stderr)
    return code


def early_language(argv: list[str]) -> None:
    """Apply ``--language`` before parsing, so the parser's own errors are in that language."""
    for i, word in enumerate(argv):
        value = word.split("=", 1)[1] if word.startswith("--language=") else (
            argv[i + 1] if word == "--language" and i + 1 < len(argv) else None)
        if value in ("en", "ko"):
            set_language(value)


def run_command(args: argparse.Namespace,
                func: Callable[[argparse.Namespace, Settings], int]) -> int:
    """Run a parsed command; turn every failure into exit code 2 or 1 and one paragraph.

    Exit code 2: a problem the user can fix (a file, a column, a setting, a path); 1: any other
    failure (a full disk, a bug). No traceback unless ``--debug``.
    """
    try:
        settings = _settings(args)
        set_language(settings.language)
        return func(args, settings)
    except InputError as exc:
        return _fail(exc, 2, args.debug)
    except KeyboardInterrupt:
        print(tr("cli.interrupted"), file=sys.stderr)
        return 130
    except OSError as exc:
        return _fail(_os_error(exc), _os_exit_code(exc), args.debug)
    except MemoryError:
        return _fail(WorkbenchError(tr("cli.out_of_memory")), 1, args.debug)
    except Exception as exc:  # the one place that turns any failure into a readable paragraph
        return _fail(exc, 1, args.debug)


#: Errors of the machine rather than of the user's input: exit 1 ("failure"), not 2.
_MACHINE_ERRNOS = {errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.ENOMEM, errno.EROFS}


def _os_exit_code(exc: OSError) -> int:
    return 1 if exc.errno in _MACHINE_ERRNOS else 2


def _os_error(exc: OSError) -> WorkbenchError:
    """Turn a file-system error into a sentence naming the path and what to do."""
    path = exc.filename or "-"
    if isinstance(exc, PermissionError):
        return WorkbenchError(tr("cli.os_permission", path=path))
    if isinstance(exc, IsADirectoryError):
        return WorkbenchError(tr("cli.os_folder", path=path))
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return WorkbenchError(tr("cli.os_missing", path=path))
    if exc.errno == errno.ENOSPC:
        return WorkbenchError(tr("cli.os_disk_full", path=path))
    return WorkbenchError(tr("cli.os_other", path=path, reason=exc.strerror or str(exc)))
