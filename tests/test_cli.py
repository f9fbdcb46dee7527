"""The ``workbench`` command as a user runs it: exit codes, messages, nothing half-written.

The first tests run the installed console script in a subprocess (the real exit code a
scheduler sees); the rest call :func:`workbench.cli.main` in-process to keep the suite fast.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from workbench.cli import main
from workbench.data.schema import CANONICAL_TABLES

FIXTURES = Path(__file__).parent / "fixtures"


def _workbench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench.cli", *args], capture_output=True,
                          text=True, timeout=300)


def _counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables"
                                           " where table_schema = 'main'").fetchall()]
        return {n: con.execute(f'select count(*) from "{n}"').fetchone()[0] for n in names}


def test_help_lists_every_command():
    done = _workbench("--help")
    assert done.returncode == 0
    for command in ("sample", "load", "refresh", "report", "dashboard", "info", "audience",
                    "churn"):
        assert command in done.stdout


def test_sample_then_refuse_to_overwrite_then_replace(tmp_path):
    store = tmp_path / "shop.duckdb"
    first = _workbench("sample", "--customers", "300", "--seed", "3", "--end", "2026-11-16",
                       "--store", str(store), "-q")
    assert first.returncode == 0, first.stderr
    before = _counts(store)
    for table in CANONICAL_TABLES:
        assert before.get(table, 0) > 0, table

    again = _workbench("sample", "--customers", "50", "--store", str(store), "-q")
    assert again.returncode == 2
    assert "--replace" in again.stderr and str(store) in again.stderr
    assert _counts(store) == before

    skipped = _workbench("sample", "--if-empty", "--customers", "50", "--store", str(store))
    assert skipped.returncode == 0 and "not written" in skipped.stdout
    assert _counts(store) == before

    assert main(["sample", "--replace", "--customers", "50", "--seed", "4", "--end",
                 "2026-11-16", "--store", str(store), "-q"]) == 0
    assert _counts(store)["customers"] == 50


@pytest.mark.parametrize("args", [
    ["sample", "--customers", "0"],
    ["sample", "--end", "16/11/2026"],
    ["report", "weekly", "--as-of", "last monday"],
    ["load", "orders"],
])
def test_malformed_arguments_exit_2(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_load_missing_file_names_it_and_exits_2(tmp_path, capsys):
    code = main(["load", "orders", str(tmp_path / "nope.csv"),
                 "--store", str(tmp_path / "s.duckdb")])
    err = capsys.readouterr().err
    assert code == 2
    assert "nope.csv" in err


def test_bad_file_leaves_the_store_unchanged(store_copy, tmp_path, capsys):
    before = _counts(store_copy)
    bad = tmp_path / "orders.csv"
    bad.write_text("order_id,customer_id,ordered_at,status\n"
                   "A1,C1,2026-11-01 10:00,paid\nA2,C2,not a date,paid\n", encoding="utf-8")
    code = main(["load", "orders", str(bad), "--store", str(store_copy)])
    err = capsys.readouterr().err
    assert code == 2
    assert "orders.csv" in err
    assert _counts(store_copy) == before


def test_errors_in_korean(tmp_path, capsys):
    code = main(["load", "orders", str(tmp_path / "nope.csv"), "--language", "ko",
                 "--store", str(tmp_path / "s.duckdb")])
    err = capsys.readouterr().err
    assert code == 2
    assert any("\uac00" <= ch <= "\ud7a3" for ch in err), err


def test_load_a_shop_export_then_info(tmp_path, capsys):
    store = tmp_path / "shop.duckdb"
    code = main(["load", "orders", str(FIXTURES / "shopify_orders.csv"), "--mapping", "shopify",
                 "--store", str(store), "-q"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert _counts(store)["orders"] > 0
    assert main(["info", "--store", str(store)]) == 0
    assert "orders" in capsys.readouterr().out


def test_report_on_a_store_without_data_fails_readably(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["report", "weekly", "--store", str(empty / "missing.duckdb"),
                 "--out", str(tmp_path / "reports"), "-q"])
    err = capsys.readouterr().err
    assert code != 0
    assert "missing.duckdb" in err
    assert not (tmp_path / "reports").exists() or not any(
        p.name.startswith("20") for p in (tmp_path / "reports").iterdir())
    shutil.rmtree(tmp_path / "reports", ignore_errors=True)


def test_churn_train_saves_a_model_and_refresh_scores(store_copy, capsys):
    store = str(store_copy)
    assert main(["churn", "train", "--as-of", "2026-11-16", "--backtest", "0",
                 "--store", store]) == 0
    out = capsys.readouterr().out
    models = Path(store).parent / "models"
    assert "churn" in out and str(models) in out
    assert (models / "churn.skops").is_file() and (models / "churn.json").is_file()
    assert main(["refresh", "--as-of", "2026-11-16", "--store", store]) == 0
    con = duckdb.connect(store, read_only=True)
    bands = dict(con.execute("SELECT risk_band, count(*) FROM snapshot_customers "
                             "WHERE risk_band IS NOT NULL GROUP BY 1").fetchall())
    con.close()
    assert set(bands) == {"high", "medium", "low"}
