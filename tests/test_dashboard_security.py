"""``workbench dashboard`` hardening, against a real server on 127.0.0.1 (issue 13).

Each server serves three one-cell notebooks (a page renders in 1-2 s instead of the real
dashboards' 4-15 s) and is stopped by the test. Requests are raw ``http.client`` requests, so
the ``Host`` header, cookies and the websocket upgrade are exactly what the test says.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

import nbformat
import pytest

from tests.browser import CHROMIUM, chromium_page, free_port
from workbench.cli import _parser
from workbench.dashboard import dashboard_url, host_name

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="process checks read /proc; PR_SET_PDEATHSIG is Linux")

FAKE_KERNEL = "00000000-0000-0000-0000-000000000000"


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("notebooks")
    for name in ("a", "b", "c"):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell(f"print('page {name}')")]
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


@contextlib.contextmanager
def dashboard(folder: Path, tmp: Path, *flags: str, port: int | None = None) -> Iterator[Server]:
    """Run ``workbench dashboard`` on ``folder`` until the block ends; yield it once it listens."""
    port = port or free_port()
    log_path = tmp / f"dashboard-{port}-{time.monotonic_ns()}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.cli", "dashboard", "--port", str(port),
             "--store", str(tmp / "none.duckdb"), "--notebooks-dir", str(folder),
             "--stop-after", "300", *flags],
            stdout=log, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"})
        server = Server(port, proc, log_path)
        try:
            # The command prints its address once the server answers: wait for that line.
            ready = re.compile(rf"^(Dashboards|대시보드): http://127\.0\.0\.1:{port}/", re.M)
            _wait(lambda: ready.search(server.output()) is not None, proc, 60)
            yield server
        finally:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait(condition: Callable[[], bool], proc: subprocess.Popen | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode}")
        time.sleep(0.1)
    raise AssertionError(f"not true within {timeout} s")


def _request(port: int, path: str, *, host: str | None = None, method: str = "GET",
             headers: dict[str, str] | None = None, body: str | None = None
             ) -> tuple[int, http.client.HTTPMessage, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body,
                     headers={"Host": host or f"127.0.0.1:{port}", **(headers or {})})
        response = conn.getresponse()
        if response.status == 101:  # a websocket: the body never ends
            return response.status, response.headers, ""
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def _websocket(port: int, kernel_id: str, *, host: str | None = None,
               cookie: str | None = None) -> int:
    """Return the status of a kernel websocket upgrade request."""
    headers = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    if cookie:
        headers["Cookie"] = cookie
    return _request(port, f"/api/kernels/{kernel_id}/channels?session_id=s1", host=host,
                    headers=headers)[0]


def _cookies(headers: http.client.HTTPMessage) -> dict[str, str]:
    jar = SimpleCookie()
    for line in headers.get_all("Set-Cookie") or []:
        jar.load(line)
    return {name: morsel.value for name, morsel in jar.items()}


def _refusal(body: str) -> str:
    found = re.search(r'<p class="wb-refusal">([^<]*)</p>', body)
    assert found, body[:500]
    return found.group(1).replace("&#x27;", "'")


def _kernel_id(body: str) -> str:
    found = re.search(r'"kernelId": "([0-9a-f-]{36})"', body)
    assert found, body[:500]
    return found.group(1)


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()  # [state, ppid, ...]; the name may hold spaces


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _children(pid: int, module: str) -> list[int]:
    """Return the live child processes of ``pid`` whose command line names ``module``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is None or int(stat[1]) != pid or stat[0] == "Z":
            continue
        with contextlib.suppress(OSError):
            if module in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
    return found


# --------------------------------------------------------------------------- Host check and caps


@pytest.fixture(scope="module")
def limited(notebooks: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A Korean server: 2 kernels at most, 1 per page, one extra host name allowed."""
    with dashboard(notebooks, tmp_path_factory.mktemp("limited"), "--language", "ko",
                   "--max-kernels", "2", "--max-kernels-per-page", "1",
                   "--allow-host", "dash.example.test") as server:
        yield server


@pytest.mark.parametrize("path", ["/", "/voila/static/voila.js", "/voila/render/a.ipynb",
                                  "/voila/api/contents/a.ipynb", "/no/such/page",
                                  f"/api/kernels/{FAKE_KERNEL}", "/reports/index.html",
                                  "/voila/tree", "/workbench/static/plotly.min.js"])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example",
                                  "localhost.evil.example:8866"])
def test_a_foreign_host_is_refused_everywhere(limited, path, host):
    status, _, body = _request(limited.port, path, host=host)
    assert status == 403
    text = _refusal(body)  # Korean, as the server's language
    assert "127.0.0.1" in text and f"--allow-host {host_name(host)}" in text
    assert "응답합니다" in text


def test_loopback_and_allowed_hosts_are_answered_and_websockets_checked(limited):
    for host in ("127.0.0.1", f"127.0.0.1:{limited.port}", "localhost", "LOCALHOST:1234",
                 f"[::1]:{limited.port}", "dash.example.test", "dash.example.test:8443"):
        assert _request(limited.port, "/", host=host)[0] == 200, host
    # The kernel websocket is checked before the kernel is looked up.
    assert _websocket(limited.port, FAKE_KERNEL, host="evil.example") == 403
    assert limited.proc.poll() is None


def test_kernel_caps_busy_page_and_freed_places(limited):
    port = limited.port
    status, headers, body = _request(port, "/voila/render/a.ipynb")
    assert status == 200 and "page a" in body
    kernel_a, xsrf = _kernel_id(body), _cookies(headers)["_xsrf"]

    # The same page again: the per-page cap (1) answers with the busy page, in Korean.
    status, headers, body = _request(port, "/voila/render/a.ipynb?again=1")
    assert status == 503 and headers["Retry-After"] == "30"
    assert "1/1" in _refusal(body) and "탭" in _refusal(body)
    assert _request(port, "/voila/render/b.ipynb")[0] == 200
    # A third page: the server cap (2).
    status, _, body = _request(port, "/voila/render/c.ipynb")
    assert status == 503 and "2/2" in _refusal(body) and "대시보드 탭을 닫거나" in _refusal(body)
    assert "<script" not in body
    server_pid = _children(limited.proc.pid, "workbench._dashboard_server")[0]
    assert len(_children(server_pid, "workbench._dashboard_kernel")) == 2  # no kernel for 503s

    # The kernel websocket: refused for a foreign Host, upgraded for loopback.
    assert _websocket(port, kernel_a, host="evil.example") == 403
    assert _websocket(port, kernel_a) == 101

    # A closed tab's beacon (POST with the page's _xsrf cookie) frees its place at once.
    status, _, _ = _request(port, f"/voila/api/shutdown/{kernel_a}", method="POST",
                            body=f"_xsrf={xsrf}",
                            headers={"Cookie": f"_xsrf={xsrf}",
                                     "Content-Type": "application/x-www-form-urlencoded"})
    assert status == 204
    status, _, body = _request(port, "/voila/render/c.ipynb")
    assert status == 200 and "page c" in body


def test_a_full_server_reclaims_kernels_no_page_uses(notebooks, tmp_path):
    """Idle kernels nobody is connected to (a page that never loaded, a tab closed without its
    beacon) give their place up when the server is full; a connected page keeps its kernel.

    Runs the server module directly to shorten ``stale_after`` from 120 s to 2 s.
    """
    port = free_port()
    with (tmp_path / "server.log").open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench._dashboard_server", str(notebooks), "--no-browser",
             f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
             "--DashboardKernelManager.max_kernels=1", "--DashboardKernelManager.stale_after=2"],
            stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: _listening(port), proc, 60)
            assert _request(port, "/voila/render/a.ipynb")[0] == 200  # no browser connects
            assert _request(port, "/voila/render/b.ipynb")[0] == 503  # a was active just now
            time.sleep(2.5)
            status, _, body = _request(port, "/voila/render/b.ipynb")
            assert status == 200  # a's kernel was reclaimed

            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", f"/api/kernels/{_kernel_id(body)}/channels?session_id=s1",
                         headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                  "Sec-WebSocket-Version": "13",
                                  "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="})
            try:
                assert conn.getresponse().status == 101
                time.sleep(2.5)
                assert _request(port, "/voila/render/c.ipynb")[0] == 503  # b is in use
            finally:
                conn.close()
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


# --------------------------------------------------------------------------- token


def test_token_is_required_on_every_request(notebooks, tmp_path):
    with dashboard(notebooks, tmp_path, "--token") as server:
        port = server.port
        _wait(lambda: "?token=" in server.output(), server.proc, 10)
        url = re.search(rf"http://127\.0\.0\.1:{port}/\?token=(\S+)", server.output())
        assert url, server.output()
        token = url.group(1)
        assert len(token) >= 32

        for path in ("/", "/voila/render/a.ipynb", "/voila/static/voila.js", "/no/such",
                     "/reports/index.html", "/voila/tree", "/workbench/static/plotly.min.js"):
            status, _, body = _request(port, path)
            assert status == 403, path
            assert "?token=" in _refusal(body) and "access token" in _refusal(body)
        assert _request(port, "/?token=wrong-token-value")[0] == 403
        # The host check still comes first.
        assert _request(port, f"/?token={token}", host="evil.example")[0] == 403

        # The printed URL sets a cookie and takes the token out of the address.
        status, headers, _ = _request(port, f"/?token={token}&x=1")
        assert status == 302 and headers["Location"] == "/?x=1"
        cookie = f"workbench-dashboard-{port}={_cookies(headers)[f'workbench-dashboard-{port}']}"
        assert token not in cookie
        assert _request(port, "/", headers={"Cookie": cookie})[0] == 200
        assert _request(port, "/voila/static/voila.js", headers={"Cookie": cookie})[0] == 200
        assert _request(port, "/", headers={"Authorization": f"token {token}"})[0] == 200
        status, _, body = _request(port, "/voila/render/a.ipynb", headers={"Cookie": cookie})
        assert status == 200
        assert _websocket(port, _kernel_id(body)) == 403
        assert _websocket(port, _kernel_id(body), cookie=cookie) == 101
        # Kernels do not inherit the token.
        server_pid = _children(server.proc.pid, "workbench._dashboard_server")[0]
        for kernel in _children(server_pid, "workbench._dashboard_kernel"):
            assert b"WORKBENCH_DASHBOARD_TOKEN" not in Path(f"/proc/{kernel}/environ").read_bytes()


def test_token_flag_values():
    parse = _parser().parse_args
    assert parse(["dashboard"]).token is None
    assert parse(["dashboard", "--token"]).token == ""  # serve() then makes a random one
    assert parse(["dashboard", "--token", "my-own-token"]).token == "my-own-token"
    assert dashboard_url(8866, "a b&c") == "http://127.0.0.1:8866/?token=a%20b%26c"


@pytest.mark.parametrize("args, expected", [
    (["--token", "short"], "at least 8 characters"),
    (["--allow-host", "http://dash.example.com/"], "'--allow-host' expects a host name"),
    (["--port", "70000"], "from 1 to 65535; got 70000"),
], ids=["short-token", "url-as-host", "port-range"])
def test_invalid_options_exit_2(args, expected):
    done = subprocess.run([sys.executable, "-m", "workbench.cli", "dashboard", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert expected in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


# --------------------------------------------------------------------------- busy port, lifetime


@pytest.mark.parametrize("language, expected", [
    ("en", "is already in use"), ("ko", "이미 사용 중입니다")], ids=["en", "ko"])
def test_a_busy_port_is_refused_with_exit_code_2(tmp_path, language, expected):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "workbench.cli", "dashboard", "--port", str(port),
             "--language", language, "--store", str(tmp_path / "none.duckdb")],
            capture_output=True, text=True, timeout=60)
    message = " ".join(done.stderr.split())
    assert done.returncode == 2
    assert str(port) in message and f"--port {port + 1}" in message and expected in message
    assert "Traceback" not in done.stderr and "http://" not in done.stdout


def test_kill_9_leaves_no_server_or_kernel(notebooks, tmp_path):
    port = free_port()
    # 1. The server killed with -9: its kernels die with it, the command says so and exits.
    with dashboard(notebooks, tmp_path, port=port) as server:
        assert _request(port, "/voila/render/a.ipynb")[0] == 200
        voila = _children(server.proc.pid, "workbench._dashboard_server")
        kernels = _children(voila[0], "workbench._dashboard_kernel")
        assert len(voila) == 1 and len(kernels) in (1, 2)  # the page's, and a spare if started
        os.kill(voila[0], signal.SIGKILL)
        _wait(lambda: not any(map(_alive, voila + kernels)), None, 10)
        assert server.proc.wait(timeout=10) != 0
        assert "stopped unexpectedly" in server.output()

    # 2. The command killed with -9, on the same port (free again): the server stops its
    #    kernels and itself.
    with dashboard(notebooks, tmp_path, port=port) as server:
        assert _request(port, "/voila/render/b.ipynb")[0] == 200
        voila = _children(server.proc.pid, "workbench._dashboard_server")
        kernels = _children(voila[0], "workbench._dashboard_kernel")
        assert len(voila) == 1 and len(kernels) in (1, 2)
        try:
            server.proc.kill()
            server.proc.wait(timeout=10)
            _wait(lambda: not any(map(_alive, voila + kernels)), None, 30)
        finally:
            for pid in voila + kernels:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
    _wait(lambda: _bindable(port), None, 15)  # and the port is free for the next start


def _bindable(port: int) -> bool:
    # The kernel may take a moment to drop the sockets of a killed server on a loaded machine.
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# --------------------------------------------------------------------------- a real browser tab


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_closing_a_tab_frees_its_kernel(notebooks, tmp_path):
    with dashboard(notebooks, tmp_path, "--max-kernels", "1") as server, chromium_page() as page:
        base = f"http://127.0.0.1:{server.port}"
        page.goto(base + "/voila/render/a.ipynb", timeout=90_000)
        page.wait_for_selector("text=page a", timeout=90_000)
        # The page registers its beforeunload beacon just before it connects to its kernel.
        _wait(lambda: "Connecting to kernel" in server.output(), server.proc, 30)
        assert _request(server.port, "/voila/render/b.ipynb")[0] == 503
        page.close(run_before_unload=True)  # as a user closing the tab: beforeunload runs
        _wait(lambda: _request(server.port, "/voila/render/b.ipynb")[0] == 200, server.proc, 20)
