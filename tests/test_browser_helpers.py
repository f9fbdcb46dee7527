"""The browser-test helpers: a page that never finishes loading is opened again in a new tab."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.browser import MARKS, chromium_page, free_port, open_dashboard

pytestmark = MARKS


class _HangsOnce(BaseHTTPRequestHandler):
    """The first request hangs (like a Voila page that never finishes), later ones answer."""

    calls = 0
    release = threading.Event()

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        type(self).calls += 1
        if type(self).calls == 1:
            self.release.wait(30)
            return
        body = b"<html><body><div class='wb-ready'>ok</div></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def hanging_server():
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), _HangsOnce)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        _HangsOnce.release.set()
        server.shutdown()
        server.server_close()


def test_a_page_that_never_loads_is_opened_again_in_a_new_tab(hanging_server):
    with chromium_page(viewport={"width": 800, "height": 600}) as page:
        started = time.monotonic()
        with pytest.warns(UserWarning, match="attempt 1 of 2.*new tab"):
            opened = open_dashboard(page, hanging_server, ".wb-ready", attempts=2,
                                    timeout=3_000)
        assert opened is not page and opened.context is page.context
        assert opened.inner_text(".wb-ready") == "ok"
        assert time.monotonic() - started < 30
    assert _HangsOnce.calls >= 2
