"""Where the notebooks are, which ones make the weekly report, and the kernel environment."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = ["REPORT_NOTEBOOKS", "kernel_environment", "notebooks_dir"]

#: Variables removed from the environment kernels inherit (see :func:`kernel_environment`).
DROPPED = ("PYTHONUNBUFFERED",)

#: Report notebooks in the order they appear in the weekly report.
REPORT_NOTEBOOKS: tuple[str, ...] = ("overview", "rfm", "cohorts", "products", "clv", "churn",
                                     "abtest", "campaigns")


def notebooks_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the notebooks folder: the argument, ``$WORKBENCH_NOTEBOOKS`` or the project's."""
    if path is not None:
        return Path(path).resolve()
    if os.environ.get("WORKBENCH_NOTEBOOKS"):
        return Path(os.environ["WORKBENCH_NOTEBOOKS"]).resolve()
    return Path(__file__).resolve().parents[2] / "notebooks"


@contextlib.contextmanager
def kernel_environment(**variables: str) -> Iterator[dict[str, str]]:
    """Set environment variables for kernels started inside the block, then restore them.

    Kernels inherit the environment of the process that starts them. ``JUPYTER_PATH`` is put in
    front so that this virtual environment's ``python3`` kernel is used even when a user-level
    kernelspec of another Python exists (a known papermill pitfall, STACK_NOTES.md).
    """
    env = {"JUPYTER_PATH": os.pathsep.join(
        p for p in (str(Path(sys.prefix) / "share" / "jupyter"), os.environ.get("JUPYTER_PATH"))
        if p), **variables}
    # PYTHONUNBUFFERED in a kernel's environment makes a second Voila page view hang for
    # good (measured here with ipykernel 6.31 and 7.4: the kernel idles at "Executing 3 of 4").
    # Docker images often set it, so kernels never inherit it.
    saved = {k: os.environ.get(k) for k in (*env, *DROPPED)}
    for key in DROPPED:
        os.environ.pop(key, None)
    os.environ.update(env)
    try:
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
