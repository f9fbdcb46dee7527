"""Shared fixtures: seeded random generators, slow-test switch, isolated settings."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tests._xdist import shared_dir
from workbench.i18n import set_language

# Scripts that compute reference values with other libraries (some not installed for the tests);
# the tests read their committed JSON output.
collect_ignore_glob = ["*/reference/*"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", help="also run tests marked slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _seeds() -> list[int]:
    value = os.environ.get("WORKBENCH_TEST_SEED", "42")
    return list(range(100)) if value == "all" else [int(value)]


@pytest.fixture(params=_seeds())
def rng(request: pytest.FixtureRequest) -> np.random.Generator:
    """A generator seeded from WORKBENCH_TEST_SEED (default 42; 'all' sweeps seeds 0-99)."""
    return np.random.default_rng(request.param)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    """Keep tests away from the developer's workbench.toml and data/workbench.duckdb."""
    monkeypatch.delenv("WORKBENCH_CONFIG", raising=False)
    monkeypatch.delenv("WORKBENCH_STORE", raising=False)
    monkeypatch.delenv("WORKBENCH_LANGUAGE", raising=False)
    monkeypatch.setenv("WORKBENCH_SALT", "test-salt")
    # Pages compute every time unless a test turns the page cache on (tests/test_page_cache.py):
    # a result kept by one test must not answer for another that patches an analysis.
    monkeypatch.setenv("WORKBENCH_PAGE_CACHE", "0")
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))
    set_language("en")
    yield
    set_language(None)


SAMPLE_END = "2026-11-16"  # a Monday: the sample's last complete week is 2026-W46


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory: pytest.TempPathFactory):
    """A small synthetic store (2,000 customers), built once; copy it before writing to it."""
    from datetime import date

    from workbench.data.sample import write_sample

    def build(folder):
        write_sample(folder / "shop.duckdb", 2_000, seed=7, end=date.fromisoformat(SAMPLE_END))

    return shared_dir(tmp_path_factory, "sample", build) / "shop.duckdb"


@pytest.fixture
def store_copy(sample_store, tmp_path):
    """A private copy of the sample store for tests that write."""
    import shutil

    target = tmp_path / "shop.duckdb"
    shutil.copyfile(sample_store, target)
    return target


@pytest.fixture(scope="session")
def refreshed_store(sample_store, tmp_path_factory: pytest.TempPathFactory):
    """The sample store after ``workbench refresh --as-of 2026-11-16``, built once per session.

    As after ``make demo``: the snapshot tables in the store and, in its folder, what refresh
    keeps beside it (the saved churn model in ``models/``, a page cache). Dashboards and reads
    use it as it is (pages open the store read-only); a test that refreshes, loads or otherwise
    writes takes :func:`refreshed_copy`. The refresh runs as a user runs it: the command in
    its own process, away from any workbench.toml, with the tests' salt.
    """
    import shutil
    import subprocess
    import sys

    def build(folder):
        store = folder / "shop.duckdb"
        shutil.copyfile(sample_store, store)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
        env["WORKBENCH_SALT"] = "test-salt"
        done = subprocess.run(
            [sys.executable, "-m", "workbench.cli", "refresh", "--store", str(store), "--as-of",
             SAMPLE_END, "-q"], capture_output=True, text=True, timeout=900, cwd=folder, env=env)
        assert done.returncode == 0, done.stderr
        assert (folder / "models" / "churn.skops").is_file()  # refresh saved the missing model

    return shared_dir(tmp_path_factory, "refreshed", build) / "shop.duckdb"


@pytest.fixture
def refreshed_copy(refreshed_store, tmp_path):
    """A private copy of :func:`refreshed_store` with everything beside it (models, cache)."""
    import shutil

    folder = tmp_path / "refreshed"
    shutil.copytree(refreshed_store.parent, folder)
    return folder / refreshed_store.name


@pytest.fixture
def memo_store(refreshed_copy):
    """``(connection, settings, path)`` of a refreshed store copy, with the memos emptied."""
    from workbench.data import connect
    from workbench.data.memo import clear_memos
    from workbench.settings import Settings

    settings = Settings(store=str(refreshed_copy))
    con = connect(refreshed_copy, settings=settings)
    clear_memos()
    yield con, settings, refreshed_copy
    con.disconnect()
