"""A small progress reporter for long commands (stderr; one updating line on a terminal).

A stage with a ``progress.<stage>`` message (the load's ``read``, ``convert``, ``check`` and
``write``) is shown under that name, which says what is counted ("rows read: 1,200/5,000");
any other stage name is shown as given, already in the reader's language.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from workbench.i18n import tr

__all__ = ["Progress"]


class Progress:
    """Callable ``progress(stage, done, total)`` that prints to stderr, throttled.

    On a terminal it rewrites one line; elsewhere (cron logs, CI) it prints a line at most every
    ``interval`` seconds per stage and always the last one, so logs stay short.
    """

    def __init__(self, stream: TextIO | None = None, *, interval: float = 5.0,
                 enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.interval = interval
        self.enabled = enabled
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last: dict[str, float] = {}
        self._start = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        finished = total > 0 and done >= total
        pause = 0.2 if self.tty else self.interval
        if not finished and now - self._last.get(stage, -1e9) < pause:
            return
        self._last[stage] = now
        pct = f"{100 * done / total:5.1f}%" if total else ""
        line = tr("progress.line", stage=_label(stage), done=f"{done:,}", total=f"{total:,}",
                  pct=pct, seconds=f"{now - self._start:.0f}")
        if self.tty:
            self.stream.write("\r\033[K" + line + ("\n" if finished else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _label(stage: str) -> str:
    try:
        return tr(f"progress.{stage}")
    except KeyError:
        return stage
