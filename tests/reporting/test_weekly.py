"""The weekly report: real papermill runs on a real sample store, published atomically."""

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from workbench.cli import main
from workbench.reporting.notebooks import REPORT_NOTEBOOKS, notebooks_dir

SAMPLE_END = "2026-11-16"  # the sample_store fixture's end (conftest.py)
WEEK = "2026-W46"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_week_folder_has_one_page_per_notebook_index_and_run_json(weekly):
    folder = weekly / "reports" / WEEK
    names = {p.name for p in folder.iterdir()}
    assert names == {"index.html", "run.json", *(f"{n}.html" for n in REPORT_NOTEBOOKS)}
    run = json.loads((folder / "run.json").read_text())
    assert run["week"] == WEEK and run["as_of"] == SAMPLE_END
    assert run["period"] == ["2026-11-09", "2026-11-15"]
    assert re.fullmatch(r"[0-9a-f]{16}", run["fingerprint"])
    assert run["package_version"]
    assert [n["status"] for n in run["notebooks"]] == ["ok"] * len(REPORT_NOTEBOOKS)
    assert all(n["seconds"] > 0 for n in run["notebooks"])
    overview = next(n for n in run["notebooks"] if n["name"] == "overview")
    assert len(overview["headline"]) == 3  # the three numbers that changed most
    index = (folder / "index.html").read_text()
    assert "overview.html" in index and overview["headline"][0]["value"] in index
    all_weeks = (weekly / "reports" / "index.html").read_text()
    assert f"{WEEK}/index.html" in all_weeks


def test_html_is_self_contained_without_code_and_charts_carry_data(weekly):
    page = (weekly / "reports" / WEEK / "overview.html").read_text()
    assert not re.search(r"<script[^>]*src=[\"']https?://", page, re.I)
    assert "import workbench" not in page and "OverviewParams(" not in page
    assert page.count("Plotly.newPlot") >= 3
    # plotly.js itself is inlined once (about 4.7 MB), so charts draw offline
    assert "plotly.js v" in page or "plotly-latest" not in page
    assert len(page) > 3_000_000
    # the chart data is in the page: the trend chart has one point per week
    assert re.search(r'"x":\s*\[', page)


def _hidden(reports: Path) -> list[str]:
    """Hidden entries of a reports folder other than the lock runs take turns with."""
    return [p.name for p in reports.iterdir() if p.name.startswith(".") and
            p.name != ".report.lock"]


def test_rerun_replaces_the_week_cleanly_and_removes_what_killed_runs_left(weekly):
    reports = weekly / "reports"
    before = json.loads((reports / WEEK / "run.json").read_text())["started_at"]
    for name in (f".build-{WEEK}-abc123", ".scratch-def456"):  # as a kill -9 leaves them
        (reports / name).mkdir()
        (reports / name / "overview.ipynb").write_text("{}")
    code = main(["report", "weekly", "--as-of", SAMPLE_END, "--store",
                 str(weekly / "shop.duckdb"), "--out", str(reports), "-q"])
    assert code == 0
    after = json.loads((reports / WEEK / "run.json").read_text())["started_at"]
    assert after != before
    assert _hidden(reports) == []


def test_failing_notebook_keeps_earlier_reports_and_the_failed_copy(weekly, tmp_path, capsys):
    reports = weekly / "reports"
    before = _tree(reports / WEEK)
    broken = tmp_path / "notebooks"
    shutil.copytree(notebooks_dir(), broken)
    nb = nbformat.read(broken / "overview.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("raise RuntimeError('broken on purpose')"))
    nbformat.write(nb, broken / "overview.ipynb")
    code = main(["report", "weekly", "--as-of", SAMPLE_END, "--store",
                 str(weekly / "shop.duckdb"), "--out", str(reports), "-q",
                 "--notebooks-dir", str(broken)])
    err = capsys.readouterr().err
    assert code == 1
    assert "report notebook 'overview' failed at cell" in err
    assert "RuntimeError: broken on purpose" in err
    kept = list((reports / "_failed").glob("*/overview.ipynb"))
    assert len(kept) == 1 and "broken on purpose" in kept[0].read_text()
    assert _tree(reports / WEEK) == before
    assert _hidden(reports) == []


@pytest.mark.parametrize("case", ["foreign_index", "foreign_week", "file", "models"])
def test_report_never_replaces_what_it_did_not_write(sample_store, tmp_path, capsys, case):
    store = tmp_path / "shop.duckdb"
    shutil.copyfile(sample_store, store)
    out = tmp_path / "site"
    out.mkdir()
    if case == "foreign_index":
        (out / "index.html").write_text("<html>our shop's home page</html>")
    elif case == "foreign_week":
        (out / WEEK).mkdir()
        (out / WEEK / "notes.txt").write_text("mine")
    elif case == "file":
        out = tmp_path / "notes.txt"
        out.write_text("mine")
    else:
        out = tmp_path / "models"
    before = _tree(tmp_path)
    code = main(["report", "weekly", "--as-of", SAMPLE_END, "--store", str(store),
                 "--out", str(out), "-q"])
    err = " ".join(capsys.readouterr().err.split())  # messages wrap where the path ends
    assert code == 2, err
    assert "Traceback" not in err and ("--force" in err or "refusing" in err or "is a file" in err)
    assert {k: v for k, v in _tree(tmp_path).items() if not k.endswith(".report.lock")} == before


def test_stale_build_folders_are_removed_unless_a_run_holds_the_lock(tmp_path):
    import fcntl

    from workbench.reporting.run import clean_stale_reports

    reports = tmp_path / "reports"
    (reports / f".build-{WEEK}-x").mkdir(parents=True)
    (reports / ".scratch-y").mkdir()
    (reports / WEEK).mkdir()
    with open(reports / ".report.lock", "a+") as fh:  # a run in progress
        fcntl.flock(fh, fcntl.LOCK_EX)
        clean_stale_reports(reports)
        assert (reports / ".scratch-y").exists()
        fcntl.flock(fh, fcntl.LOCK_UN)
    clean_stale_reports(reports)
    assert sorted(p.name for p in reports.iterdir()) == [".report.lock", WEEK]


def test_pages_lead_with_net_revenue_link_back_and_carry_the_footer(weekly):
    """The static half of issue 15 point 6 (test_weekly_browser.py checks the rendered half)."""
    from workbench import __version__

    reports = weekly / "reports"
    run = json.loads((reports / WEEK / "run.json").read_text())
    assert run["data_until"] and run["snapshot"]["refreshed_at"]
    for index in (reports / "index.html", reports / WEEK / "index.html"):
        tiles = re.findall(r"class='wb-tile' data-metric='([^']+)'", index.read_text())
        assert tiles[0] == "net_revenue", index
    for name in REPORT_NOTEBOOKS:
        page = (reports / WEEK / f"{name}.html").read_text()
        assert "<a class='wb-back' href='index.html'>" in page, name
        footer = re.search(r"<footer class='wb-footer'>(.*?)</footer>", page).group(1)
        assert run["data_until"][:16] in footer and f"workbench {__version__}" in footer
        cells = re.findall(r"<td\b[^>]*>", re.sub(r"<script\b.*?</script>", "", page, flags=re.S))
        assert all("wb-num" in c or "wb-text" in c for c in cells), name


@pytest.mark.parametrize("language", ["en", "ko"])
def test_report_footer_shows_the_refresh_in_the_shops_zone_as_the_dashboards_do(language):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from workbench import __version__
    from workbench.reporting.html import report_footer

    refreshed = datetime(2026, 12, 7, 11, 28, 5, tzinfo=UTC)
    local = refreshed.astimezone(ZoneInfo("Asia/Seoul")).strftime("%Y-%m-%d %H:%M")
    footer = report_footer(data_until="2026-11-15 23:35:00+09:00",
                           snapshot={"as_of": "2026-11-16 00:00:00", "refreshed_at": refreshed},
                           language=language, timezone="Asia/Seoul")
    assert f"2026-11-16 ({local})" in footer and "2026-11-15 23:35" in footer
    assert f"workbench {__version__}" in footer
    assert ("스냅샷" in footer) == (language == "ko")
    utc = report_footer(data_until=None, snapshot={"as_of": "2026-11-16",
                                                   "refreshed_at": refreshed}, language=language)
    assert "(2026-12-07 11:28 UTC)" in utc
