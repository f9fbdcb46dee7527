"""The ``workbench dashboard`` server: Voila with kernel limits, a Host check and a token.

``workbench dashboard`` runs ``python -m workbench._dashboard_server NOTEBOOKS [Voila options]``.
This is Voila 0.5.13 (:class:`voila.app.Voila`) with five additions, each at a hook Voila has:

- **Access** (:class:`_Guard`): every tornado handler Voila registers, and tornado's 404
  handler, is wrapped so that before Voila's code runs, a request whose ``Host`` is not a
  loopback name (nor one allowed with ``--allow-host``) gets 403: DNS rebinding cannot reach
  the pages or the kernel websocket. With a token, a request without it gets 403 as well.
- **Kernel limits** (:class:`DashboardKernelManager`): each page view starts a kernel
  (270-430 MB resident here, overview to churn); beyond ``max_kernels`` for the server or
  ``max_kernels_per_page`` for one notebook, the visitor gets a "busy" page (HTTP 503) instead
  of a new kernel.
- **A spare kernel** (:class:`DashboardKernelManager`): one kernel is kept started with the
  modules every page imports (pandas, Ibis, ipywidgets, plotly, the workbench UI) already
  imported, and the next page view takes it with its own request variables; a page then does
  not wait for a kernel to start nor for those imports (about 2 s on a quiet 2-core machine,
  3-5 s under load). It costs one idle kernel's memory (about 200 MB) and counts under
  ``max_kernels``; ``--DashboardKernelManager.spare_kernels=0`` turns it off.
- **Lifetime** (:class:`DashboardKernel`): kernels start through
  :mod:`workbench._dashboard_kernel`, which kills them when this server dies.
- **Closed tabs** (:func:`_set_xsrf_cookie`): a page gets the cookie its shutdown beacon
  needs, so closing a tab frees its kernel (and its place under the caps) at once.

Why not the options Voila and jupyter_server already have (each tried with Voila 0.5.13 and
jupyter_server 2.21 on this machine):

- ``tornado_settings={'allow_remote_access': False}`` refuses a foreign ``Host`` only in
  ``JupyterHandler`` subclasses: ``/voila/static/...`` and the template files still answered
  200, and a non-loopback IP address cannot be allowed at all.
- ``--token`` (jupyter_server's identity provider) answers a page request without the token
  with a redirect to an English password form rather than refusing it, and static files are
  not covered either.

Why no per-kernel memory limit (``RLIMIT_AS`` or ``RLIMIT_DATA`` in the kernel launcher):
address space is not memory use. Measured on this 2-core machine, the overview kernel holds
272 MB resident in 2.6 GB of address space (1.5 GB ``VmData``), the churn kernel 433 MB in
7.5 GB (5.9 GB ``VmData``); thread stacks and per-thread arenas (DuckDB, OpenBLAS) grow with
the number of cores. A limit loose enough never to break a normal page on a large machine would
not bound real memory, and a tight one turns a page into "There was an error". The kernel caps
bound memory instead: at most ``max_kernels`` kernels at once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import html
import json
import os
import posixpath
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode

import plotly
import tornado.ioloop
import tornado.web
import tornado.websocket
import voila.notebook_renderer
import zmq
from jupyter_server._tz import utcnow
from jupyter_server.services.kernels.kernelmanager import (
    AsyncMappingKernelManager,
    ServerKernelManager,
)
from jupyter_server.utils import url_path_join
from plotly.offline import get_plotlyjs_version
from traitlets import Float, Integer, List, Unicode, default
from voila.app import Voila
from voila.execute import VoilaExecutor
from voila.handler import VoilaHandler
from voila.tornado.treehandler import TornadoVoilaTreeHandler

from workbench._dashboard_home import home_html, store_facts
from workbench.dashboard import LOOPBACK_HOSTS, TOKEN_VARIABLE, host_name
from workbench.i18n import tr

__all__ = ["DashboardExecutor", "DashboardKernel", "DashboardKernelManager", "DashboardServer",
           "HomeHandler", "KernelLimitReached", "PlotlyHandler", "ReportsHandler", "main",
           "plotly_src"]

#: Seconds a refused visitor is told to wait (``Retry-After``): a closed tab frees its kernel
#: at once, and a page being opened holds one only while it renders (seconds).
RETRY_AFTER = 30
#: The dashboards' page template (Voila's "lab" without outside requests or Voila's error text).
TEMPLATE_DIR = Path(__file__).with_name("_dashboard_template")
#: What a spare kernel imports while it waits for a page: what every page's first cells import
#: (``import workbench as wb``, ``wb.reporting.*Params``, ``wb.ui.show_*``), the store's
#: backend, plotly's figure class and the analyses (SciPy and scikit-learn for CLV, churn and
#: A/B). With their results kept in the page cache, importing the analyses was most of what the
#: CLV and churn pages still waited for (2.3 s of churn's 7.2 s at 100k on a quiet machine).
#: The price: 3.7 s more to start a spare and ~92 MB more per page kernel, and a page opened
#: while the next spare still imports waits for it (back to back within seconds: first byte
#: 5-7 s under load); a manager reading a page leaves the spare that time.
SPARE_MODULES = ["pandas", "ibis", "ibis.backends.duckdb", "ipywidgets", "workbench.data",
                 "workbench.reporting", "workbench.ui", "workbench.viz.style",
                 "plotly.graph_objs._figure", "workbench.kpi", "workbench.rfm", "workbench.clv",
                 "workbench.churn", "workbench.abtest", "workbench.ui.cache"]
#: Where pages load plotly.js from (served from the plotly package, see :class:`PlotlyHandler`).
PLOTLY_PATH = "/workbench/static/plotly.min.js"
#: JupyterLab extensions a page does not load: charts are drawn by the page's own plotly.js
#: (:mod:`workbench.viz.embed`), so Plotly's renderer (a 4.7 MB bundle fetched after the HTML,
#: drawing each chart twice) and anywidget (Plotly's ``FigureWidget``, unused) are not needed.
EXTENSION_DENYLIST = ["jupyterlab-plotly", "anywidget"]


class KernelLimitReached(tornado.web.HTTPError):
    """A page view was refused a kernel because a cap is reached (HTTP 503).

    Parameters
    ----------
    scope
        ``"server"`` (``max_kernels``) or ``"page"`` (``max_kernels_per_page``).
    open_pages
        How many kernels are running or starting in that scope.
    limit
        The cap that was reached.
    """

    def __init__(self, scope: str, open_pages: int, limit: int) -> None:
        super().__init__(503, "kernel limit reached: %s %d of %d", scope, open_pages, limit)
        self.scope = scope
        self.open_pages = open_pages
        self.limit = limit


class _Refused(tornado.web.HTTPError):
    """A request refused by the access check (HTTP 403), with the sentence to show."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(403, "refused: %s", reason)
        self.text = text


@dataclass(frozen=True)
class _Access:
    """Who may use the server: the host names answered and the token (``""``: none)."""

    hosts: frozenset[str]
    token: str
    cookie: str
    port: int
    language: str

    def refusal(self, handler: tornado.web.RequestHandler) -> _Refused | None:
        """Return why ``handler``'s request is refused, or ``None`` when it may go on."""
        host = host_name(handler.request.host)
        if host not in self.hosts:
            return _Refused("host", tr("dashboard.forbidden_host", language=self.language,
                                       host=host[:80], port=self.port))
        if self.token and not self._has_token(handler):
            return _Refused("token", tr("dashboard.forbidden_token", language=self.language))
        return None

    def _has_token(self, handler: tornado.web.RequestHandler) -> bool:
        given = handler.get_query_argument("token", None)
        if given is None:
            scheme, _, value = handler.request.headers.get("Authorization", "").partition(" ")
            given = value.strip() if scheme.lower() == "token" else None
        if given is not None:
            return hmac.compare_digest(given.encode(), self.token.encode())
        # The cookie holds no token, only a value signed with this server's random
        # cookie_secret: it cannot be forged, and it is worthless after a restart.
        return handler.get_signed_cookie(self.cookie) == b"1"


class _Guard:
    """Mixin put in front of every handler class Voila registers (see :func:`_guarded`)."""

    def prepare(self, *args: Any, **kwargs: Any) -> Any:
        handler: tornado.web.RequestHandler = self  # type: ignore[assignment]
        access: _Access = handler.settings["workbench_access"]
        refused = access.refusal(handler)
        if refused is not None:
            raise refused
        websocket = isinstance(handler, tornado.websocket.WebSocketHandler)
        if access.token and handler.get_query_argument("token", None) is not None:
            # Lax, not Strict: a link to the printed URL opened from another site (chat, mail)
            # must still set the cookie; cross-site subrequests and websockets never carry it.
            handler.set_signed_cookie(access.cookie, "1", httponly=True, samesite="Lax")
            if handler.request.method == "GET" and not websocket:
                # Take the token out of the address bar, history and Referer headers.
                rest = [(k, v) for k in handler.request.query_arguments if k != "token"
                        for v in handler.get_query_arguments(k)]
                handler.redirect(handler.request.path + ("?" + urlencode(rest) if rest else ""))
                return None
        prepared = super().prepare(*args, **kwargs)  # type: ignore[misc]
        if isinstance(handler, VoilaHandler):
            return _set_xsrf_cookie(handler, prepared)
        return prepared

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        handler: tornado.web.RequestHandler = self  # type: ignore[assignment]
        error = kwargs.get("exc_info", (None, None, None))[1]
        language = handler.settings["workbench_access"].language
        if isinstance(error, _Refused | KernelLimitReached):
            # A refusal is about this moment: a cached one would outlive a freed place.
            handler.set_header("Cache-Control", "no-store")
        if isinstance(error, _Refused):
            handler.finish(_page(tr("dashboard.forbidden_title", language=language), error.text,
                                 language, links=False))
        elif isinstance(error, KernelLimitReached):
            key = "dashboard.busy_server" if error.scope == "server" else "dashboard.busy_page"
            text = tr(key, language=language, open=error.open_pages, limit=error.limit)
            handler.set_header("Retry-After", str(RETRY_AFTER))
            handler.finish(_page(tr("dashboard.busy_title", language=language), text, language,
                                 links=True))
        elif isinstance(handler, tornado.websocket.WebSocketHandler) or not hasattr(
                handler, "finish"):
            super().write_error(status_code, **kwargs)  # type: ignore[misc]
        else:
            # Voila's own error page is English and loads font-awesome from a CDN; tornado has
            # already logged the details.
            if status_code == 404:
                title = tr("dashboard.not_found_title", language=language)
                text = tr("dashboard.not_found", language=language)
            else:
                title = tr("dashboard.error_title", language=language)
                text = tr("dashboard.error", language=language, status=status_code)
            handler.finish(_page(title, text, language, links=True, retry=status_code != 404))


async def _set_xsrf_cookie(handler: tornado.web.RequestHandler, prepared: Any) -> None:
    """Finish Voila's ``prepare``, then give the page the ``_xsrf`` cookie.

    A page's beforeunload beacon (POST voila/api/shutdown/<kernel>) sends the ``_xsrf``
    cookie's value, but Voila 0.5.13 never sets that cookie, so the request was refused
    ("_xsrf argument missing") and a closed tab's kernel lived on until culled after 15 idle
    minutes, holding a place under the caps. Reading ``xsrf_token`` sets the cookie (after
    jupyter_server's ``prepare``, which it needs), and closing a tab frees its kernel at once.
    """
    if prepared is not None:
        await prepared
    handler.xsrf_token  # noqa: B018


def _page_language(handler: tornado.web.RequestHandler, notebook: Any, cwd: str) -> Any:
    """Note a page's ``?language=`` in its notebook's metadata, for its failure sentence.

    Voila's prelaunch hook: the page itself reads the language from ``$QUERY_STRING`` in its
    kernel (:func:`workbench.ui.page.url_language`); the template's ``workbench_failure``
    filter runs in this server and reads it here instead.
    """
    asked = handler.get_query_argument("language", "")
    if asked in ("en", "ko"):
        notebook.metadata["workbench_language"] = asked
    return notebook


def _guarded(cls: type) -> type:
    """Return ``cls`` with :class:`_Guard` in front (same name, for Voila's logs)."""
    return type(cls.__name__, (_Guard, cls), {"__module__": __name__})


def _page(title: str, text: str, language: str, *, links: bool, retry: bool = True) -> str:
    """Return the small HTML page of a refused request (no scripts, no outside resources)."""
    extra = ""
    if links:
        home = html.escape(tr("dashboard.busy_list", language=language))
        again = html.escape(tr("dashboard.busy_retry", language=language))
        parts = [f'<a href="">{again}</a>'] if retry else []
        extra = "<p>" + " · ".join([*parts, f'<a href="/">{home}</a>']) + "</p>"
    return (f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            "<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;"
            "padding:0 1em;line-height:1.5;color:#222}</style></head><body>"
            f'<h1>{html.escape(title)}</h1><p class="wb-refusal">{html.escape(text)}</p>'
            f"{extra}</body></html>")


def _page_key(env: dict[str, str]) -> str:
    """Return the notebook a kernel is started for, from the request path Voila puts in its env.

    ``start_kernel`` is only told the notebook's folder; the page is in ``SCRIPT_NAME``
    (``/voila/render/overview.ipynb``). Decoding and normalising it keeps ``%6Fverview.ipynb``
    or ``./overview.ipynb`` from counting as another page.

    >>> _page_key({"SCRIPT_NAME": "/voila/render/./%6Fverview.ipynb"})
    '/voila/render/overview.ipynb'
    """
    return posixpath.normpath(unquote(env.get("SCRIPT_NAME", "")))


class DashboardKernelManager(AsyncMappingKernelManager):
    """Voila's kernel manager with a cap per server and per notebook.

    Every page view starts a kernel (Voila's render handler is the only place that starts
    one; the REST endpoint that starts kernels is not served). A start beyond a cap first
    reclaims kernels no page uses (:meth:`_reclaim`), then raises :class:`KernelLimitReached`
    before anything is spawned, and the visitor gets the busy page. Starts still in progress
    count, so concurrent requests cannot overshoot the cap.

    A page view takes the spare kernel when there is one (:meth:`_take_spare`; it waits for a
    spare still starting, which is never slower than starting a kernel); a new spare is started
    once no page kernel is busy and the server cap leaves room for it (:meth:`_keep_spare`).
    """

    max_kernels = Integer(4, config=True, help="Most kernels (open pages) at once.")
    max_kernels_per_page = Integer(2, config=True,
                                   help="Most kernels of one notebook at once.")
    stale_after = Float(120.0, config=True,
                        help="Seconds idle and unconnected after which a kernel is shut down "
                             "when a cap is reached.")
    spare_kernels = Integer(1, config=True,
                            help="Kernels kept started for the next page views, with the "
                                 "modules every page imports already imported (0 or 1). A "
                                 "spare counts under max_kernels.")
    spare_modules = List(Unicode(), SPARE_MODULES, config=True,
                         help="Modules a spare kernel imports while it waits.")
    spare_quiet = Float(3.0, config=True,
                        help="Seconds every page kernel must have been quiet (no message, such "
                             "as the widgets the browser is still drawing) before a spare "
                             "starts.")

    @default("kernel_manager_class")
    def _default_kernel_manager_class(self) -> str:
        return f"{__name__}.DashboardKernel"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._page_of: dict[str, str] = {}
        self._starting: Counter[str] = Counter()
        #: The spare kernel: a task giving its id once started and warmed (None if it failed).
        self._spare: asyncio.Task[str | None] | None = None
        self._spare_env: dict[str, str] = {}
        self._spare_watch: asyncio.Task[None] | None = None
        self._spare_wake = asyncio.Event()

    async def start_kernel(self, *args: Any, **kwargs: Any) -> str:
        """Start a kernel unless a cap is reached (then raise :class:`KernelLimitReached`)."""
        page = _page_key(kwargs.get("env") or {})
        try:
            self._reserve(page)
        except KernelLimitReached:
            if not await self._reclaim():
                raise
            self._reserve(page)
        try:
            kernel_id = await self._take_spare(kwargs)
            if kernel_id is None:
                kernel_id = await super().start_kernel(*args, **kwargs)
        finally:
            self._starting[page] -= 1
        self._page_of[kernel_id] = page
        self.watch_spare()
        return kernel_id

    # ------------------------------------------------------------------ the spare kernel
    def watch_spare(self) -> None:
        """Keep a spare kernel ready (started by the server, then after each page view)."""
        if self.spare_kernels <= 0:
            return
        if self._spare_watch is None or self._spare_watch.done():
            self._spare_watch = asyncio.ensure_future(self._keep_spare())
        else:
            self._spare_wake.set()  # a page took the spare: look again now

    async def _keep_spare(self) -> None:
        """Start a spare when none is there, no page kernel is busy and the caps leave room.

        A page's kernel runs the notebook on one core while the browser draws on the other:
        a spare started then would slow that page, so it waits until every page kernel is idle.
        While it waits unused, its activity time is kept fresh so the idle culler leaves it.
        """
        while True:
            spare = self._spare
            if spare is not None and spare.done():
                kernel_id = spare.result() if not spare.cancelled() else None
                if kernel_id is None:
                    await asyncio.sleep(60)  # starting one failed (logged): not in a loop
                if kernel_id is None or kernel_id not in self:
                    self._spare = spare = None  # failed, or culled: start another
                else:
                    self.get_kernel(kernel_id).last_activity = utcnow()
            if spare is None:
                self._page_of = {k: p for k, p in self._page_of.items() if k in self}
                used = len(self._page_of) + sum(self._starting.values())
                # A page kernel is idle once its notebook ran, while the browser still draws
                # its widgets and charts (1-2.5 s at 100k, messages to the kernel); importing
                # the spare's modules then took a core from Chromium (the one-cell page: 2.5 s
                # -> 3.8 s). So every page kernel must also have been quiet for spare_quiet.
                now = utcnow()
                busy = sum(self._starting.values()) > 0 or any(
                    getattr(self.get_kernel(k), "execution_state", "") != "idle"
                    or (now - self.get_kernel(k).last_activity).total_seconds()
                    < self.spare_quiet
                    for k in self._page_of)
                if used + 1 <= self.max_kernels and not busy:
                    self._spare = asyncio.ensure_future(self._start_spare())
            self._spare_wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._spare_wake.wait(),
                                       0.5 if self._spare is None else 30)

    async def _start_spare(self) -> str | None:
        """Start a kernel as Voila would for a page in the notebooks folder, then warm it."""
        env = {**os.environ, "VOILA_PREHEAT": "False"}
        kernel_id = None
        try:
            kernel_id = await super().start_kernel(kernel_name=self.default_kernel_name, path="",
                                                   env=env)
            code = ("import importlib as _wb_importlib\n"
                    f"for _wb_module in {list(self.spare_modules)!r}:\n"
                    "    _wb_importlib.import_module(_wb_module)\n"
                    "del _wb_importlib, _wb_module\n")
            if not await self._run_silently(kernel_id, code):
                raise RuntimeError("the spare kernel could not import its modules")
        except Exception:
            self.log.warning("No spare kernel: starting one failed", exc_info=True)
            if kernel_id is not None and kernel_id in self:
                await self.shutdown_kernel(kernel_id)
            return None
        self._spare_env = env
        self.log.info("Spare kernel %s ready", kernel_id)
        return kernel_id

    async def _take_spare(self, kwargs: dict[str, Any]) -> str | None:
        """Return the spare kernel made ready for this page view, or ``None`` (start one).

        The spare was started with this server's environment in the notebooks folder; the
        page's request variables (``QUERY_STRING`` with the page's language, ``SCRIPT_NAME``,
        ``VOILA_REQUEST_URL`` ...) and folder are set in it before the notebook runs.
        """
        spare, self._spare = self._spare, None
        if spare is None or kwargs.get("kernel_name", self.default_kernel_name) != (
                self.default_kernel_name):
            self._spare = spare
            return None
        kernel_id = await spare
        if kernel_id is None or kernel_id not in self:
            return None
        env = kwargs.get("env") or {}
        changed = {k: v for k, v in env.items() if self._spare_env.get(k) != v}
        gone = [k for k in self._spare_env if k not in env]
        cwd = self.cwd_for_path(kwargs.get("path") or "")
        # The values travel base64-encoded: no quoting, and nothing IPython's input
        # transformations could read as syntax.
        data = base64.b64encode(json.dumps({"set": {k: str(v) for k, v in changed.items()},
                                            "unset": gone, "cwd": cwd}).encode()).decode()
        code = ("def _wb_request(data):\n"
                "    import base64, json, os\n"
                "    request = json.loads(base64.b64decode(data))\n"
                "    os.environ.update(request['set'])\n"
                "    for name in request['unset']:\n"
                "        os.environ.pop(name, None)\n"
                "    os.chdir(request['cwd'])\n"
                f"_wb_request('{data}')\n"
                "del _wb_request\n")
        if not await self._run_silently(kernel_id, code):
            await self.shutdown_kernel(kernel_id)
            return None
        kernel = self.get_kernel(kernel_id)
        kernel.last_activity = utcnow()
        self.log.info("Page %s uses the spare kernel %s", _page_key(env), kernel_id)
        return kernel_id

    async def _run_silently(self, kernel_id: str, code: str, timeout: float = 120.0) -> bool:
        """Run ``code`` in a kernel without output or history; return whether it succeeded."""
        client = self.get_kernel(kernel_id).client()
        client.start_channels()
        try:
            await client.wait_for_ready(timeout=timeout)
            reply = await client.execute_interactive(code, silent=True, store_history=False,
                                                     timeout=timeout,
                                                     output_hook=lambda _msg: None)
            if reply["content"]["status"] != "ok":
                self.log.warning("Setup code in kernel %s: %s %s", kernel_id,
                                 reply["content"].get("ename"), reply["content"].get("evalue"))
            return reply["content"]["status"] == "ok"
        except Exception:
            self.log.warning("Running setup code in kernel %s failed", kernel_id, exc_info=True)
            return False
        finally:
            client.stop_channels()

    async def shutdown_kernel(self, kernel_id: str, *args: Any, **kwargs: Any) -> None:
        """Shut a kernel down; its place under the caps is free at once, not when it ended.

        A tab reloaded in place sends its page's shutdown beacon and at once asks for the page
        again: while the old kernel was still counted as it stopped, that request got the busy
        page (seen in tests/test_dashboard_browser.py's reload after a refresh).
        """
        self._page_of.pop(kernel_id, None)
        await super().shutdown_kernel(kernel_id, *args, **kwargs)

    async def _reclaim(self) -> int:
        """Shut down kernels no page uses; return how many.

        A kernel nobody is connected to that has sat idle for ``stale_after`` seconds belongs
        to a tab closed without its shutdown beacon (browser crash, lost network) or to a page
        that never finished loading (the Voila hang in the README): no one can use it, and
        waiting for the 15-minute idle cull would keep visitors on the busy page. Rendering
        pages are busy or recently active, and open pages are connected, so neither is taken.
        """
        now = utcnow()
        stale = []
        for kernel_id in [k for k in self._page_of if k in self]:
            kernel = self.get_kernel(kernel_id)
            if (self._kernel_connections.get(kernel_id, 0) == 0
                    and getattr(kernel, "execution_state", "") == "idle"
                    and (now - kernel.last_activity).total_seconds() >= self.stale_after):
                stale.append(kernel_id)
        for kernel_id in stale:
            self.log.info("Reclaiming kernel %s: idle and unconnected for %.0f s or more",
                          kernel_id, self.stale_after)
            await self.shutdown_kernel(kernel_id)
        return len(stale)

    def _reserve(self, page: str) -> None:
        # No await in here: the check and the reservation happen in one step of the event loop.
        self._page_of = {k: p for k, p in self._page_of.items() if k in self}  # drop ended
        total = len(self._page_of) + sum(self._starting.values())
        if total >= self.max_kernels:
            raise KernelLimitReached("server", total, self.max_kernels)
        same = sum(p == page for p in self._page_of.values()) + self._starting[page]
        if same >= self.max_kernels_per_page:
            raise KernelLimitReached("page", same, self.max_kernels_per_page)
        self._starting[page] += 1


class DashboardKernel(ServerKernelManager):
    """A kernel started through :mod:`workbench._dashboard_kernel` (it dies with the server)."""

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        """Return the kernel command with ``-m ipykernel_launcher`` replaced by our launcher."""
        cmd = super().format_kernel_cmd(extra_arguments)
        for i in range(len(cmd) - 1):
            if cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
                return [*cmd[:i + 1], "workbench._dashboard_kernel", *cmd[i + 2:]]
        self.log.warning("kernel %r is not started by ipykernel_launcher: it will not stop by "
                         "itself if the dashboard server is killed", cmd)
        return cmd



class DashboardExecutor(VoilaExecutor):
    """Voila's cell executor that does not wait for ever on a reply the kernel already gave.

    The page that never finished loading (README's former "known issue"): Voila runs a page's
    cells with nbclient, which waits for two things per cell, the kernel's ``idle`` status on
    IOPub (after all the cell's output) and the ``execute_reply`` on the shell channel. Caught
    in the act on this machine (Voila 0.5.13, nbclient 0.11, jupyter_client 8.10, pyzmq 27.3;
    4 pages that never finished in 33 loads of the overview page in reload loops, 2 cores
    under a load average of 9-18; asyncio task dump of the server, ``py-spy`` of the kernel):
    the kernel had run the last cell and was idle, its idle status had arrived, and Voila's
    task sat in ``_async_poll_for_reply`` on a shell-socket poll that never completed, not
    even after ``VoilaExecutor.timeout`` (120 s). So the HTML response never ended, and
    Chromium, which holds a second request for the same address until the first one ends,
    kept a reload of the page blank too. With this executor, the reply was then found queued
    in the socket (the poll had missed its arrival): once in 66 loads of the seven pages.

    ipykernel sends a cell's ``execute_reply`` before its ``idle`` status, so once ``idle`` has
    arrived the reply is read directly from the socket when the poll misses it; if none is
    there within :attr:`reply_grace` seconds, the cell counts as finished with status ``ok``
    (its outputs, errors included, came on IOPub and are kept). Either way a warning goes to
    the server log and the page completes.
    """

    #: Seconds to wait for ``execute_reply`` after the cell's ``idle`` status arrived.
    reply_grace = 5.0

    async def _async_poll_for_reply(self, msg_id: str, cell: Any, timeout: int | None,
                                    task_poll_output_msg: asyncio.Future[Any],
                                    task_poll_kernel_alive: asyncio.Future[Any]) -> dict:
        reply = asyncio.ensure_future(super()._async_poll_for_reply(
            msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive))
        await asyncio.wait({reply, task_poll_output_msg}, return_when=asyncio.FIRST_COMPLETED)
        deadline = time.monotonic() + self.reply_grace
        while not reply.done() and time.monotonic() < deadline:
            await asyncio.wait({reply}, timeout=0.25)
            if reply.done():
                break
            # The reply may already sit in the socket while the poll waits on: read it directly.
            found = self._read_reply_now(msg_id)
            if found is not None:
                reply.cancel()
                task_poll_kernel_alive.cancel()
                self.log.warning("execute_reply was waiting in the shell socket unnoticed; "
                                 "read it directly")
                return found
        if reply.done():
            return reply.result()
        reply.cancel()
        task_poll_kernel_alive.cancel()
        if not task_poll_output_msg.cancelled() and task_poll_output_msg.exception():
            raise task_poll_output_msg.exception()  # type: ignore[misc]
        self.log.warning("No execute_reply %.0f s after the kernel finished the cell (idle); "
                         "going on without it", self.reply_grace)
        return {"parent_header": {"msg_id": msg_id}, "header": {}, "metadata": {},
                "content": {"status": "ok", "execution_count": None}}

    def _read_reply_now(self, msg_id: str) -> dict | None:
        """Return the reply to ``msg_id`` if it is queued in the shell socket, without waiting."""
        channel = self.kc.shell_channel
        socket = channel.socket
        while socket is not None and socket.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            frames = socket.recv_multipart(zmq.NOBLOCK)
            if isinstance(frames, asyncio.Future):  # zmq.asyncio: done at once with NOBLOCK
                if not frames.done():
                    frames.cancel()
                    return None
                try:
                    frames = frames.result()
                except zmq.Again:
                    return None
            _, message = channel.session.feed_identities(frames)
            msg = channel.session.deserialize(message)
            if msg["parent_header"].get("msg_id") == msg_id:
                return msg
        return None

def plotly_src(base_url: str) -> str:
    """Return the address of the served plotly.js, versioned so browsers cache it for good.

    A template filter (``{{ resources.base_url | workbench_plotly_src }}``).
    """
    return (url_path_join(base_url or "/", PLOTLY_PATH)
            + f"?v={quote(get_plotlyjs_version(), safe='')}")


class PlotlyHandler(tornado.web.StaticFileHandler):
    """plotly.js from the installed plotly package, the only file served from its folder.

    Pages load it in their head (the template's ``html_head_js`` block) while their kernel is
    still running the notebook, and draw their charts with it. With the version in the address
    (:func:`plotly_src`) tornado lets the browser cache it for good, so later pages neither
    download nor compile it again.
    """

    def initialize(self) -> None:  # type: ignore[override]
        """Serve the plotly package's data folder (the route admits only ``plotly.min.js``)."""
        super().initialize(path=str(Path(plotly.__file__).parent / "package_data"))


class HomeHandler(tornado.web.RequestHandler):
    """The home page at ``/`` (instead of Voila's file browser): see :mod:`_dashboard_home`."""

    def initialize(self, notebooks: str, reports: str) -> None:
        """Keep the folders served (called by tornado with the route's arguments)."""
        self.notebooks = Path(notebooks)
        self.reports = reports

    async def get(self) -> None:
        """Answer with the home page; the store is read in a thread, off the event loop."""
        facts = await asyncio.get_running_loop().run_in_executor(None, store_facts)
        language = self.get_query_argument("language", "")  # the page's switch link
        if language not in ("en", "ko"):
            language = self.settings["workbench_access"].language
        self.set_header("Cache-Control", "no-store")  # the dates change with every refresh
        self.finish(home_html(facts=facts, notebooks=self.notebooks, reports=Path(self.reports),
                              language=language))


class ReportsHandler(tornado.web.StaticFileHandler):
    """The weekly reports folder, read-only, under ``/reports/``.

    Tornado already refuses a path that leaves the folder (``..``, encoded or not: 403). On top
    of that, hidden and underscore entries are not served (``.scratch-*`` holds executed
    notebooks with customer data, ``_failed/`` the notebooks of failed runs, ``.report.lock``),
    nor anything a symbolic link would take outside the folder.
    """

    def validate_absolute_path(self, root: str, absolute_path: str) -> str | None:
        """Return the file to serve, refusing hidden entries and links out of ``root``."""
        relative = os.path.relpath(absolute_path, os.path.abspath(root))
        if relative == ".." or relative.startswith("../"):
            raise tornado.web.HTTPError(403)
        if any(part.startswith((".", "_")) for part in Path(relative).parts):
            raise tornado.web.HTTPError(404)
        real_root = os.path.realpath(root)
        if os.path.commonpath([real_root, os.path.realpath(absolute_path)]) != real_root:
            raise tornado.web.HTTPError(403)
        return super().validate_absolute_path(root, absolute_path)


class DashboardServer(Voila):
    """Voila with our access check, kernel caps, kernel launcher, home page and template.

    The home page is at ``/``, the weekly reports are under ``/reports/``.
    """

    allowed_hosts = List(Unicode(), config=True,
                         help="Host names answered besides localhost, 127.0.0.1 and [::1].")
    language = Unicode("en", config=True, help="Language of refusal pages (en or ko).")
    reports_dir = Unicode("reports", config=True,
                          help="Weekly reports folder served read-only under /reports/.")

    def setup_template_dirs(self) -> None:
        """Put our template first, and give it the filter that words a failed cell."""
        super().setup_template_dirs()
        self.template_paths = [str(TEMPLATE_DIR), *self.template_paths]
        self.config.TemplateExporter.filters = {
            "workbench_failure": "workbench._dashboard_home.failure_html",
            "workbench_plotly_src": f"{__name__}.plotly_src"}

    def init_settings(self) -> dict[str, Any]:
        """Return Voila's tornado settings with our kernel manager, access rules and 404."""
        self.voila_configuration.multi_kernel_manager_class = DashboardKernelManager
        self.voila_configuration.prelaunch_hook = _page_language
        self.voila_configuration.extension_denylist = [
            *(self.voila_configuration.extension_denylist or []), *EXTENSION_DENYLIST]
        # Kernels inherit this server's environment: pages draw charts with the page's plotly.js.
        os.environ["WORKBENCH_PLOTLY_IN_PAGE"] = "1"
        # Voila builds its executor by this module-level name (NotebookRenderer has no option).
        voila.notebook_renderer.VoilaExecutor = DashboardExecutor
        settings = super().init_settings()
        settings["workbench_access"] = _Access(
            hosts=LOOPBACK_HOSTS | {host_name(h) for h in self.allowed_hosts},
            token=os.environ.pop(TOKEN_VARIABLE, ""), cookie=f"workbench-dashboard-{self.port}",
            port=self.port, language=self.language if self.language in ("en", "ko") else "en")
        # Unknown paths are checked too: a foreign Host gets 403 there as well, not 404.
        settings["default_handler_class"] = _guarded(tornado.web.ErrorHandler)
        settings["default_handler_args"] = {"status_code": 404}
        return settings

    def listen(self) -> None:
        """Start the first spare kernel once the server runs, then serve (Voila's ``listen``)."""
        tornado.ioloop.IOLoop.current().add_callback(self.kernel_manager.watch_spare)
        super().listen()

    def init_handlers(self) -> list:
        """Return Voila's handlers and ours, each behind the access check.

        Voila's file browser (``/`` and ``/voila/tree/...``) gives way to the home page; it
        loads font-awesome from a CDN and names files, not dashboards.
        """
        handlers = [
            (url_path_join(self.server_url, "/"), HomeHandler,
             {"notebooks": self.root_dir, "reports": self.reports_dir}),
            (url_path_join(self.server_url, "/reports/(.*)"), ReportsHandler,
             {"path": os.path.abspath(self.reports_dir), "default_filename": "index.html"}),
            (url_path_join(self.server_url, r"/workbench/static/(plotly\.min\.js)"), PlotlyHandler),
            (url_path_join(self.server_url, "/reports"), tornado.web.RedirectHandler,
             {"url": url_path_join(self.server_url, "/reports/")}),
        ]
        for spec in super().init_handlers():
            if spec[1] is TornadoVoilaTreeHandler:
                if spec[0].rstrip("/") != self.server_url.rstrip("/"):
                    handlers.append((spec[0], tornado.web.RedirectHandler,
                                     {"url": url_path_join(self.server_url, "/")}))
                continue
            handlers.append(spec)
        return [(spec[0], _guarded(spec[1]), *spec[2:]) for spec in handlers]


def main(argv: list[str] | None = None) -> None:
    """Run the server (command line as Voila's)."""
    DashboardServer.launch_instance(argv=sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
