"""What browser tests share: Chromium, a ``workbench dashboard`` server, opening Voila pages.

Opening a page retries in a new tab, with a warning in the test report, when a page does not
finish in time. Voila 0.5.13 used to leave about one page load in ten or twenty unfinished on
this machine (its wait for a cell's reply never woke up); the server's ``DashboardExecutor``
now completes such pages (README, "Pages that never finished loading"), so a warning here is
news worth reading, while a page of ours that never renders still fails after every attempt.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: Debian's Chromium, never a downloaded browser (STACK_NOTES.md).
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
#: ``pytestmark`` of every browser test module.
MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason="Debian's chromium is not installed (make test installs it)"),
]


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until ``url`` answers 200, failing early when the server process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"dashboard server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@contextlib.contextmanager
def dashboard_server(store: Path, log_path: Path, *, stop_after: int = 600,
                     options: tuple[str, ...] = (), start_timeout: float = 60) -> Iterator[str]:
    """Run ``workbench dashboard`` on a free port for ``store``; yield its base URL.

    ``options`` are more command-line options (``--language ko``, ``--reports DIR``, ...);
    ``start_timeout`` is how long the home page may take to answer first.
    The server's log goes to a file: a pipe nobody reads fills up and blocks Voila mid-page.
    """
    port = free_port()
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "dashboard", "--port", str(port),
             "--store", str(store), "--stop-after", str(stop_after), *options],
            stdout=log, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        try:
            wait_http(f"http://127.0.0.1:{port}/", proc, timeout=start_timeout)
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextlib.contextmanager
def chromium_page(**options: Any) -> Iterator[Any]:
    """Yield a page of a headless Chromium (``options`` go to ``Browser.new_context``).

    The page lives in its own context, so :func:`open_dashboard` can open another tab in it
    (``Browser.new_page`` makes a page that owns its context and refuses a second one).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser.new_context(**options).new_page()
        finally:
            browser.close()


def open_dashboard(page: Any, url: str, ready: str, *, attempts: int = 3,
                   timeout: float = 90_000) -> Any:
    """Navigate to ``url`` until ``ready`` (a CSS selector) appears; return the page that did.

    Each retry uses a new tab of the same browser context (same viewport and download settings)
    and a ``retry`` query parameter: Chromium holds a second request for a URL whose first
    response is still open until that one ends (its cache lock), so the same URL would hang too.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(1, attempts + 1):
        target = url if attempt == 1 else f"{url}{'&' if '?' in url else '?'}retry={attempt}"
        try:
            page.goto(target, timeout=timeout)
            page.wait_for_selector(ready, timeout=timeout)
            return page
        except PlaywrightTimeout:
            if attempt == attempts:
                raise
            warnings.warn(f"{url} did not finish loading within {timeout / 1000:.0f} s "
                          f"(attempt {attempt} of {attempts}): "
                          "opening it again in a new tab", stacklevel=2)
            stuck, page = page, page.context.new_page()
            # closing the stuck tab frees its kernel, which the dashboard's per-page cap counts
            stuck.close()
    raise AssertionError("unreachable")
