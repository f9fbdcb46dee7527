"""Spark against DuckDB: customer facts + RFM and churn scoring at 100k and 1M customers.

Issue 18, point 5: the same entry points run on a DuckDB store and on the same data in a Spark
lake (``spark:/path``, Spark ``local[2]``), each engine in its own process so that peak memory
is its own:

- ``start``: opening the store (Spark: starting the session and registering the lake's tables;
  the first run of a step is reported apart from the warm runs, which take the median);
- ``facts+rfm``: ``customer_facts`` (with ``order_items`` for ``top_category``) piped into
  ``score_rfm``, executed to Arrow;
- ``churn features``: the churn feature query alone (``churn_features``) to Arrow: the engine's
  share of scoring;
- ``churn score``: ``workbench.churn.score`` with a model trained once on DuckDB (features,
  BG/NBD P(alive), calibrated risk, bands, reasons of the high band);
- Spark only: ``facts+rfm`` again for each ``spark.sql.shuffle.partitions`` in ``--partitions``
  (adaptive query execution stays on, as it is by default, so Spark coalesces small
  partitions; the numbers show what is left of the setting's cost).

Both engines' outputs are written to Parquet and compared here: rows, the sum of the RFM scores
and of ``churn_risk`` (the checksums printed), and the largest difference per customer.

Data are cached under ``--work``: ``sample-<N>.duckdb`` (``workbench sample --customers N
--seed 1 --end 2026-11-30``; measured on 2 busy cores: 100k 2 min and 1.6 GB, 1M 50 min and
3.8 GB), the lake ``lake-<N>/`` (:func:`workbench.data.lake.export_duckdb`) and the model
``models-<N>/bench``. Reruns reuse them.

Usage::

    python benchmarks/bench_spark.py --customers 100000 1000000 --work /tmp/wb-bench-spark
    python benchmarks/bench_spark.py --customers 100000 --repeat 3 --partitions 2 8 200

Prints a table of seconds (wall: first run / warm median; CPU seconds of a warm run, the
process's and its JVM's, all threads, which another job on the machine hardly changes),
Spark/DuckDB ratios, peak memory of each process (the Python process's VmHWM; for Spark also
the driver JVM's, read from /proc) and the load average, since the machine may be shared.
Timings are reported, not asserted; the script exits non-zero when the engines disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore", category=DeprecationWarning)

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2026, 11, 30)
SEED = 1
MODEL = "bench"
TIMEZONE = "Asia/Seoul"
STEPS = ("facts+rfm", "churn features", "churn score")


# ----------------------------------------------------------------------------- memory
def _hwm_mb(pid: int | str = "self") -> float | None:
    """Return a process's peak resident memory (VmHWM) in MB, or None when unreadable."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            line = next(x for x in fh if x.startswith("VmHWM"))
    except (OSError, StopIteration):
        return None
    return int(line.split()[1]) / 1024


def _java_descendants() -> list[int]:
    """Return the ids of java processes started by this one (the Spark driver JVM)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        for child in children.get(pid, []):
            todo.append(child)
            try:
                comm = Path(f"/proc/{child}/comm").read_text().strip()
            except OSError:
                continue
            if comm == "java":
                found.append(child)
    return found


def _cpu_seconds() -> float:
    """Return CPU seconds used so far by this process and its JVM (user + system, all threads).

    Unlike wall time, CPU time hardly changes when other jobs share the machine.
    """
    own = os.times()
    total = own.user + own.system
    tick = os.sysconf("SC_CLK_TCK")
    for pid in _java_descendants():
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def _jvm_mb() -> float | None:
    peaks = [m for m in (_hwm_mb(pid) for pid in _java_descendants()) if m is not None]
    return max(peaks) if peaks else None


# ----------------------------------------------------------------------------- one engine
def _settings(engine: str, store: str, driver_memory: str, partitions: int):
    from workbench.settings import Settings, SparkSettings

    if engine == "spark":
        return Settings(store=store, timezone=TIMEZONE,
                        spark=SparkSettings(master="local[2]", driver_memory=driver_memory,
                                            shuffle_partitions=partitions))
    return Settings(store=store, timezone=TIMEZONE)


def _timed(fn, repeat: int) -> tuple[dict, object]:
    """Run ``fn`` once (first) and ``repeat`` more times (warm); return the times and a value."""
    t0, c0 = time.perf_counter(), _cpu_seconds()
    value = fn()
    first, first_cpu = time.perf_counter() - t0, _cpu_seconds() - c0
    warm, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), _cpu_seconds()
        value = fn()
        warm.append(time.perf_counter() - t0)
        cpu.append(_cpu_seconds() - c0)
    # Without warm runs (--repeat 0) the CPU seconds are the first run's.
    return {"first": first, "warm": statistics.median(warm) if warm else None,
            "cpu": statistics.median(cpu) if cpu else first_cpu}, value


def _write_output(name: str, value, out: str) -> None:
    """Write the columns the engines are compared on (one Parquet file per step)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if name == "facts+rfm":
        pq.write_table(value.select(["customer_id", "r_score", "f_score", "m_score",
                                     "net_revenue", "recency_days"]), f"{out}-rfm.parquet")
    elif name == "churn score":
        pq.write_table(pa.table({"customer_id": value.index.astype(str).to_numpy(),
                                 "churn_risk": value["churn_risk"].to_numpy(np.float64),
                                 "risk_band": value["risk_band"].astype(str).to_numpy()}),
                       f"{out}-churn.parquet")


def stage_engine(engine: str, store: str, model_folder: str, out: str, repeat: int,
                 partitions: list[int], driver_memory: str) -> dict:
    """Time the steps on one engine, write their outputs next to ``out``; return the numbers.

    The report so far is also written to ``<out>.json`` after each step, so that a run stopped
    by the parent's timeout still tells what finished.
    """
    from workbench.churn import churn_features, load_model, score
    from workbench.data import connect
    from workbench.features import customer_facts
    from workbench.rfm import score_rfm

    settings = _settings(engine, store, driver_memory, 8)
    load = [os.getloadavg()[0]]
    report: dict = {"engine": engine, "steps": {}, "errors": {}}

    def save() -> None:
        report["python_mb"], report["load"] = _hwm_mb(), [min(load), max(load)]
        if engine == "spark":
            report["jvm_mb"] = _jvm_mb()
        Path(f"{out}.json.tmp").write_text(json.dumps(report))
        os.replace(f"{out}.json.tmp", f"{out}.json")  # whole, even if the parent kills us now

    t0, c0 = time.perf_counter(), _cpu_seconds()
    con = connect(store, settings=settings)
    report["start"] = time.perf_counter() - t0
    report["start_cpu"] = _cpu_seconds() - c0
    save()
    model = load_model(MODEL, folder=Path(model_folder))
    cats = tuple(model.metadata_["categories"])

    def facts_rfm():
        facts = customer_facts(con.table("orders"), as_of=AS_OF, timezone=TIMEZONE,
                               items=con.table("order_items"))
        return score_rfm(facts, bins=5).to_pyarrow()

    def features():
        return churn_features(con, AS_OF, settings=settings, top_category=False,
                              categories=cats).to_pyarrow()

    def scoring():
        return score(con, AS_OF, model, settings=settings)

    for name, fn in zip(STEPS, (facts_rfm, features, scoring), strict=True):
        try:
            report["steps"][name], value = _timed(fn, repeat)
            _write_output(name, value, out)
        except Exception as exc:  # noqa: BLE001 - a crash on one engine is a finding to report
            report["errors"][name] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}"
        load.append(os.getloadavg()[0])
        save()
    if engine == "spark" and "facts+rfm" in report["steps"]:
        session = con._session
        report["aqe"] = session.conf.get("spark.sql.adaptive.enabled")
        report["partitions"] = sweep = {}
        for p in partitions:
            session.conf.set("spark.sql.shuffle.partitions", str(p))
            sweep[str(p)] = _timed(facts_rfm, max(repeat, 1))[0]
            load.append(os.getloadavg()[0])
            save()
        session.conf.set("spark.sql.shuffle.partitions", "8")
    save()
    return report


def stage_train(store: str, model_folder: str) -> dict:
    """Train the churn model once on the DuckDB store (the model both engines score with)."""
    from workbench.churn import train
    from workbench.data import connect

    settings = _settings("duckdb", store, "2g", 8)
    con = connect(store, settings=settings)
    t0 = time.perf_counter()
    train(con, AS_OF, settings=settings, save=MODEL, folder=Path(model_folder))
    return {"seconds": time.perf_counter() - t0, "python_mb": _hwm_mb()}


# ----------------------------------------------------------------------------- orchestration
def _child(args: list[str], timeout: float | None = None, partial: Path | None = None) -> dict:
    """Run a stage in its own process; on a timeout return what ``partial`` holds so far."""
    proc = subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the stage and its JVM, nothing else
        proc.communicate()
        if partial is None or not partial.exists():
            raise SystemExit(f"{' '.join(args[:2])} took more than {timeout:.0f} s") from None
        report = json.loads(partial.read_text())
        report["timed_out"] = timeout
        return report
    if proc.returncode:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def _prepare(n: int, work: Path) -> dict:
    """Write (or reuse) the sample store, its lake and the model for ``n`` customers."""
    from workbench.data.lake import export_duckdb, read_current

    info: dict = {}
    store = work / f"sample-{n}.duckdb"
    if not store.exists():
        print(f"writing the {n:,}-customer sample to {store} ...", flush=True)
        tmp = store.with_name(store.name + ".tmp")
        cmd = [str(Path(sys.executable).with_name("workbench")), "sample", "--customers", str(n),
               "--seed", str(SEED), "--end", AS_OF.isoformat(), "--store", str(tmp), "-q"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=work)
        _, status, usage = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status):
            raise SystemExit(f"workbench sample failed for {n:,} customers")
        tmp.replace(store)
        info["sample"] = (time.perf_counter() - t0, usage.ru_maxrss / 1024)
    lake = work / f"lake-{n}"
    if read_current(lake) is None:
        t0 = time.perf_counter()
        export_duckdb(store, lake)
        info["export"] = time.perf_counter() - t0
    models = work / f"models-{n}"
    if not (models / f"{MODEL}.skops").exists():
        models.mkdir(parents=True, exist_ok=True)
        info["train"] = _child(["--stage", "train", "--store", str(store),
                                "--models", str(models)])
    info.update(store=store, lake=lake, models=models)
    return info


def _compare(work: Path, n: int) -> list[str]:
    """Compare the engines' written outputs; return printable lines (and 'DIFFER' on a gap)."""
    import pyarrow.parquet as pq

    lines = []
    for kind, value_cols in (("rfm", ["r_score", "f_score", "m_score", "net_revenue",
                                      "recency_days"]), ("churn", ["churn_risk"])):
        paths = [work / f"out-{n}-{e}-{kind}.parquet" for e in ("duckdb", "spark")]
        if not all(p.exists() for p in paths):
            lines.append(f"  {kind}: not compared (a side crashed)")
            continue
        duck, spark = (pq.read_table(p).to_pandas().set_index("customer_id").sort_index()
                       for p in paths)
        same_keys = duck.index.equals(spark.index)
        sums = {c: (float(duck[c].astype(float).sum()), float(spark[c].astype(float).sum()))
                for c in value_cols}
        gap = 0.0
        if same_keys:
            for c in value_cols:
                a, b = duck[c].astype(float).to_numpy(), spark[c].astype(float).to_numpy()
                gap = max(gap, float(np.nanmax(np.abs(a - b) / np.maximum(np.abs(a), 1.0))))
        if kind == "churn" and same_keys:
            bands_same = bool((duck["risk_band"] == spark["risk_band"]).all())
        else:
            bands_same = None
        ok = same_keys and gap <= 1e-9 and bands_same is not False
        check = ", ".join(f"sum({c}) {a:.6f} / {b:.6f}" for c, (a, b) in sums.items()
                          if c in ("churn_risk", "r_score", "net_revenue"))
        lines.append(f"  {kind}: rows {len(duck):,} / {len(spark):,}, same customers "
                     f"{same_keys}, {check}; largest relative gap {gap:.1e}"
                     + ("" if bands_same is None else f", same bands {bands_same}")
                     + ("" if ok else "  DIFFER"))
    return lines


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _mb(x: float | None) -> str:
    return "-" if x is None else f"{x / 1024:.2f} GB"


def _print_table(n: int, reports: dict) -> None:
    """Print one store size's times, CPU seconds, ratios, memory and partition sweep."""
    duck, spark = reports["duckdb"], reports["spark"]
    low, high = min(duck["load"][0], spark["load"][0]), max(duck["load"][1], spark["load"][1])
    print(f"\n{n:,} customers  (1-minute load average during the runs {low:.1f}-{high:.1f})")
    print(f"  {'step':<16}{'DuckDB wall':>16}{'cpu':>8}{'Spark wall':>18}{'cpu':>8}"
          f"{'ratio wall':>12}{'ratio cpu':>11}")
    print(f"  {'start':<16}{_fmt(duck.get('start')):>16}{_fmt(duck.get('start_cpu')):>8}"
          f"{_fmt(spark.get('start')):>18}{_fmt(spark.get('start_cpu')):>8}")
    for step in STEPS:
        d, s = duck["steps"].get(step), spark["steps"].get(step)
        cell = [f"{_fmt(r['first'])} / {_fmt(r['warm'])}" if r else
                "crashed" if step in rep["errors"] else "not run"
                for r, rep in ((d, duck), (s, spark))]
        cpu = [_fmt(r.get("cpu")) if r else "-" for r in (d, s)]
        key = "warm" if d and s and d["warm"] and s["warm"] else "first"
        ratios = [f"{s[k] / d[k]:.1f}x" if d and s and d.get(k) and s.get(k) else "-"
                  for k in (key, "cpu")]
        print(f"  {step:<16}{cell[0]:>16}{cpu[0]:>8}{cell[1]:>18}{cpu[1]:>8}"
              f"{ratios[0]:>12}{ratios[1]:>11}")
    print(f"  {'peak memory':<16}{_mb(duck['python_mb']):>16}{'':>8}"
          f"{_mb(spark['python_mb']):>18}  (Python process)")
    print(f"  {'':<16}{'':>24}{_mb(spark.get('jvm_mb')):>18}  (driver JVM)")
    for engine, rep in reports.items():
        for step, err in rep["errors"].items():
            print(f"  {engine} {step} crashed: {err}")
        if rep.get("timed_out"):
            print(f"  {engine}: stopped after {rep['timed_out']:.0f} s (--timeout); "
                  f"steps shown '-' or missing did not finish")
    if spark.get("partitions"):
        sweep = ", ".join(f"{p}: {_fmt(t['warm'])} ({_fmt(t['cpu'])} cpu)"
                          for p, t in spark["partitions"].items())
        print(f"  Spark facts+rfm by spark.sql.shuffle.partitions (warm wall and cpu seconds, "
              f"AQE {spark['aqe']}): {sweep}")


def run(customers: list[int], work: Path, repeat: int, partitions: list[int],
        driver_memory: str, timeout: float | None) -> int:
    import pyspark

    work.mkdir(parents=True, exist_ok=True)
    print(f"bench_spark: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start; "
          f"pyspark {pyspark.__version__}, master local[2], driver memory {driver_memory}, "
          f"shuffle partitions 8 unless swept; as_of {AS_OF}; {repeat} warm run(s) after the "
          f"first; seconds: wall 'first / warm median', cpu = CPU seconds of a warm run "
          f"(process + JVM, all threads; robust to other load)", flush=True)
    status = 0
    for n in customers:
        info = _prepare(n, work)
        if "sample" in info:
            print(f"[{n:,}] sample written in {info['sample'][0]:.0f} s, peak "
                  f"{info['sample'][1] / 1024:.2f} GB")
        if "export" in info:
            print(f"[{n:,}] lake exported in {info['export']:.1f} s")
        if "train" in info:
            print(f"[{n:,}] churn model trained on DuckDB in {info['train']['seconds']:.1f} s")
        reports = {}
        for engine in ("duckdb", "spark"):
            store = str(info["store"]) if engine == "duckdb" else f"spark:{info['lake']}"
            out = work / f"out-{n}-{engine}"
            for old in work.glob(f"{out.name}*"):
                old.unlink()
            reports[engine] = _child(["--stage", engine, "--store", store, "--models",
                                      str(info["models"]), "--out", str(out), "--repeat",
                                      str(repeat), "--partitions", *map(str, partitions),
                                      "--driver-memory", driver_memory],
                                     timeout=timeout, partial=Path(f"{out}.json"))
        _print_table(n, reports)
        lines = _compare(work, n)
        print("  DuckDB / Spark outputs:")
        print("\n".join(lines), flush=True)
        if any("DIFFER" in x for x in lines):
            status = 1
    print(f"\nload average at the end {os.getloadavg()[0]:.2f}")
    return status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/wb-bench-spark"),
                        help="folder caching the sample stores, lakes and models")
    parser.add_argument("--repeat", type=int, default=2,
                        help="warm runs after the first (0: first runs only, ratios of those)")
    parser.add_argument("--partitions", type=int, nargs="*", default=[2, 8, 32, 200])
    parser.add_argument("--driver-memory", default="2g")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds each engine may take per store size (default: no limit)")
    parser.add_argument("--stage", choices=["duckdb", "spark", "train"], help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--models", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage == "train":
        print(json.dumps(stage_train(args.store, args.models)))
    elif args.stage:
        print(json.dumps(stage_engine(args.stage, args.store, args.models, args.out,
                                      args.repeat, args.partitions, args.driver_memory)))
    else:
        sys.exit(run(args.customers, args.work.absolute(), args.repeat, args.partitions,
                     args.driver_memory, args.timeout))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
