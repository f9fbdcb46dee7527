"""``workbench dashboard``: serve every notebook as a Voila dashboard on 127.0.0.1.

Voila runs in tree mode on the notebooks folder: its start page lists and links every
dashboard, and each page runs the notebook in a fresh kernel with sources stripped. Kernels get
``WORKBENCH_MODE=dashboard`` (widgets, not static charts) and the store through
``WORKBENCH_STORE``, so they read the same store as the command, whatever their working folder.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from workbench.i18n import tr
from workbench.reporting.notebooks import kernel_environment, notebooks_dir
from workbench.settings import Settings

__all__ = ["serve", "voila_command"]


def voila_command(folder: Path, port: int) -> list[str]:
    """Return the Voila command line (loopback only, no browser, no tracebacks)."""
    return [
        sys.executable, "-m", "voila", str(folder), "--no-browser", f"--port={port}",
        "--Voila.ip=127.0.0.1", "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaExecutor.timeout=120", "--Voila.tornado_settings={'allow_origin': ''}",
        # A closed tab's shutdown request is refused by Voila 0.5.13 ("_xsrf argument missing"),
        # so its kernel would live on and hold memory: cull kernels idle for 15 minutes.
        "--MappingKernelManager.cull_idle_timeout=900",
        "--MappingKernelManager.cull_interval=60",
    ]


def serve(*, port: int, settings: Settings, notebooks_path: str | None = None,
          stop_after: float | None = None) -> int:
    """Run Voila until Ctrl+C (or ``stop_after`` seconds); return its exit code."""
    folder = notebooks_dir(notebooks_path)
    store = settings.store if "://" in settings.store else str(Path(settings.store).resolve())
    variables = {"WORKBENCH_MODE": "dashboard", "WORKBENCH_STORE": store,
                 "WORKBENCH_LANGUAGE": settings.language}
    if settings.source:
        variables["WORKBENCH_CONFIG"] = settings.source
    with kernel_environment(**variables):
        print(tr("dashboard.serving", url=f"http://127.0.0.1:{port}/", store=store,
                 folder=str(folder)), flush=True)
        # Stopping the dashboard (Ctrl+C, SIGTERM from a service manager or a test,
        # --stop-after) must stop Voila, which then shuts its kernels down; without the SIGTERM
        # handler the command would die at once and leave Voila and its kernels running.
        # (Voila is deliberately not put in a new session: its second page view then hangs.)
        proc = subprocess.Popen(voila_command(folder, port), env=dict(os.environ))
        previous = signal.signal(signal.SIGTERM, _raise_interrupt)
        try:
            return proc.wait(timeout=stop_after)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            _stop(proc)
    return 0


def _raise_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _stop(proc: subprocess.Popen) -> None:
    """Stop Voila: SIGTERM (it shuts its kernels down), then SIGKILL after 10 s.

    Kernels of a killed Voila exit by themselves (ipykernel watches its parent process).
    """
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
