"""The weekly report: refresh the snapshot, run every report notebook, publish atomically.

``reports/<YYYY>-W<ww>/`` (ISO week of the Monday-Sunday week that ends before ``as_of``)
holds one HTML page per notebook, an ``index.html`` with the headline numbers and ``run.json``.
The folder is built under a temporary name and renamed into place only when every notebook ran,
so a failure leaves every earlier report untouched; the failing notebook is kept under
``reports/_failed/<timestamp>/``.

Two runs into the same folder take turns (``.report.lock``, waiting up to the ``lock_timeout``
setting); each run first removes the build and scratch folders a killed run left behind. A
run never replaces an ``index.html`` or a week folder it did not write (unless ``force``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import nbformat

from workbench import __version__
from workbench.data import connect
from workbench.data.outputs import check_output_folder
from workbench.data.serving import export_serving, pages_store
from workbench.data.snapshot import read_snapshot_meta
from workbench.data.store import hold_lock, lock_if_free
from workbench.dates import last_complete_week, week_label
from workbench.errors import ParameterError, UnsafeOutputError, WorkbenchError
from workbench.i18n import get_language, tr
from workbench.reporting.html import notebook_to_html, report_footer, report_index, week_index
from workbench.reporting.notebooks import REPORT_NOTEBOOKS, kernel_environment, notebooks_dir
from workbench.reporting.params import params_for
from workbench.settings import Settings, load_settings

__all__ = ["ReportError", "WeeklyRun", "clean_stale_reports", "record_headline", "run_notebook",
           "run_weekly"]

_WEEK_FOLDER = "[0-9][0-9][0-9][0-9]-W[0-9][0-9]"


class ReportError(WorkbenchError, RuntimeError):
    """A report notebook failed; the message names it and the failing cell."""


def record_headline(items: list[dict[str, Any]]) -> None:
    """Hand a notebook's headline numbers to the report runner (no-op outside a report run)."""
    target = os.environ.get("WORKBENCH_HEADLINE_FILE")
    if target:
        Path(target).write_text(json.dumps(items, ensure_ascii=False, default=str),
                                encoding="utf-8")


@dataclass(frozen=True, slots=True)
class WeeklyRun:
    """What a weekly run wrote."""

    week: str
    path: Path
    index: Path
    run: dict[str, Any]
    seconds: float

    def summary(self) -> str:
        """One paragraph for people, in the active language."""
        names = ", ".join(tr("report.notebook_seconds", notebook=n["name"],
                             seconds=f"{n['seconds']:.1f}") for n in self.run["notebooks"])
        return tr("report.done", week=self.week, path=str(self.path), notebooks=names,
                  seconds=f"{self.seconds:.1f}", index=str(self.index))


def run_notebook(source: Path, output: Path, parameters: dict[str, Any], *,
                 cwd: Path, timeout: int = 600) -> nbformat.NotebookNode:
    """Execute one notebook with papermill in this environment's kernel and return it."""
    import papermill as pm  # 0.56-0.67 s to import (three runs): only a report run needs it

    return pm.execute_notebook(
        str(source), str(output), parameters=parameters, kernel_name="python3", cwd=str(cwd),
        progress_bar=False, log_output=False, execution_timeout=timeout,
    )


def _failure(exc: Exception, name: str, executed: Path, failed_root: Path) -> ReportError:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    kept_dir = failed_root / stamp
    kept_dir.mkdir(parents=True, exist_ok=True)
    kept = kept_dir / f"{name}.ipynb"
    if executed.exists():
        shutil.copyfile(executed, kept)
    cell = getattr(exc, "exec_count", None) or getattr(exc, "cell_index", "?")
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = str(getattr(exc, "evalue", exc)).strip().splitlines()
    return ReportError(tr("report.notebook_failed", notebook=name, cell=cell, ename=ename,
                          evalue=evalue[0] if evalue else "", kept=str(kept)))


def _publish(build: Path, final: Path) -> None:
    old = None
    if final.exists() or final.is_symlink():
        old = final.with_name(f".old-{final.name}-{os.getpid()}")
        os.rename(final, old)
    os.rename(build, final)
    os.chmod(final, 0o755)  # mkdtemp made it private; a report is for the shop's people
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()


def write_report_index(out_dir: Path, *, language: str, footer: str = "") -> Path:
    """Rewrite ``reports/index.html`` from the ``run.json`` of every week folder."""
    runs = [json.loads(p.read_text(encoding="utf-8"))
            for p in sorted(out_dir.glob(f"{_WEEK_FOLDER}/run.json"))]
    target = out_dir / "index.html"
    tmp = target.with_name(".index.html.tmp")
    tmp.write_text(report_index(runs, language=language, footer=footer), encoding="utf-8")
    os.replace(tmp, target)
    return target


def run_weekly(as_of: date, *, store: str | None = None,
               out_dir: str | os.PathLike[str] = "reports",
               settings: Settings | None = None, notebooks: tuple[str, ...] = REPORT_NOTEBOOKS,
               notebooks_path: str | os.PathLike[str] | None = None,
               progress=None, force: bool = False, prepare=None,
               serve_from: str | os.PathLike[str] | None = None) -> WeeklyRun:
    """Refresh the snapshot and render every report notebook for the week before ``as_of``.

    Parameters
    ----------
    serve_from
        For a ``spark:`` store: the local DuckDB file the lake is copied into after the refresh
        and that the notebooks read (default: ``[spark] serve_from``;
        :mod:`workbench.data.serving`).
    force
        Replace an ``index.html`` or week folder in ``out_dir`` that workbench did not write.
    prepare
        Called as ``prepare(store, settings, language, progress)`` after the refresh and before
        the notebooks run; ``workbench report weekly`` fills the dashboards' page cache with it
        (:func:`workbench.ui.warm.warm_after_refresh`), which the notebooks then read.

    Raises
    ------
    ReportError
        A notebook failed (its executed copy is kept under ``<out_dir>/_failed/``).
    UnsafeOutputError
        ``out_dir`` is a file or the models folder, or holds pages of someone else.
    """
    settings = settings or load_settings()
    store = str(store or settings.store)
    store = store if "://" in store or store.startswith("spark:") else str(Path(store).resolve())
    # A Spark store's notebooks read its serving file; without one, stop before any work.
    serving = pages_store(settings.replace(store=store), serve_from, command="report weekly")
    language = settings.language or get_language()
    out = check_output_folder(out_dir, settings=settings.replace(store=store))
    week = week_label(as_of)
    out.mkdir(parents=True, exist_ok=True)
    with hold_lock(out, out / ".report.lock", settings.lock_timeout, messages="report"):
        _clean_stale(out)
        _check_not_foreign(out, week, force)
        return _run_weekly(as_of, store, out, settings, notebooks, notebooks_path, progress,
                           language, week, prepare, serving)


def clean_stale_reports(out: str | os.PathLike[str] = "reports") -> None:
    """Remove the build and scratch folders killed runs left in ``out``, unless a run is on.

    ``workbench dashboard`` calls this at start, so a report killed by a reboot leaves nothing
    behind even in a week without another run. Best effort: a folder this account cannot
    write is left alone.
    """
    folder = Path(out)
    if not folder.is_dir() or not any(folder.glob(".build-*")) and not any(
            folder.glob(".scratch-*")):
        return
    with lock_if_free(folder / ".report.lock") as free:
        if free:
            _clean_stale(folder)


def _clean_stale(out: Path) -> None:
    """Remove what killed runs left (call with the report lock held)."""
    for pattern in (".build-*", ".scratch-*", ".old-*"):
        for leftover in out.glob(pattern):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)


def _ours(path: Path) -> bool:
    """Tell whether an existing index page or week folder was written by workbench."""
    if path.is_dir():
        return (path / "run.json").is_file() or not any(path.iterdir())
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    # pages written before the generator tag: the index links week folders' index pages
    return "content='workbench'" in head or "/index.html'>" in head


def _check_not_foreign(out: Path, week: str, force: bool) -> None:
    if force:
        return
    for path in (out / "index.html", out / week):
        if (path.exists() or path.is_symlink()) and (path.is_symlink() or not _ours(path)):
            raise UnsafeOutputError(tr("report.foreign_output", path=str(path), out=str(out)))


def _run_weekly(as_of: date, store: str, out: Path, settings: Settings,
                notebooks: tuple[str, ...], notebooks_path: str | os.PathLike[str] | None,
                progress, language: str, week: str, prepare=None,
                serving: str | None = None) -> WeeklyRun:
    # Imported here: the snapshot pulls in every analysis (1.5-1.9 s after this module, three
    # runs, 2 cores), which the dashboard server and page kernels that import this module for
    # clean_stale_reports and record_headline never need.
    from workbench.snapshot import refresh

    folder = notebooks_dir(notebooks_path)
    started = time.perf_counter()
    started_at = datetime.now(UTC)
    snap = refresh(as_of, store=store, settings=settings)
    served = None
    if serving is not None and serving != store:  # a Spark store: copy the lake, then read it
        served = export_serving(store, serving, settings=settings)
        store = str(served.path)
    if prepare is not None:  # the CLI: the dashboards' page cache (workbench.ui.warm)
        prepare(store, settings.replace(store=store), language, progress)
    data_until, snapshot = _provenance(store, settings)
    footer = report_footer(data_until=data_until, snapshot=snapshot, language=language,
                           timezone=settings.timezone)
    build = Path(tempfile.mkdtemp(prefix=f".build-{week}-", dir=out))
    # Executed notebooks hold the pages' data: keep them in a private folder (mode 0700) in
    # the output folder, where the next run finds and removes them if this one is killed.
    scratch = Path(tempfile.mkdtemp(prefix=".scratch-", dir=out))
    try:
        results = [
            _run_one(name, folder, build, scratch, as_of=as_of, store=store, language=language,
                     failed_root=out / "_failed", progress=(progress, i, len(notebooks)),
                     page=(week, footer))
            for i, name in enumerate(notebooks)
        ]
        period_start, period_end = last_complete_week(as_of)
        run = {
            "week": week, "as_of": as_of.isoformat(),
            "period": [period_start.isoformat(), period_end.isoformat()],
            "parameters": {"as_of": as_of.isoformat(), "store": store, "language": language,
                           "timezone": settings.timezone, "currency": settings.currency},
            "package_version": __version__, "fingerprint": snap.fingerprint,
            "snapshot": {"as_of": snap.as_of.isoformat(), "customers": snap.customers,
                         "refreshed_at": str(snapshot.get("refreshed_at")) if snapshot else None},
            "data_until": None if data_until is None else str(data_until),
            "served_from": None if served is None else {
                "lake": str(served.lake), "version": served.version},
            "started_at": started_at.isoformat(), "finished_at": datetime.now(UTC).isoformat(),
            "notebooks": results,
        }
        (build / "run.json").write_text(json.dumps(run, ensure_ascii=False, indent=2),
                                        encoding="utf-8")
        (build / "index.html").write_text(week_index(run, language=language, footer=footer),
                                          encoding="utf-8")
        final = out / week
        _publish(build, final)
    finally:
        shutil.rmtree(build, ignore_errors=True)
        shutil.rmtree(scratch, ignore_errors=True)
    index = write_report_index(out, language=language, footer=footer)
    return WeeklyRun(week, final, index, run, time.perf_counter() - started)


def _provenance(store: str, settings: Settings) -> tuple[Any, dict | None]:
    """Return the last order's time in the shop's zone and the snapshot's metadata."""
    con = connect(store, settings=settings)
    try:
        until = (con.table("orders").ordered_at.max().execute()
                 if "orders" in con.list_tables() else None)
        if until is not None and until == until and getattr(until, "tzinfo", None):
            until = until.tz_convert(settings.timezone)
        return (None if until is None or until != until else until), read_snapshot_meta(con)
    finally:
        con.disconnect()


def _run_one(name: str, folder: Path, build: Path, scratch: Path, *, as_of: date, store: str,
             language: str, failed_root: Path, progress, page: tuple[str, str]) -> dict[str, Any]:
    callback, index, total = progress
    week, footer = page
    stage = tr("report.progress", language=language, notebook=name)
    if callback:
        callback(stage, index, total)
    source = folder / f"{name}.ipynb"
    if not source.exists():
        raise ReportError(tr("report.notebook_missing", path=str(source), folder=str(folder)))
    parameters = {"as_of": as_of.isoformat(), "store": store, "language": language,
                  "mode": "report"}
    with contextlib.suppress(ParameterError):  # a notebook without a dataclass gets them all
        fields = {f.name for f in dataclasses.fields(params_for(name))}
        parameters = {k: v for k, v in parameters.items() if k in fields}
    executed = scratch / f"{name}.ipynb"
    headline_file = scratch / f"{name}.headline.json"
    t0 = time.perf_counter()
    with kernel_environment(PLOTLY_RENDERER="notebook", WORKBENCH_MODE="report",
                            WORKBENCH_HEADLINE_FILE=str(headline_file)):
        try:
            nb = run_notebook(source, executed, parameters, cwd=folder)
        except Exception as exc:  # papermill raises its own and nbclient's errors
            raise _failure(exc, name, executed, failed_root) from exc
    seconds = time.perf_counter() - t0
    title = _page_title(name, language) or _title(nb) or name
    back = ("index.html", tr("report.back", language=language, week=week))
    (build / f"{name}.html").write_text(
        notebook_to_html(nb, title=title, language=language, back=back, footer=footer),
        encoding="utf-8")
    headline = (json.loads(headline_file.read_text(encoding="utf-8"))
                if headline_file.exists() else [])
    if callback:
        callback(stage, index + 1, total)
    return {"name": name, "title": title, "status": "ok", "seconds": round(seconds, 2),
            "html": f"{name}.html", "headline": headline}


def _page_title(name: str, language: str) -> str | None:
    """Return the page's title from the catalogue (``pages.<name>.title``), if it has one."""
    try:
        return tr(f"pages.{name}.title", language=language)
    except KeyError:
        return None


def _title(nb: nbformat.NotebookNode) -> str | None:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return None
