"""What the dashboard server draws itself: the home page and the sentence a failed page shows.

Both run in the server process (:mod:`workbench._dashboard_server`), never in a kernel:

- :func:`home_html` is the page at ``/``: one card per dashboard (title and purpose from
  ``pages.<name>.*`` in the catalogue), the data's date range and the snapshot time read from
  the store read-only, and links to the weekly reports served under ``/reports/``. It has no
  script and loads nothing: its CSS is inline and its fonts are the system's.
- :func:`failure_html` is a Jinja filter of the dashboard template (``templates/index.html.j2``):
  a cell that raises or passes the time limit shows one sentence in the server's language and
  the footer, instead of Voila's English "There was an error when executing cell ..." or "Cell
  execution timed out ... --VoilaExecutor.interrupt_on_timeout=True". Voila has already logged
  the details (the traceback, or the timeout) by then.
"""

from __future__ import annotations

import html
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2

from workbench import __version__
from workbench.i18n import format_date, tr
from workbench.settings import load_settings

__all__ = ["PAGES", "StoreFacts", "failure_html", "home_html", "latest_report", "store_facts"]

#: The dashboards in the order the home page shows them (``notebooks/<name>.ipynb``).
PAGES = ("overview", "rfm", "cohorts", "products", "clv", "churn", "abtest", "campaigns",
         "audience_builder")
#: The folder a weekly report writes for one week (as ``workbench.reporting.run``).
_WEEK_FOLDER = "[0-9][0-9][0-9][0-9]-W[0-9][0-9]"

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreFacts:
    """What the home page and the footer say about the store (``None``: not known)."""

    first_order: date | None = None
    last_order: datetime | None = None
    snapshot_as_of: date | None = None
    snapshot_refreshed: datetime | None = None
    snapshot_meta: dict | None = None
    timezone: str | None = None
    problem: str = ""


def store_facts() -> StoreFacts:
    """Return the data's date range and the latest snapshot, reading the store read-only.

    The store and time zone are the server's settings (``WORKBENCH_STORE`` and
    ``WORKBENCH_CONFIG``, set by ``workbench dashboard``). A store that is missing or cannot be
    read gives a :class:`StoreFacts` with ``problem`` set, never an exception: the home page
    and a failed page must still show.
    """
    # Imported here: workbench.data (DuckDB, Ibis) adds 0.9-2.7 s to the server's 0.7-0.9 s
    # start (three runs each, loaded 2-core machine); only the home page and a failed page need
    # it, and the home page reads it in a thread.
    from workbench.data import connect
    from workbench.data.snapshot import read_snapshot_meta

    try:
        settings = load_settings()
        con = connect(settings=settings)
    except Exception as exc:  # noqa: BLE001 - any store problem becomes a sentence
        _log.warning("home page: store not readable: %s", exc)
        return StoreFacts(problem=str(exc))
    try:
        first = last = None
        if "orders" in con.list_tables():
            orders = con.table("orders")
            row = orders.aggregate(first=orders.ordered_at.min(),
                                   last=orders.ordered_at.max()).to_pandas().iloc[0]
            zone = ZoneInfo(settings.timezone)
            first, last = (_local(row["first"], zone), _local(row["last"], zone))
        meta = read_snapshot_meta(con) or {}
        as_of = meta.get("as_of")
        refreshed = meta.get("refreshed_at")
        return StoreFacts(
            first_order=first.date() if first is not None else None, last_order=last,
            snapshot_as_of=as_of.date() if isinstance(as_of, datetime) else as_of,
            snapshot_refreshed=_local(refreshed, ZoneInfo(settings.timezone)),
            snapshot_meta=meta or None, timezone=settings.timezone)
    except Exception as exc:  # noqa: BLE001
        _log.warning("home page: store not readable: %s", exc)
        return StoreFacts(problem=str(exc))
    finally:
        con.disconnect()


def _local(value: Any, zone: ZoneInfo) -> datetime | None:
    """Return a timestamp from the store as a datetime in the shop's zone (UTC when naive)."""
    if value is None or value != value:  # None or NaT
        return None
    moment = value.to_pydatetime() if hasattr(value, "to_pydatetime") else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(zone)


def latest_report(reports: Path) -> str | None:
    """Return the newest week folder of ``reports`` that holds a finished report, or ``None``."""
    weeks = sorted(p.parent.name for p in reports.glob(f"{_WEEK_FOLDER}/index.html"))
    return weeks[-1] if weeks else None


def _when(moment: datetime | None, language: str) -> str:
    if moment is None:
        return "–"
    return f"{format_date(moment.date(), language=language)} {moment:%H:%M}"


def home_html(*, facts: StoreFacts, notebooks: Path, reports: Path, language: str) -> str:
    """Return the home page: dashboards as cards, the data's dates, the weekly reports.

    Parameters
    ----------
    facts
        The store's date range and snapshot (:func:`store_facts`).
    notebooks
        The folder served; a card is shown for each dashboard found in it.
    reports
        The weekly reports folder served under ``/reports/``.
    language
        ``en`` or ``ko``; the page links the other one (``?language=``), and the cards open
        the dashboards in this one.
    """
    def t(key: str, **fields: object) -> str:
        return html.escape(tr(f"dashboard.home_{key}", language=language, **fields))

    def with_commands(key: str, **commands: str) -> str:
        # Commands are typed, not read: they stay as they are, in <code>, in both languages.
        marks = {name: f"\x00{i}\x00" for i, name in enumerate(commands)}
        text = t(key, **marks)
        for name, mark in marks.items():
            text = text.replace(mark, f"<code>{html.escape(commands[name])}</code>")
        return text

    other = "en" if language == "ko" else "ko"
    present = {p.stem for p in notebooks.glob("*.ipynb")}
    cards = []
    for name in [*(p for p in PAGES if p in present),
                 *sorted(present - set(PAGES) - {""})]:
        if name in PAGES:
            title = tr(f"pages.{name}.title", language=language)
            purpose = tr(f"pages.{name}.purpose", language=language)
        else:
            title, purpose = name.replace("_", " "), ""
        # The page opens in the home page's language (pages read ?language=, ui.page).
        cards.append(
            f'<a class="wb-card" data-page="{html.escape(name)}" '
            f'href="voila/render/{html.escape(name)}.ipynb?language={language}">'
            f"<h2>{html.escape(title)}</h2><p>{html.escape(purpose)}</p>"
            f'<span class="wb-open">{t("open")} →</span></a>')

    if facts.problem or facts.last_order is None:
        data = (f'<p class="wb-data-missing">'
                f'{with_commands("no_data", load="workbench load", sample="workbench sample")}</p>')
    else:
        data = (f'<dl class="wb-facts"><div class="wb-data-range"><dt>{t("data_range")}</dt>'
                f"<dd>{html.escape(format_date(facts.first_order, language=language))} – "
                f"{html.escape(_when(facts.last_order, language))}</dd></div>"
                f'<div class="wb-snapshot"><dt>{t("snapshot")}</dt><dd>')
        if facts.snapshot_as_of is None:
            data += with_commands("no_snapshot", command="workbench refresh")
        else:
            data += t("snapshot_value",
                      as_of=format_date(facts.snapshot_as_of, language=language),
                      refreshed=_when(facts.snapshot_refreshed, language))
        data += "</dd></div></dl>"

    week = latest_report(reports)
    if week is None:
        report = (f'<p class="wb-no-report">{t("no_report")}</p>'
                  f'<pre class="wb-command"><code>workbench report weekly --out '
                  f"{html.escape(str(reports))}</code></pre>")
    else:
        report = (f'<p class="wb-report-links"><a class="wb-latest-report" '
                  f'href="reports/{html.escape(week)}/index.html">{t("latest_report", week=week)}'
                  f'</a><a class="wb-report-archive" href="reports/index.html">{t("archive")}'
                  "</a></p>")

    return (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{t('title')}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,">'
        f"<style>{_CSS}</style></head><body><main>"
        f'<header><a class="wb-switch" lang="{other}" href="?language={other}">'
        f'{t("switch")}</a><h1>{t("title")}</h1><p class="wb-lead">{t("lead")}</p>{data}</header>'
        f'<section class="wb-cards">{"".join(cards)}</section>'
        f'<section class="wb-reports"><h2>{t("reports")}</h2>{report}</section>'
        f'<footer class="wb-home-footer">{t("footer", version=__version__)}</footer>'
        "</main></body></html>")


_CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#e4e7eb;--accent:#2f6fde;--bg:#f5f7fa}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);line-height:1.5;
font-family:system-ui,-apple-system,"Segoe UI","Apple SD Gothic Neo","Malgun Gothic",
"NanumGothic","Noto Sans CJK KR","Noto Sans KR",sans-serif;word-break:keep-all}
main{max-width:1080px;margin:0 auto;padding:40px 24px 32px}
header h1{margin:0 0 4px;font-size:1.9rem}
.wb-switch{float:right;margin-top:10px;color:var(--accent);text-decoration:none;font-weight:600}
.wb-lead{margin:0 0 16px;color:var(--muted)}
.wb-facts{display:flex;flex-wrap:wrap;gap:8px 32px;margin:0 0 28px;padding:12px 16px;
background:#fff;border:1px solid var(--line);border-radius:8px}
.wb-facts dt{font-size:.8rem;color:var(--muted)}
.wb-facts dd{margin:0;font-weight:600}
.wb-data-missing{padding:12px 16px;background:#fff8e1;border:1px solid #f0d58c;border-radius:8px}
.wb-cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:16px}
.wb-card{display:flex;flex-direction:column;padding:18px 20px;background:#fff;color:inherit;
text-decoration:none;border:1px solid var(--line);border-radius:10px;
box-shadow:0 1px 2px rgba(15,23,42,.06);transition:box-shadow .15s,border-color .15s}
.wb-card:hover,.wb-card:focus{border-color:var(--accent);box-shadow:0 4px 14px rgba(47,111,222,.15)}
.wb-card h2{margin:0 0 6px;font-size:1.15rem}
.wb-card p{margin:0 0 12px;color:var(--muted);font-size:.93rem;flex:1}
.wb-open{color:var(--accent);font-weight:600;font-size:.9rem}
.wb-reports{margin-top:32px;padding:18px 20px;background:#fff;border:1px solid var(--line);
border-radius:10px}
.wb-reports h2{margin:0 0 8px;font-size:1.1rem}
.wb-report-links{display:flex;gap:24px;margin:0}
.wb-report-links a{color:var(--accent);font-weight:600;text-decoration:none}
.wb-command{margin:8px 0 0;padding:8px 12px;background:var(--bg);border-radius:6px;
overflow-x:auto}
.wb-home-footer{margin-top:28px;color:var(--muted);font-size:.85rem}
"""


@jinja2.pass_context
def failure_html(context: Any, output: Any) -> str:
    """Return what a page shows for a failed cell: one sentence, a link home, the footer.

    The Jinja filter ``workbench_failure`` of the dashboard template, applied to an ``error``
    output (``ename`` is ``TimeoutError`` when the cell passed the time limit) or to the
    ``stderr`` text Voila writes when the server, not the notebook, failed. The language is
    the page's ``?language=`` (noted in the notebook's metadata by the server), else the
    server's.
    """
    notebook = context.get("nb")
    metadata = getattr(notebook, "metadata", None) or {}
    language = metadata.get("workbench_language") or os.environ.get("WORKBENCH_LANGUAGE", "en")
    language = language if language in ("en", "ko") else "en"
    timed_out = getattr(output, "get", lambda *_: None)("ename") == "TimeoutError"
    key = "dashboard.page_timed_out" if timed_out else "dashboard.page_failed"
    facts = store_facts()
    # Imported here: workbench.ui (ipywidgets, Plotly) adds another 1.5-2.6 s to the server's
    # start (three runs, as above), for a page that failed.
    from workbench.ui.common import footer_html

    # The footer every page ends with (data up to, snapshot, version), as Page.footer.
    footer = footer_html(data_until=facts.last_order, snapshot=facts.snapshot_meta,
                         language=language, timezone=facts.timezone)
    home = html.escape(tr("dashboard.busy_list", language=language))
    return (f'<div class="wb-page-failed" data-reason="{"timeout" if timed_out else "error"}" '
            'style="padding:14px 18px;margin:12px 0;background:#fdecea;border:1px solid '
            '#f5c2c0;border-radius:8px;color:#611a15;font-size:1rem;word-break:keep-all">'
            f"{html.escape(tr(key, language=language))} "
            f'<a href="/" style="color:#611a15;font-weight:600;white-space:nowrap">{home}</a>'
            f"</div>{footer}")
