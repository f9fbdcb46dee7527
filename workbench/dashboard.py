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
import time
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
    with kernel_environment(**variables) as env:
        print(tr("dashboard.serving", url=f"http://127.0.0.1:{port}/", store=store,
                 folder=str(folder)), flush=True)
        proc = subprocess.Popen(voila_command(folder, port), env={**os.environ, **env})
        try:
            return proc.wait(timeout=stop_after)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGINT)
        except KeyboardInterrupt:
            pass
        finally:
            if proc.poll() is None:
                proc.terminate()
                deadline = time.monotonic() + 10
                while proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.1)
                if proc.poll() is None:
                    proc.kill()
    return 0
