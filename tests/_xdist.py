"""Running the suite on several processes with pytest-xdist (``pytest -n 2 --dist loadgroup``).

Without ``-n`` nothing here changes a run. With ``--dist loadgroup`` the root conftest hands
xdist the scheduler of :func:`make_scheduler`, which keeps together on one worker what shares
an expensive fixture or must not run twice at once (xdist 3.8's own ``loadgroup`` names its
groups through ``Item._nodeid``, which pytest 9 no longer reads):

- each folder of tests (``tests/churn``, ``tests/reporting``, ...): its package- and
  session-scoped fixtures (clv fits, churn models, the weekly report run) are built once;
- every browser test outside ``tests/reporting``: one Chromium and dashboard server at a time,
  so two of them never race for the machine within their page timeouts;
- each other test file, and the doctests of each ``workbench`` subpackage.

:func:`shared_dir` lets the workers build a session store once between them.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

#: Test files that drive Chromium against a dashboard server (``pytest.mark.browser``), apart
#: from those of tests/reporting and tests/spark, which stay with their folder's fixtures.
BROWSER_FILES = frozenset({
    "tests/abtest/test_dashboard_browser.py", "tests/abtest/test_segments_browser.py",
    "tests/test_audience_browser.py", "tests/test_browser_helpers.py",
    "tests/test_dashboard_browser.py", "tests/test_dashboard_home.py",
    "tests/test_dashboard_security.py", "tests/test_korean_browser.py",
})
#: Groups that take minutes: handed out first, so no worker starts one when the rest is done.
HEAVY = ("browser", "tests/reporting", "tests/spark", "tests/churn")


def group_of(nodeid: str) -> str:
    """Return the group of a test id (see the module docstring).

    >>> group_of("tests/churn/test_saved.py::test_x[1]")
    'tests/churn'
    >>> group_of("tests/test_korean_browser.py::test_page[rfm]")
    'browser'
    >>> group_of("tests/test_cli.py::test_help")
    'tests/test_cli.py'
    >>> group_of("workbench/rfm/scoring.py::workbench.rfm.scoring.rfm_scores")
    'workbench/rfm'
    """
    path = nodeid.split("::", 1)[0]
    if path in BROWSER_FILES:
        return "browser"
    parts = path.split("/")
    if parts[0] in ("tests", "workbench") and len(parts) > 2:
        return "/".join(parts[:2])
    return path


def make_scheduler(config: pytest.Config, log: object) -> object:
    """Return xdist's ``loadscope`` scheduler with :func:`group_of` as its scope."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of(nodeid)

        def schedule(self) -> None:
            if self.collection is None and self.collection_is_completed:
                self.config.option.loadscopereorder = True  # largest groups first ...
            super().schedule()
            heavy = [g for g in HEAVY if g in self.workqueue]  # ... and the slowest before them
            for group in reversed(heavy):
                self.workqueue.move_to_end(group, last=False)

    return GroupScheduling(config, log)


def shared_dir(tmp_path_factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], None]) -> Path:
    """Return a folder filled once by ``build(folder)`` for the whole run, all workers included.

    Without xdist this is ``tmp_path_factory.mktemp(name)``. Under xdist the first worker to
    ask builds the folder in the run's common temporary folder while holding a lock; the others
    wait and reuse it. A build that failed leaves no ``.done`` mark beside the folder, so the
    next worker retries it.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    root = tmp_path_factory.getbasetemp().parent  # shared by the workers of one run
    folder = root / f"shared-{name}"
    with open(root / f"shared-{name}.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / f"shared-{name}.done"
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder
