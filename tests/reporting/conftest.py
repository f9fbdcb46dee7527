"""Weekly report runs shared by the report tests (papermill kernels are slow to start)."""

import shutil

import pytest

from workbench.cli import main

SAMPLE_END = "2026-11-16"  # the sample_store fixture's end (tests/conftest.py)


@pytest.fixture(scope="package")
def weekly(tmp_path_factory, refreshed_store):
    """One real English weekly run of every notebook, shared by this folder's tests.

    It starts from the session's refreshed sample store with the churn model its refresh saved
    (not the page cache), so the report's refresh scores with that model instead of training
    the same one again; training a missing model during a refresh is what ``refreshed_store``
    itself checks (tests/conftest.py) and tests/churn/test_saved.py.
    """
    root = tmp_path_factory.mktemp("weekly")
    store = root / "shop.duckdb"
    shutil.copyfile(refreshed_store, store)
    shutil.copytree(refreshed_store.parent / "models", root / "models")
    code = main(["report", "weekly", "--as-of", SAMPLE_END, "--store", str(store),
                 "--out", str(root / "reports"), "-q"])
    assert code == 0
    return root


@pytest.fixture(scope="package")
def weekly_ko(tmp_path_factory, weekly):
    """A Korean weekly run of the two quickest notebooks (overview first, as in every run).

    It starts from the English run's store and the churn model that run saved beside it, so
    its refresh scores with the saved model instead of training one (52 s instead of 157 s
    for this run on the loaded 2-core machine).
    """
    root = tmp_path_factory.mktemp("weekly_ko")
    store = root / "shop.duckdb"
    shutil.copyfile(weekly / "shop.duckdb", store)
    if (weekly / "models").is_dir():
        shutil.copytree(weekly / "models", root / "models")
    code = main(["--language", "ko", "report", "weekly", "--as-of", SAMPLE_END, "--store",
                 str(store), "--out", str(root / "reports"), "--notebook", "overview",
                 "--notebook", "rfm", "-q"])
    assert code == 0
    return root
