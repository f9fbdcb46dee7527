"""The page cache: a kept result draws the very page a fresh computation draws, and is trusted
only for the same store file, parameters, settings, code and models."""

from __future__ import annotations

import dataclasses
import json
import shutil
import stat
import zipfile
from datetime import date

import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings

from workbench.data import write_store
from workbench.reporting.params import params_for
from workbench.settings import load_settings
from workbench.ui import cache
from workbench.ui.warm import PAGES, warm

from .conftest import SAMPLE_END


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory, refreshed_store):
    """A private copy of the refreshed sample store's folder (store, models, page cache)."""
    folder = tmp_path_factory.mktemp("cached") / "shop"
    shutil.copytree(refreshed_store.parent, folder)
    shutil.rmtree(folder / "cache", ignore_errors=True)  # start without kept results
    return folder / refreshed_store.name


@pytest.fixture(autouse=True)
def _cache_on(monkeypatch):
    monkeypatch.setenv("WORKBENCH_PAGE_CACHE", "1")


def _page(name: str, store, language: str, **changes):
    module, class_name = PAGES[name]
    import importlib

    cls = getattr(importlib.import_module(f"workbench.ui.{module}"), class_name)
    params = params_for(name)(store=str(store), language=language, mode="dashboard",
                              as_of=date.fromisoformat(SAMPLE_END))
    page = cls(params.replace(**changes) if changes else params,
               settings=load_settings().replace(store=str(store)))
    return page


def _drawn(page) -> list[str]:
    """Everything the page shows below its headline, as text (HTML, and figures as JSON)."""
    page.compute()
    assert page.error is None, page.error
    r = page.result
    parts = [r.message] if page.ok else [r.message]
    if page.ok:
        parts += [p if isinstance(p, str) else p.to_json() for p in page.static_parts()]
    return parts


@pytest.mark.parametrize("name", list(PAGES))
@pytest.mark.parametrize("language", ["en", "ko"])
def test_a_kept_result_draws_the_same_page(refreshed, name, language, monkeypatch):
    monkeypatch.setenv("WORKBENCH_PAGE_CACHE", "0")
    live = _drawn(_page(name, refreshed, language))
    monkeypatch.setenv("WORKBENCH_PAGE_CACHE", "1")
    first = _page(name, refreshed, language)
    entry = cache.result_key(first.page_name(), first.params, first.settings, str(refreshed))
    assert entry is not None
    assert _drawn(first) == live                 # computed and kept
    assert cache.load(str(refreshed), entry) is not None
    again = _page(name, refreshed, language)
    kept = cache.load(str(refreshed), entry)
    again.run = lambda: pytest.fail("a kept result must not be computed again")  # noqa: ARG005
    assert _drawn(again) == live                 # read back, drawn the same
    for f in dataclasses.fields(kept):
        a, b = getattr(kept, f.name), getattr(first.result, f.name)
        if isinstance(a, pd.DataFrame):
            pd.testing.assert_frame_equal(a, b, check_index_type=False, check_column_type=False)


def test_files_are_private_and_of_one_store_version(refreshed):
    folder = cache.cache_dir(str(refreshed))
    _drawn(_page("overview", refreshed, "en"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.glob(f"*{cache.SUFFIX}"))
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    assert len({f.name.split("-")[0] for f in files}) == 1


def test_a_store_write_parameters_settings_and_models_change_the_key(tmp_path, refreshed):
    store = tmp_path / "shop.duckdb"
    shutil.copyfile(refreshed, store)
    page = _page("cohorts", store, "en")
    settings = page.settings
    key = cache.result_key("cohorts", page.params, settings, str(store))
    assert key == cache.result_key("cohorts", page.params.replace(mode="report"), settings,
                                   str(store))           # the mode does not change a result
    assert key != cache.result_key("cohorts", page.params.replace(cycle_level="product"),
                                   settings, str(store))
    assert key != cache.result_key("cohorts", page.params, settings.replace(timezone="UTC"),
                                   str(store))
    assert key != cache.result_key("rfm", page.params, settings, str(store))
    (tmp_path / "models").mkdir(exist_ok=True)
    (tmp_path / "models" / "churn.skops").write_bytes(b"retrained")
    retrained = cache.result_key("cohorts", page.params, settings, str(store))
    assert retrained != key
    with write_store(store) as w:                 # any load or refresh replaces the file
        w.write("products", pd.DataFrame({"product_id": ["NEW-1"], "price": [1000.0]}))
    assert cache.result_key("cohorts", page.params, settings, str(store))[0] != retrained[0]


def test_a_write_makes_the_page_compute_again_and_drops_old_files(tmp_path, refreshed):
    store = tmp_path / "shop.duckdb"
    shutil.copyfile(refreshed, store)
    _drawn(_page("overview", store, "en"))
    old = {f.name for f in cache.cache_dir(str(store)).glob(f"*{cache.SUFFIX}")}
    with write_store(store) as w:
        w.write("products", pd.DataFrame({"product_id": ["NEW-2"], "price": [1000.0]}))
    page = _page("overview", store, "en")
    calls = []
    run = page.run
    page.run = lambda: calls.append(1) or run()
    _drawn(page)
    assert calls == [1]
    now = {f.name for f in cache.cache_dir(str(store)).glob(f"*{cache.SUFFIX}")}
    assert now and not now & old


def _write_entry(store, entry, data: bytes) -> None:
    path = cache.cache_dir(str(store)) / f"{entry[0]}-{entry[1]}{cache.SUFFIX}"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)


def _zip(tree: object) -> bytes:
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("tree.json", json.dumps(tree))
    return buf.getvalue()


@pytest.mark.parametrize("tree", [
    {"$dc": "os:system", "fields": {}},                       # not a workbench class
    {"$dc": "workbench.ui.cache:load", "fields": {}},          # a function, not a dataclass
    {"$enum": "subprocess:Popen", "value": "ls"},
    {"$dc": "workbench.kpi.overview:OverviewResult", "fields": {"as_of": 1}},  # fields differ
    {"$what": 1},
])
def test_a_foreign_or_damaged_file_is_refused_and_the_page_computes(tmp_path, refreshed, tree):
    with pytest.raises(ValueError):
        cache.decode(_zip(tree))
    store = tmp_path / "shop.duckdb"
    shutil.copyfile(refreshed, store)
    page = _page("overview", store, "en")
    entry = cache.result_key("overview", page.params, page.settings, str(store))
    for data in (_zip(tree), b"PK\x03\x04 truncated", b""):
        _write_entry(store, entry, data)
        assert cache.load(str(store), entry) is None
    assert _drawn(page)[0]  # computed, drawn


def test_no_cache_for_a_url_store_or_when_turned_off(monkeypatch, refreshed):
    assert cache.cache_dir("duckdb://x.duckdb") is None
    assert cache.result_key("overview", params_for("overview")(), load_settings(),
                            "postgres://h/db") is None
    monkeypatch.setenv("WORKBENCH_PAGE_CACHE", "0")
    assert not cache.enabled()
    assert cache.load(str(refreshed), ("a", "b")) is None
    assert not cache.save(str(refreshed), ("a", "b"), object())


def test_an_unwritable_folder_or_result_only_means_no_cache(tmp_path, refreshed):
    assert not cache.save(str(refreshed), ("v", "k"), object())  # not a result tree
    store = tmp_path / "shop.duckdb"
    shutil.copyfile(refreshed, store)
    (tmp_path / "cache").write_text("a file where the folder would be")  # even root fails
    page = _page("overview", store, "en")
    assert _drawn(page)[0]
    entry = cache.result_key("overview", page.params, page.settings, str(store))
    assert not cache.save(str(store), entry, page.result)
    assert cache.load(str(store), entry) is None
    (tmp_path / "cache").unlink()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "cache").symlink_to(elsewhere)       # never written through a link
    assert not cache.save(str(store), entry, page.result) and not any(elsewhere.iterdir())


def test_warm_keeps_the_defaults_and_every_form_variant(tmp_path, refreshed):
    store = tmp_path / "shop.duckdb"
    shutil.copyfile(refreshed, store)
    settings = load_settings().replace(store=str(store))
    report = warm(str(store), settings=settings, languages=("ko",),
                  notebooks=("cohorts", "overview"))
    assert report.failed == ()
    for name in ("cohorts", "overview"):
        page = _page(name, store, "ko")
        page.params = page.params.replace(as_of=page._default_as_of())
        for changes in [{}, *page.variants()]:
            params = page.params.replace(**changes)
            assert cache.load(str(store), cache.result_key(name, params, page.settings,
                                                           str(store))) is not None, changes
    assert report.results == 3 + 2  # cohorts: default, level, channel; overview: W, M
    assert "5 page results" in report.summary("en")


# ------------------------------------------------------------------------------ the codec
_labels = st.one_of(st.text(max_size=8), st.integers(-5, 500))
_cells = st.one_of(st.floats(allow_nan=True), st.integers(-2**40, 2**40))


@st.composite
def _frames(draw):
    names = draw(st.lists(_labels, max_size=5, unique=True))
    n = draw(st.integers(0, 6))
    data = {c: draw(st.lists(_cells, min_size=n, max_size=n)) for c in names}
    frame = pd.DataFrame(data, columns=names)
    if names and n and draw(st.booleans()):
        frame[names[0]] = pd.Categorical([str(i % 2) for i in range(n)])
    if n and draw(st.booleans()):
        frame["when"] = pd.date_range("2026-01-01", periods=n, freq="D", tz="Asia/Seoul")
    return frame


@given(frame=_frames(), scalar=st.one_of(st.none(), st.booleans(), st.floats(), st.text(),
                                         st.integers(-2**60, 2**60),
                                         st.dates(min_value=date(1990, 1, 1))))
@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_frames_and_values_come_back_equal(frame, scalar):
    from workbench.results import Status

    tree = {"frame": frame, "items": (scalar, [scalar], Status.OK),
            "when": pd.Timestamp("2026-03-29 01:30", tz="Europe/Berlin")}
    back = cache.decode(cache.encode(tree))
    pd.testing.assert_frame_equal(back["frame"], frame, check_index_type=False,
                                  check_column_type=False)
    assert list(back["frame"].columns) == list(frame.columns)
    a, b = back["items"][0], scalar
    assert a == b or (a != a and b != b)
    assert back["items"][2] is Status.OK and back["when"] == tree["when"]
    assert str(back["when"].tz) == "Europe/Berlin"
