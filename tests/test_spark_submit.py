"""The spark-submit launcher: run as a file (as spark-submit runs it), help needs no Spark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import workbench

LAUNCHER = Path(workbench.__file__).with_name("spark_submit.py")


def test_launcher_run_as_a_file_prints_help_without_starting_spark():
    # As a script, workbench/ is first on sys.path and workbench/calendar.py would shadow the
    # standard library's calendar; the launcher must take its folder off the path first.
    done = subprocess.run([sys.executable, str(LAUNCHER), "--help"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage: workbench")
    assert "spark" not in done.stderr.lower()  # no JVM, no log4j banner
