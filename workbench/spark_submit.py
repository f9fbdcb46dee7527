r"""Run the workbench command line as a Spark application: the file ``spark-submit`` is given.

``spark-submit`` runs a Python file, not a console script, so this module is that file. Every
argument after it is a ``workbench`` command line::

    spark-submit --master local[2] --conf spark.pyspark.python=.venv/bin/python \
        workbench/spark_submit.py info --store spark:/data/lake

The session is started here, from spark-submit's own settings (``--master``, memory,
``--conf``, ``--archives``), before the command runs; :func:`workbench.data.spark.spark_session`
then reuses it, so the ``[spark]`` section's ``master`` and ``driver_memory`` are ignored under
spark-submit. The SQL settings the workbench's results depend on (:data:`SQL_CONF`) are applied
to that session: they are per-session and may be changed at run time. ``--help`` and an empty
command line print the help without starting Spark. The session is stopped when the command
ends, as a Spark application should.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["SQL_CONF", "main"]

#: Session settings workbench needs on any session: ``x / 0`` is null as on DuckDB (Spark 4
#: turns ANSI mode on), and results reach pandas through Arrow.
SQL_CONF: dict[str, str] = {
    "spark.sql.ansi.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
}


def _needs_spark(argv: Sequence[str]) -> bool:
    """Tell whether the command line runs a command (help and no command do not need Spark).

    >>> _needs_spark(["info", "--store", "spark:/lake"]), _needs_spark(["refresh", "-h"])
    (True, False)
    """
    return bool(argv) and not {"-h", "--help"} & set(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Start the session from spark-submit's settings, run the command, stop the session.

    Returns
    -------
    int
        The command's exit code (see :func:`workbench.cli.main`).
    """
    # Imported here, not above: run as a file, this module first takes its folder off sys.path.
    from workbench.cli import main as cli_main

    argv = list(sys.argv[1:] if argv is None else argv)
    if not _needs_spark(argv):
        return cli_main(argv or ["--help"])
    from pyspark.sql import SparkSession  # only here: `import workbench` never loads pyspark

    session = SparkSession.builder.appName("workbench").getOrCreate()
    # spark-submit logs every query plan at INFO on stderr, burying the command's own output.
    session.sparkContext.setLogLevel("WARN")
    for key, value in SQL_CONF.items():
        session.conf.set(key, value)
    try:
        return cli_main(argv)
    finally:
        session.stop()


if __name__ == "__main__":
    # spark-submit runs this file as a script, which puts workbench/ first on sys.path; there
    # workbench/calendar.py would shadow the standard library's calendar module.
    if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
        del sys.path[0]
    sys.exit(main())
