"""Pieces every page shares: mode detection, KPI tiles, messages, the provenance footer."""

from __future__ import annotations

import html
import os
import re
from typing import Any

import pandas as pd

from workbench import __version__
from workbench.i18n import format_value, tr

__all__ = ["detect_mode", "footer_html", "message_html", "table_html", "tiles_html"]


def detect_mode(mode: str = "auto") -> str:
    """Return ``interactive``, ``dashboard`` or ``report``.

    ``auto`` looks at ``$WORKBENCH_MODE`` (set by ``workbench report`` and ``workbench
    dashboard``), then at Voila's own environment variables, and defaults to ``interactive``.
    """
    if mode != "auto":
        return mode
    if os.environ.get("WORKBENCH_MODE"):
        return os.environ["WORKBENCH_MODE"]
    if any(k.startswith("VOILA_") for k in os.environ):
        return "dashboard"
    return "interactive"


def _change(row: pd.Series, language: str) -> tuple[str, str]:
    pct = row.get("change_pct")
    if pct is None or pd.isna(pct):
        return "", "flat"
    if row.get("unit") == "share":
        points = 100 * (row["current"] - row["previous"])
        text = tr("kpi.unit.points", language=language, value=f"{points:+.1f}%")
    else:
        text = f"{100 * pct:+.1f}%"
    arrow, cls = ("▲", "up") if pct > 0 else (("▼", "down") if pct < 0 else ("■", "flat"))
    return f"{arrow} {text} {tr('ui.vs_previous', language=language)}", cls


def table_html(css: str, head: list[str], rows: list[str]) -> str:
    """Return a ``wb-table`` with escaped header cells and ready-made ``<tr>`` rows."""
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    return (f"<table class='wb-table {css}'><thead><tr>{cells}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def tiles_html(tiles: pd.DataFrame, *, currency: str, language: str) -> str:
    """Return the KPI tiles as HTML: value, change against the previous period, arrow, colour.

    Each tile carries ``data-metric`` and the raw ``data-value`` so tests and scripts can read
    the exact number behind the formatted one.
    """
    parts = []
    for _, row in tiles.iterrows():
        value = format_value(row["current"], row["unit"], currency, language=language)
        change, cls = _change(row, language)
        raw = "" if pd.isna(row["current"]) else repr(float(row["current"]))
        parts.append(
            f"<div class='wb-tile' data-metric='{html.escape(str(row['metric']))}' "
            f"data-value='{raw}'><div class='wb-tile-label'>{html.escape(str(row['label']))}"
            f"</div><div class='wb-tile-value'>{html.escape(value)}</div>"
            f"<div class='wb-tile-change wb-{cls}'>{html.escape(change)}</div></div>")
    style = ("<style>.wb-tiles{display:flex;flex-wrap:wrap;gap:8px;margin:8px 0}"
             ".wb-tile{flex:1 1 150px;border:1px solid #ddd;border-radius:6px;padding:8px}"
             ".wb-tile-label{color:#555;font-size:.9em}.wb-tile-value{font-size:1.4em;"
             "font-weight:600}.wb-up{color:#1a7f37}.wb-down{color:#c62828}.wb-flat{color:#777}"
             "</style>")
    return style + "<div class='wb-tiles'>" + "".join(parts) + "</div>"


def _refreshed(snapshot: dict, timezone: str | None) -> str:
    """Return when the snapshot was refreshed: in the shop's zone, else in UTC (marked)."""
    at = pd.Timestamp(snapshot.get("refreshed_at")) if snapshot.get("refreshed_at") else None
    if at is None or pd.isna(at):
        return "–"
    if timezone is None:
        return f"{str(snapshot.get('refreshed_at'))[:16]} UTC"
    at = at.tz_localize("UTC") if at.tzinfo is None else at
    return at.tz_convert(timezone).strftime("%Y-%m-%d %H:%M")


#: A command quoted in a sentence ('workbench refresh' or `workbench churn train`), escaped.
_QUOTED_COMMAND = re.compile(r"(?:&#x27;|`)((?:workbench|make) [^&`<]*?)(?:&#x27;|`)")


def message_html(message: str, *, level: str = "info") -> str:
    """Return a readable banner (dashboards show this instead of a traceback).

    A command the sentence quotes is shown as code (``<code class='wb-command'>``), as the
    home page does: typed as it is, in both languages, not read as words of the sentence.
    """
    colour = {"info": "#e8f0fe", "warning": "#fff4e5", "error": "#fdecea"}[level]
    text = _QUOTED_COMMAND.sub(r"<code class='wb-command'>\1</code>", html.escape(message))
    return (f"<div class='wb-message wb-{level}' style='background:{colour};padding:10px 12px;"
            f"border-radius:6px;margin:6px 0'>{text}</div>")


def footer_html(*, data_until: Any, snapshot: dict | None, language: str,
                timezone: str | None = None) -> str:
    """Return the freshness and provenance footer: data up to, snapshot time, version.

    With the shop's ``timezone`` the snapshot's refresh time is shown in it, like every other
    time on the page; without, in UTC and marked so.
    """
    snap = "–"
    if snapshot:
        snap = f"{str(snapshot.get('as_of'))[:10]} ({_refreshed(snapshot, timezone)})"
    text = tr("ui.footer", language=language, data_until=str(data_until)[:16] if data_until
              is not None else "–", snapshot=snap, version=__version__)
    style = "color:#777;font-size:.85em;margin-top:12px"
    return f"<div class='wb-footer' style='{style}'>{html.escape(text)}</div>"
