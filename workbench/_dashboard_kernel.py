"""Start a dashboard kernel that dies with the Voila server that started it.

``workbench dashboard`` starts its kernels as ``python -m workbench._dashboard_kernel -f FILE``
instead of ``python -m ipykernel_launcher -f FILE`` (see
``workbench._dashboard_server.DashboardKernel``). Before handing over to ipykernel, the kernel
asks Linux to kill it when its parent (the Voila server) exits, however that parent ends.

Why not ipykernel's own parent watch: ipykernel 6.29 polls ``os.getppid() == 1`` once a second,
which only notices a dead parent when orphans are re-parented to PID 1. Under a "subreaper"
(``systemd --user`` services, some container inits) orphans go to that process instead, the
check never fires and the kernel serves on. ``PR_SET_PDEATHSIG`` does not depend on who adopts
the orphan.

The same call, :func:`parent_death_hook`, ties the Voila server to the ``workbench dashboard``
command (run in the child before ``exec`` through ``subprocess.Popen(preexec_fn=...)``).
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

__all__ = ["die_with_parent", "main", "parent_death_hook"]

#: ``PR_SET_PDEATHSIG`` from ``<linux/prctl.h>``.
_PR_SET_PDEATHSIG = 1


def parent_death_hook(signum: int, parent: int | None = None) -> Callable[[], None] | None:
    """Return a function that makes the calling process get ``signum`` when its parent exits.

    The C library is looked up here, in the parent, so that the returned function does nothing
    but system calls: it is meant to run as ``preexec_fn`` between ``fork`` and ``exec``,
    where loading a library is not safe.

    Parameters
    ----------
    signum
        The signal the child receives when its parent exits.
    parent
        The process id the child's parent must have when the function runs (default: the
        process calling this function, i.e. the parent of a child made by ``Popen``); if the
        parent is not that process any more, it already died and ``signum`` is sent at once.

    Returns
    -------
    Callable[[], None] | None
        The function to run in the child, or ``None`` where ``prctl`` does not exist (not
        Linux): there the child outlives a parent killed with ``kill -9``.

    Notes
    -----
    Linux sends the signal when the *thread* that forked the child ends, so create the child
    from the main thread (the dashboard command and Voila's event loop both do).
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    expected = os.getpid() if parent is None else parent

    def hook() -> None:
        # prctl is variadic and reads unsigned longs: pass them as such, not as C ints.
        prctl(_PR_SET_PDEATHSIG, ctypes.c_ulong(signum), ctypes.c_ulong(0), ctypes.c_ulong(0),
              ctypes.c_ulong(0))
        # The parent may have died between fork and prctl: then no signal will ever come.
        if os.getppid() != expected:
            os.kill(os.getpid(), signum)

    return hook


def die_with_parent(signum: int, parent: int) -> None:
    """Make this process get ``signum`` when its parent ``parent`` exits (Linux; else no-op).

    Parameters
    ----------
    signum
        The signal to receive.
    parent
        The process id of the expected parent; if it is already gone, ``signum`` is sent at
        once.
    """
    hook = parent_death_hook(signum, parent)
    if hook is not None:
        hook()


def main() -> None:
    """Tie this kernel to its Voila server, then run ipykernel as ``ipykernel_launcher`` does."""
    parent = int(os.environ.get("JPY_PARENT_PID") or 0)
    if parent > 1:
        # SIGKILL rather than SIGTERM: a dashboard kernel holds nothing worth saving (the store
        # is opened read-only), and a library in the kernel may install a SIGTERM handler that
        # keeps it alive; nothing can catch SIGKILL.
        die_with_parent(signal.SIGKILL, parent)
    # As ipykernel_launcher: drop the empty path entry so the kernel's cwd is not importable.
    if sys.path and sys.path[0] == "":
        del sys.path[0]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
