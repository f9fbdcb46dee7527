"""Small things of the command line (issue 15, point 7), each as a user meets it.

Global options before or after the command, load progress in rows, the note on a count whose
data ended long before its date, ``info``'s aligned and pluralized lines, and what git keeps out
of the working tree (checkpoints, exports, generated reports; ``reports/README.md`` tracked).
"""

import io
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from workbench._command import common_parser
from workbench._progress import Progress
from workbench.cli import _parser, main
from workbench.data.load import load_file

REPO = Path(__file__).resolve().parents[1]
HANGUL = re.compile("[가-힣]")


def _orders_csv(folder: Path, n: int) -> Path:
    lines = ["order_id,customer_id,ordered_at,status,amount"]
    lines += [f"O{i},C{i % 7},2026-11-{1 + i % 14:02d} 10:00:00,paid,{1000 + i}" for i in range(n)]
    path = folder / "orders.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _global_options() -> list[list[str]]:
    """Every option of the common parser with a value to give it (read from the parser)."""
    values = {"--store": "shop.duckdb", "--config": "w.toml", "--language": "ko",
              "--timezone": "Asia/Seoul", "--currency": "KRW"}
    out = []
    for action in common_parser()._actions:
        flag = max(action.option_strings, key=len)
        out.append([flag] if action.nargs == 0 else [flag, values[flag]])
    return out


# -- global options ----------------------------------------------------------------------------


def test_every_global_option_is_accepted_before_and_after_the_command():
    options = _global_options()
    assert {o[0] for o in options} >= {"--store", "--language", "--config", "--timezone",
                                       "--currency", "--debug", "--quiet"}
    given = [word for option in options for word in option]
    command = ["load", "orders", "orders.csv"]
    before = vars(_parser().parse_args([*given, *command]))
    after = vars(_parser().parse_args([*command, *given]))
    assert before == after
    assert before["language"] == "ko" and before["store"] == "shop.duckdb"
    assert before["debug"] is True and before["quiet"] is True
    # left out after the command, an option keeps the value given before it; given twice, the
    # later one wins
    mixed = vars(_parser().parse_args(["--language", "ko", "info", "--store", "s.duckdb"]))
    assert mixed["language"] == "ko" and mixed["store"] == "s.duckdb"
    twice = vars(_parser().parse_args(["--language", "ko", "info", "--language", "en"]))
    assert twice["language"] == "en"
    defaults = vars(_parser().parse_args(["info"]))
    assert defaults["language"] is None and defaults["quiet"] is False


@pytest.mark.parametrize("order", ["before", "after"])
def test_language_and_store_before_or_after_load(tmp_path, capsys, order):
    missing = tmp_path / "nope.csv"
    options = ["--language", "ko", "--store", str(tmp_path / "s.duckdb")]
    command = ["load", "orders", str(missing)]
    code = main([*options, *command] if order == "before" else [*command, *options])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("오류: ") and "nope.csv" in err and HANGUL.search(err)


# -- load progress -----------------------------------------------------------------------------


def test_load_progress_counts_rows_not_bytes(tmp_path):
    source = _orders_csv(tmp_path, 250)
    seen = []
    load_file("orders", source, store=tmp_path / "shop.duckdb",
              progress=lambda stage, done, total: seen.append((stage, done, total)))
    read = [(done, total) for stage, done, total in seen if stage == "read"]
    assert read[0] == (0, 250) and read[-1] == (250, 250)
    assert source.stat().st_size not in {t for _, t in read}


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "rows read: 0/250   0.0% (0 s)\nrows read: 250/250 100.0% (0 s)\n"),
    ("ko", "읽은 행: 0/250   0.0% (0초)\n읽은 행: 250/250 100.0% (0초)\n"),
])
def test_progress_line_says_what_it_counts(language, expected):
    from workbench.i18n import using_language

    stream = io.StringIO()
    with using_language(language):
        progress = Progress(stream, interval=0)
        progress("read", 0, 250)
        progress("read", 250, 250)
    assert stream.getvalue() == expected


# -- audience count on old data ----------------------------------------------------------------


def _last_order_day(store: Path):
    with duckdb.connect(str(store), read_only=True) as con:
        return con.execute("SELECT CAST(timezone('Asia/Seoul', max(ordered_at)) AS DATE) "
                           "FROM orders").fetchone()[0]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_audience_count_says_when_the_data_ends_long_before_as_of(sample_store, capsys,
                                                                  language):
    last = _last_order_day(sample_store)
    late = last + timedelta(days=29)
    base = ["audience", "count", "vip", "--store", str(sample_store), "--language", language]
    assert main([*base, "--as-of", late.isoformat()]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    note = out[1]
    assert last.isoformat() in note and late.isoformat() in note and "29" in note
    monday_after = last + timedelta(days=7 - last.weekday())
    assert f"--as-of {monday_after.isoformat()}" in note
    if language == "ko":
        assert note.startswith("참고: ")
        assert not re.search("[A-Za-z]", re.sub(r"--as-of \S+", "", note))
    else:
        assert note.startswith("Note: the data ends on")
    # as of the day after the data ends there is nothing to say
    assert main([*base, "--as-of", (last + timedelta(days=1)).isoformat()]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 1


# -- info --------------------------------------------------------------------------------------


def test_info_aligns_its_columns_and_pluralizes(sample_store, tmp_path, capsys):
    store = tmp_path / "shop.duckdb"
    shutil.copyfile(sample_store, store)
    with duckdb.connect(str(store)) as con:  # a table with exactly one row
        con.execute("DELETE FROM campaigns WHERE campaign_id <> (SELECT min(campaign_id) "
                    "FROM campaigns)")
        counts = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in ("orders", "campaigns", "customers")}
    assert counts["campaigns"] == 1 and counts["orders"] > 1
    assert main(["info", "--store", str(store)]) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if re.search(r" rows?$", x)]
    by_table = {x.split()[0]: x for x in lines}
    assert by_table["campaigns"].endswith(" 1 row")
    assert by_table["orders"].endswith(f" {counts['orders']:,} rows")
    # every count ends in the same column, however long the table's name
    assert len({x.rindex(" row") for x in lines}) == 1
    assert max(len(x.split()[0]) for x in lines) > 16  # snapshot_customers: longer than before

    assert main(["--language", "ko", "info", "--store", str(store)]) == 0
    ko = [x for x in capsys.readouterr().out.splitlines() if x.endswith("행")]
    assert len(ko) == len(lines) and not any("row" in x for x in ko)
    assert len({len(x) for x in ko}) == 1  # aligned: every line is as long as the others


# -- what git keeps ----------------------------------------------------------------------------


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)


@pytest.mark.skipif(shutil.which("git") is None or not (REPO / ".git").exists(),
                    reason="needs a git checkout")
def test_git_ignores_checkpoints_exports_and_reports_but_keeps_the_reports_readme():
    ignored = ["notebooks/.ipynb_checkpoints/overview-checkpoint.ipynb",
               "exports/cart.csv", "data/exports/cart.csv", "notebooks/overview.html",
               "reports/index.html", "reports/2026-W46/overview.html", "reports/_failed/x/a.ipynb"]
    for path in ignored:
        assert _git("check-ignore", "-q", path).returncode == 0, path
    assert _git("check-ignore", "-q", "reports/README.md").returncode == 1
    assert _git("ls-files", "--error-unmatch", "reports/README.md").returncode == 0
    assert "--out data/exports/" in (REPO / "README.md").read_text(encoding="utf-8")
