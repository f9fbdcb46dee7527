"""``workbench dashboard``: serve every notebook as a Voila dashboard on 127.0.0.1.

Voila runs in tree mode on the notebooks folder; its file browser gives way to a home page
(cards for the dashboards in the chosen language, the data's dates, links to the weekly reports
served read-only under ``/reports/``), and each page runs the notebook in a fresh kernel with
sources stripped. Kernels get
``WORKBENCH_MODE=dashboard`` (widgets, not static charts) and the store through
``WORKBENCH_STORE``, so they read the same store as the command, whatever their working folder.

The server is Voila plus the hardening in :mod:`workbench._dashboard_server`: at most
``max_kernels`` open pages (``max_kernels_per_page`` per notebook; beyond that a "busy" page),
only loopback ``Host`` names unless allowed, an optional token, kernels that die with it, and
a spare kernel started ahead for the next page (it counts under ``max_kernels``).
This module checks the options, refuses a busy port, starts that server tied to this process
and prints the address once it answers.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from workbench._dashboard_kernel import parent_death_hook
from workbench.errors import InputError, ParameterError
from workbench.i18n import tr
from workbench.settings import Settings

__all__ = ["LOOPBACK_HOSTS", "TOKEN_VARIABLE", "PortInUseError", "dashboard_url", "host_name",
           "new_token", "serve", "server_command"]

#: Host names always answered: the loopback names a browser on this machine sends.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
#: Environment variable that hands the token to the server (not its command line, which every
#: local user can read in ``ps``); the server removes it so that kernels do not inherit it.
TOKEN_VARIABLE = "WORKBENCH_DASHBOARD_TOKEN"
#: Seconds to wait for the server to answer before giving up (it starts in 2-4 s here).
START_TIMEOUT = 120.0
#: Seconds one cell of a page may run (Voila's ``VoilaExecutor.timeout``); past it the page says
#: it took too long.
CELL_TIMEOUT = 120.0
#: ``--allow-host`` values: a name or IPv4 address (optional port), or an IPv6 address.
_HOST_NAME = re.compile(r"[a-z0-9_.-]+(:\d+)?|\[[0-9a-f:.]+\](:\d+)?|[0-9a-f:.]+", re.IGNORECASE)


class PortInUseError(InputError):
    """The port asked for is taken (by another program or a dashboard still running)."""


def host_name(host: str) -> str:
    """Return the host name of a ``Host`` header or ``--allow-host`` value, lower case, no port.

    Parameters
    ----------
    host
        ``name``, ``name:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address.

    Returns
    -------
    str
        The name as a browser writes it in ``Host`` (IPv6 addresses in brackets).

    Examples
    --------
    >>> host_name("LocalHost:8866"), host_name("[::1]:8866"), host_name("fd00::1")
    ('localhost', '[::1]', '[fd00::1]')
    """
    name = host.strip().lower()
    if name.startswith("["):
        return name.partition("]")[0] + "]"
    if name.count(":") > 1:
        return f"[{name}]"
    return name.partition(":")[0]


def new_token() -> str:
    """Return a random access token (32 URL-safe characters from :mod:`secrets`)."""
    return secrets.token_urlsafe(24)


def dashboard_url(port: int, token: str | None = None) -> str:
    """Return the address to open, with the token when there is one.

    >>> dashboard_url(8866), dashboard_url(8866, "abc-123")
    ('http://127.0.0.1:8866/', 'http://127.0.0.1:8866/?token=abc-123')
    """
    query = f"?token={quote(token, safe='')}" if token else ""
    return f"http://127.0.0.1:{port}/{query}"


def server_command(folder: Path, port: int, *, max_kernels: int = 4,
                   max_kernels_per_page: int = 2, allow_hosts: Sequence[str] = (),
                   language: str = "en", reports: str = "reports",
                   cell_timeout: float = CELL_TIMEOUT) -> list[str]:
    """Return the server's command line (loopback only, no browser, no tracebacks).

    Parameters
    ----------
    folder
        The notebooks folder Voila serves.
    port
        The port; Voila must not move to another one when it is taken (``port_retries=0``).
    max_kernels, max_kernels_per_page
        Caps on kernels for the server and per notebook.
    allow_hosts
        Host names answered besides the loopback ones.
    language
        Language of the home page and of the busy, refusal and failure pages.
    reports
        The weekly reports folder, served read-only under ``/reports/``.
    cell_timeout
        Seconds a page's cell may run before the page shows that it took too long.

    Returns
    -------
    list[str]
        The command; the token, if any, goes through the environment, not here.
    """
    return [
        sys.executable, "-m", "workbench._dashboard_server", str(folder), "--no-browser",
        f"--port={port}", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
        "--VoilaConfiguration.show_tracebacks=False", f"--VoilaExecutor.timeout={cell_timeout:g}",
        "--Voila.tornado_settings=allow_origin=",  # no CORS: only same-origin pages
        # Kernels nobody is connected to (a tab that crashed or lost its network before its
        # shutdown beacon) are culled after 15 idle minutes, freeing their place under the caps.
        "--MappingKernelManager.cull_idle_timeout=900",
        "--MappingKernelManager.cull_interval=60",
        f"--DashboardKernelManager.max_kernels={max_kernels}",
        f"--DashboardKernelManager.max_kernels_per_page={max_kernels_per_page}",
        f"--DashboardServer.language={language}", f"--DashboardServer.reports_dir={reports}",
        *(f"--DashboardServer.allowed_hosts={host}" for host in allow_hosts),
    ]


def serve(*, port: int, settings: Settings, notebooks_path: str | None = None,
          stop_after: float | None = None, max_kernels: int = 4, max_kernels_per_page: int = 2,
          allow_hosts: Sequence[str] = (), token: str | None = None, reports: str = "reports",
          cell_timeout: float = CELL_TIMEOUT) -> int:
    """Run the dashboard server until Ctrl+C (or ``stop_after`` seconds); return its exit code.

    Parameters
    ----------
    port
        Port on 127.0.0.1; a port in use is refused (no silent move to another one).
    settings
        Store, language and settings file handed to the kernels.
    notebooks_path
        The notebooks folder (default: the project's).
    stop_after
        Stop by itself after this many seconds (tests, demos).
    max_kernels, max_kernels_per_page
        Most pages open at once on the server, and of one notebook.
    allow_hosts
        Host names answered besides localhost, 127.0.0.1 and [::1] (e.g. a reverse proxy's).
    token
        ``None``: no token; ``""``: a random one; else this one, required on every request.
    reports
        The weekly reports folder (``workbench report weekly --out``), linked from the home
        page and served read-only under ``/reports/``.
    cell_timeout
        Seconds one cell of a page may run (tests use a small value).

    Returns
    -------
    int
        0 after a normal stop, else the server's exit code.

    Raises
    ------
    PortInUseError
        The port is taken.
    ParameterError
        A limit, host name or token cannot be used.
    """
    _check_options(port, max_kernels, max_kernels_per_page, allow_hosts)
    token = _checked_token(token)
    _check_port_free(port)
    # Imported here: the server process imports this module for its constants, and needs
    # none of the reporting package (0.74-0.78 s to import after this module, three runs).
    from workbench.reporting.notebooks import kernel_environment, notebooks_dir
    from workbench.reporting.run import clean_stale_reports

    clean_stale_reports(reports)  # what a report killed by a reboot left in the reports folder
    folder = notebooks_dir(notebooks_path)
    store = settings.store if "://" in settings.store else str(Path(settings.store).resolve())
    variables = {"WORKBENCH_MODE": "dashboard", "WORKBENCH_STORE": store,
                 "WORKBENCH_LANGUAGE": settings.language}
    if settings.source:
        variables["WORKBENCH_CONFIG"] = settings.source
    command = server_command(folder, port, max_kernels=max_kernels,
                             max_kernels_per_page=max_kernels_per_page, allow_hosts=allow_hosts,
                             language=settings.language, reports=reports,
                             cell_timeout=cell_timeout)
    started = time.monotonic()
    with kernel_environment(**variables):
        env = dict(os.environ)
        env.pop(TOKEN_VARIABLE, None)
        if token:
            env[TOKEN_VARIABLE] = token
        # Stopping the dashboard (Ctrl+C, SIGTERM from a service manager or a test,
        # --stop-after) must stop Voila, which then shuts its kernels down; without the SIGTERM
        # handler the command would die at once and leave Voila and its kernels running. A
        # `kill -9` cannot be handled: for that the child asks Linux for SIGTERM when this
        # process dies (PR_SET_PDEATHSIG), which Voila handles the same way.
        # (Voila is deliberately not put in a new session: its second page view then hangs.)
        proc = subprocess.Popen(command, env=env, preexec_fn=parent_death_hook(signal.SIGTERM))
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            if not _wait_until_listening(proc, port, START_TIMEOUT):
                print(tr("dashboard.not_started", code=proc.returncode), file=sys.stderr)
                return proc.returncode if proc.returncode > 0 else 1
            print(tr("dashboard.serving", url=dashboard_url(port, token), store=store,
                     folder=str(folder)), flush=True)
            hosts = ", ".join([*sorted(LOOPBACK_HOSTS), *allow_hosts])
            print(tr("dashboard.limits", max_kernels=max_kernels,
                     per_page=min(max_kernels_per_page, max_kernels), hosts=hosts), flush=True)
            remaining = None if stop_after is None else max(0.0, stop_after - (
                time.monotonic() - started))
            code = proc.wait(timeout=remaining)
            if code == 0:
                return 0
            # It stops by itself only when killed or crashed; a signal gives a negative code.
            print(tr("dashboard.server_exited", code=code), file=sys.stderr)
            return code if code > 0 else 1
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            _stop(proc)
    return 0


def _check_options(port: int, max_kernels: int, max_kernels_per_page: int,
                   allow_hosts: Sequence[str]) -> None:
    if not 1 <= port <= 65535:
        raise ParameterError(tr("dashboard.port_invalid", port=port))
    for name, value in (("--max-kernels", max_kernels),
                        ("--max-kernels-per-page", max_kernels_per_page)):
        if value < 1:
            raise ParameterError(tr("dashboard.limit_invalid", flag=name, value=value))
    for host in allow_hosts:
        if not _HOST_NAME.fullmatch(host):
            raise ParameterError(tr("dashboard.allow_host_invalid", host=host))


def _checked_token(token: str | None) -> str | None:
    """Return the token to require: ``None`` (none), a new one for ``""``, or ``token``."""
    if token is None:
        return None
    if token == "":
        return new_token()
    # A short token can be guessed by trying: any site the user visits can send requests to
    # 127.0.0.1 from the browser (the Host check stops DNS rebinding, not plain requests).
    if len(token) < 8 or any(ch.isspace() for ch in token):
        raise ParameterError(tr("dashboard.token_invalid", length=len(token)))
    return token


def _check_port_free(port: int) -> None:
    """Raise :class:`PortInUseError` if 127.0.0.1:``port`` cannot be listened on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As tornado does: a port only in TIME_WAIT (a server just stopped) counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUseError(tr("dashboard.port_in_use", port=port,
                                        other=port + 1 if port < 65535 else 8866)) from None
            if exc.errno == errno.EACCES:
                raise ParameterError(tr("dashboard.port_denied", port=port)) from None
            raise


def _wait_until_listening(proc: subprocess.Popen, port: int, timeout: float) -> bool:
    """Wait until the server accepts connections on ``port``; ``False`` if it exited first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc.poll() is None
        except OSError:
            time.sleep(0.2)
    return proc.poll() is None


def _raise_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server: SIGTERM (it shuts its kernels down), then SIGKILL after 10 s.

    Kernels of a killed server die with it (they are started by
    :mod:`workbench._dashboard_kernel`).
    """
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
