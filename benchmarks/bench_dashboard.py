"""Dashboard speed in real Chromium: all eight pages, a widget change on each, and hang counts.

Targets (issue 15, point 3; on a quiet machine, 100k customers): every page renders in <= 5 s
and answers a widget change in <= 1 s; 200 consecutive page loads with zero that never finish.

Serves the notebooks with ``workbench dashboard`` on a sample store (``workbench sample``, then
``workbench refresh``, which also saves the churn model when it can) and measures, in Chromium
driven by Playwright, for each page:

- page: navigation until the page's "done" marker (``.wb-done``, set when the page finished
  computing) and its first chart or result are drawn;
- split of that time: first byte of the HTML (kernel start is before it), end of the HTML
  (the notebook's cells ran in the kernel, the "compute" part is the page's own
  ``.wb-done[data-seconds]``) and drawing in the browser (widgets, charts);
- change: one representative control per page, until the page's marker is replaced by a new
  one (or, for RFM, the segment list changes);
- floor: a one-cell notebook (``print``) served by the same server, the cost of kernel start
  and page load that every dashboard pays; the ratio page / floor is printed.

``--loads N`` (default 200 when given without a number) then makes N consecutive page loads in
one tab, cycling through the pages, every page opened then reloaded in the same tab (the case
of the README's former known issue), and counts loads that do not finish within
``--hang-timeout`` seconds. Peak memory (the server and its kernels together, sampled every
0.5 s, and the largest single process) is printed at the end.

    python benchmarks/bench_dashboard.py --store /tmp/big.duckdb          # timings
    python benchmarks/bench_dashboard.py --store /tmp/big.duckdb --loads  # + 200 loads
    python benchmarks/bench_dashboard.py --customers 2000 --loads 200 --repeat 0  # hangs only
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import psutil

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PAGE_TARGET = 5.0
CHANGE_TARGET = 1.0


@dataclass(frozen=True)
class PageSpec:
    """How to tell a page is drawn and which control to change on it."""

    notebook: str
    ready: str  # CSS selector drawn last (a chart or a result), besides ``.wb-done``
    control: str  # CSS selector of the control changed
    kind: str  # "toggle" (click a button not active), "select" (another option)
    changed: str = ""  # JS predicate (arg: the value before) instead of a new ``.wb-done``
    before: str = ""  # JS expression read before the change, passed to ``changed``


PAGES = [
    PageSpec("overview", ".wb-chart-trend .js-plotly-plot", ".wb-period", "toggle"),
    PageSpec("rfm", ".wb-chart-treemap .js-plotly-plot", ".wb-segment select", "select",
             changed="s => { const e = document.querySelector('.wb-segment-count');"
                     " return e && e.dataset.segment !== s; }",
             before="document.querySelector('.wb-segment-count').dataset.segment"),
    PageSpec("cohorts", ".wb-chart-retention .js-plotly-plot", ".wb-cycle-level", "toggle"),
    PageSpec("products", ".wb-chart-products .js-plotly-plot", ".wb-period", "toggle"),
    PageSpec("clv", ".wb-chart-distribution .js-plotly-plot", ".wb-clv-horizon select",
             "select"),
    PageSpec("churn", ".wb-chart-distribution .js-plotly-plot", ".wb-churn-rule", "toggle"),
    PageSpec("abtest", ".wb-abtest-results table", ".wb-correction select", "select"),
    PageSpec("audience_builder", ".wb-audience-count", ".wb-op", "toggle"),
]
#: Marks the current ``.wb-done`` so that the next one (a new element) can be told apart.
_MARK = ("() => { const d = document.querySelector('.wb-done');"
         " if (d) d.dataset.bench = 'old'; return !!d; }")
_NEW_DONE = "() => !!document.querySelector('.wb-done:not([data-bench])')"
_TIMING = ("() => { const n = performance.getEntriesByType('navigation')[0];"
           " return n ? [n.responseStart / 1000, n.responseEnd / 1000] : [NaN, NaN]; }")


def _wait_for_spare(log_path: Path, timeout: float = 30.0) -> None:
    """Wait until the server has a spare kernel ready (one started and not yet taken).

    Pages are timed as a manager meets them after reading the previous one for a while: the
    server starts its next spare once the page kernels have been quiet for a few seconds
    (``DashboardKernelManager.spare_quiet``), so a page opened at once would time the spare's
    start instead.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if text.count("Spare kernel ") - text.count("uses the spare kernel") > 0:
            return
        time.sleep(0.25)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MemoryWatch:
    """Sample the resident memory of a process tree every ``interval`` seconds (a thread)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.root = psutil.Process(pid)
        self.interval = interval
        self.peak_total = 0
        self.peak_single = 0
        self.peak_kernels = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            sizes, kernels = [], 0
            for proc in procs:
                try:
                    sizes.append(proc.memory_info().rss)
                    kernels += "_dashboard_kernel" in " ".join(proc.cmdline())
                except psutil.Error:
                    pass
            self.peak_total = max(self.peak_total, sum(sizes))
            self.peak_single = max(self.peak_single, max(sizes, default=0))
            self.peak_kernels = max(self.peak_kernels, kernels)


def _change(page, spec: PageSpec, timeout_ms: float) -> float:
    """Change the page's control; return the seconds until the page shows the new result."""
    before = page.evaluate(f"() => {spec.before}") if spec.before else None
    page.evaluate(_MARK)
    control = page.locator(spec.control).first
    t0 = time.perf_counter()
    if spec.kind == "toggle":
        control.locator("button:not(.mod-active)").first.click()
    else:
        current = control.evaluate("s => s.selectedIndex")
        labels = control.locator("option").all_inner_texts()
        control.select_option(label=labels[-1] if current != len(labels) - 1 else labels[0])
    if spec.changed:
        page.wait_for_function(spec.changed, arg=before, timeout=timeout_ms, polling=10)
    else:
        page.wait_for_function(_NEW_DONE, timeout=timeout_ms, polling=10)
    return time.perf_counter() - t0


def _open(page, url: str, spec: PageSpec | None, timeout_ms: float, *,
          reload: bool = False) -> dict[str, float]:
    """Load ``url`` (or reload it) until drawn; return the seconds of each part."""
    t0 = time.perf_counter()
    if reload:
        page.reload(timeout=timeout_ms)
    else:
        page.goto(url, timeout=timeout_ms)
    if spec is None:
        page.wait_for_selector("text=ready", timeout=timeout_ms)
    else:
        # the marker is an empty span: present, never "visible"
        page.wait_for_selector(".wb-done", state="attached", timeout=timeout_ms)
        page.wait_for_selector(spec.ready, timeout=timeout_ms)
    total = time.perf_counter() - t0
    first_byte, html_end = page.evaluate(_TIMING)
    compute = float("nan")
    if spec is not None:
        compute = float(page.locator(".wb-done").first.get_attribute("data-seconds") or "nan")
    return {"total": total, "first_byte": first_byte, "html": html_end, "compute": compute}


def _fmt(xs: list[float]) -> str:
    return f"best {min(xs):.2f} s, median {statistics.median(xs):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="sample store, refreshed (default: generate --customers)")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="timing rounds (0: none)")
    parser.add_argument("--pages", nargs="*", default=[s.notebook for s in PAGES],
                        help="pages to time (default: all eight)")
    parser.add_argument("--loads", type=int, nargs="?", const=200, default=0,
                        help="consecutive page loads counting hangs (default 200 if given)")
    parser.add_argument("--hang-timeout", type=float, default=60.0,
                        help="seconds after which a load counts as never finishing")
    parser.add_argument("--no-refresh", action="store_true",
                        help="use --store's snapshot and churn model as they are")
    args = parser.parse_args()
    # Stopped with SIGTERM (kill, timeout): stop the server and print what was measured.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from workbench.reporting.notebooks import notebooks_dir

    specs = [s for s in PAGES if s.notebook in args.pages]
    work = Path(tempfile.mkdtemp(prefix="bench-dash-"))
    store = Path(args.store) if args.store else work / "shop.duckdb"
    workbench = [sys.executable, "-m", "workbench.cli"]
    if not args.store:
        subprocess.run([*workbench, "sample", "--customers", str(args.customers), "--store",
                        str(store), "-q"], check=True)
    if not (args.store and args.no_refresh):
        t0 = time.perf_counter()
        subprocess.run([*workbench, "refresh", "--store", str(store), "-q"], check=True)
        print(f"workbench refresh: {time.perf_counter() - t0:.1f} s")
    folder = work / "notebooks"
    shutil.copytree(notebooks_dir(), folder)
    blank = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('ready')")])
    blank.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    nbformat.write(blank, folder / "blank.ipynb")

    # Pages are opened one at a time, each in a new tab closed after it; a closed tab's kernel
    # is shut down in the background, so a round may briefly hold two kernels per page (the
    # closing one and the next). The caps leave room for that and nothing more, so a kernel
    # that is not freed shows up as a refused ("busy") page instead of hiding.
    per_page = 2
    max_kernels = (len(specs) + 1) * per_page
    port = _port()
    log_path = work / "server.log"
    log = log_path.open("w")
    server = subprocess.Popen([*workbench, "dashboard", "--port", str(port), "--store",
                               str(store), "--notebooks-dir", str(folder), "--stop-after",
                               "86400", "--max-kernels", str(max_kernels),
                               "--max-kernels-per-page", str(per_page)],
                              stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            urllib.request.urlopen(base, timeout=1)
            break
        except OSError:
            time.sleep(0.2)
    # The server starts a spare kernel for the first page (DashboardKernelManager): time the
    # pages as a visitor meets them once the server has settled, not while it warms up.
    for _ in range(240):
        if "Spare kernel" in log_path.read_text(errors="replace") or server.poll() is not None:
            break
        time.sleep(0.5)
    timeout_ms = args.hang_timeout * 1000
    floor: list[float] = []
    opened: dict[str, list[dict[str, float]]] = {s.notebook: [] for s in specs}
    changed: dict[str, list[float]] = {s.notebook: [] for s in specs}
    failures: list[str] = []
    hangs = refused = loads_done = 0
    load_times: list[float] = []
    try:
        with MemoryWatch(server.pid) as memory, sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for r in range(args.repeat):
                for spec in [None, *specs]:
                    name = "blank" if spec is None else spec.notebook
                    _wait_for_spare(log_path)
                    page = context.new_page()
                    try:
                        parts = _open(page, f"{base}/voila/render/{name}.ipynb", spec,
                                      timeout_ms)
                        if spec is None:
                            floor.append(parts["total"])
                        else:
                            opened[name].append(parts)
                            changed[name].append(_change(page, spec, timeout_ms))
                    except (PlaywrightTimeout, PlaywrightError) as exc:
                        failures.append(f"round {r + 1} {name}: {str(exc).splitlines()[0]}")
                    finally:
                        # as a user closes a tab: the page's beforeunload sends Voila's
                        # shutdown beacon, so its kernel leaves the caps at once
                        page.close(run_before_unload=True)
            if args.loads:
                cycle = specs or [None]
                page = context.new_page()
                for i in range(args.loads):
                    spec = cycle[(i // 2) % len(cycle)]
                    name = "blank" if spec is None else spec.notebook
                    url = f"{base}/voila/render/{name}.ipynb"
                    try:
                        parts = _open(page, url, spec, timeout_ms,
                                      reload=i % 2 == 1 and page.url.startswith(url))
                        load_times.append(parts["total"])
                    except PlaywrightTimeout:
                        busy = page.locator(".wb-refusal").count() > 0
                        refused += busy
                        hangs += not busy
                        print(f"load {i + 1} ({name}, {'reload' if i % 2 else 'open'}): "
                              f"{'refused (busy)' if busy else 'never finished'} within "
                              f"{args.hang_timeout:.0f} s", flush=True)
                        # as a user would: close the tab, open a new one
                        page.close(run_before_unload=True)
                        page = context.new_page()
                    loads_done += 1
                    if (i + 1) % 10 == 0:
                        print(f"  {i + 1} loads, {hangs} never finished, {refused} refused",
                              flush=True)
                page.close()
            browser.close()
    except KeyboardInterrupt:
        print("interrupted: results so far", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()

    print(f"store: {store} (server log: {log_path})")
    if floor:
        print(f"one-cell floor (kernel start + Voila page): {_fmt(floor)}")
    worst = []
    for spec in specs if args.repeat else []:
        runs = opened[spec.notebook]
        if not runs:
            print(f"{spec.notebook:17s} no complete load")
            continue
        total = [x["total"] for x in runs]
        best = min(runs, key=lambda x: x["total"])
        ratio = best["total"] / min(floor) if floor else float("nan")
        ch = changed[spec.notebook]
        worst.append((spec.notebook, min(total), min(ch) if ch else float("nan")))
        print(f"{spec.notebook:17s} page {_fmt(total)} = {ratio:.1f}x floor "
              f"[first byte {best['first_byte']:.2f} s, HTML done {best['html']:.2f} s, "
              f"of which compute {best['compute']:.2f} s] "
              f"(target <= {PAGE_TARGET:.0f} s) | change {_fmt(ch) if ch else 'n/a'} "
              f"(target <= {CHANGE_TARGET:.0f} s)")
    for failure in failures:
        print(f"failed: {failure}")
    if worst:
        over = [f"{n} page {t:.1f} s" for n, t, _ in worst if t > PAGE_TARGET]
        over += [f"{n} change {c:.2f} s" for n, _, c in worst if c > CHANGE_TARGET]
        print("over target (best of rounds): " + (", ".join(over) if over else "none"))
    if args.loads:
        print(f"consecutive loads: {loads_done}, never finished within "
              f"{args.hang_timeout:.0f} s: {hangs}, refused (busy): {refused}"
              + (f", load time {_fmt(load_times)}, worst {max(load_times):.2f} s"
                 if load_times else ""))
    served = log_path.read_text(errors="replace")
    spare_used = served.count("uses the spare kernel")
    cold = served.count("Kernel started:") - served.count("Spare kernel ")
    print(f"page views: {spare_used} took the spare kernel started ahead "
          f"(DashboardKernelManager), {cold} started their own")
    print("cells whose execute_reply the server had to recover (DashboardExecutor): "
          f"{served.count('read it directly')} read from the socket, "
          f"{served.count('going on without it')} never came")
    print(f"peak memory: server and kernels together {memory.peak_total / 2**20:,.0f} MB "
          f"(largest process {memory.peak_single / 2**20:,.0f} MB, at most "
          f"{memory.peak_kernels} kernels at once); CPU cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
