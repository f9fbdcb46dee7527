"""Exports never clobber inputs, are safe to open in Excel, and exist exactly with their log row."""

from __future__ import annotations

import fcntl
import stat
from datetime import UTC, datetime

import pandas as pd
import pytest

from tests.audience.conftest import AS_OF
from workbench.audience import Audience, AudienceDefinition, Group, export_audience
from workbench.audience.cli import main
from workbench.audience.export import excel_safe
from workbench.data import connect, write_store
from workbench.errors import StoreError, UnsafeOutputError
from workbench.settings import Settings

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _push(store, **settings):
    d = AudienceDefinition("everyone", rules=Group("and", ()), channel="push", is_ad=False,
                           purpose="app update")
    s = Settings(store=str(store), **settings)
    return Audience(d, connect(store, settings=s), as_of=AS_OF, settings=s)


def _exports(store) -> int:
    con = connect(store)
    try:
        return int(con.table("audience_exports").count().execute())
    finally:
        con.disconnect()


@pytest.mark.parametrize("target", ["store", "lock", "models", "salt", "config", "message"])
def test_export_refuses_to_write_over_what_it_reads(tiny_copy, tmp_path, capsys, target):
    folder = tiny_copy.parent
    config = tmp_path / "workbench.toml"
    config.write_text(f'[workbench]\nstore = "{tiny_copy}"\n', encoding="utf-8")
    message = tmp_path / "msg.txt"
    message.write_text("앱 업데이트 안내", encoding="utf-8")
    (folder / "models").mkdir(exist_ok=True)
    (folder / "models" / "churn.json").write_text("{}")
    (folder / ".salt").write_text("s\n")
    path = {"store": tiny_copy, "lock": folder / (tiny_copy.name + ".lock"),
            "models": folder / "models" / "churn.json", "salt": folder / ".salt",
            "config": config, "message": message}[target]
    before = {p: p.read_bytes() for p in (tiny_copy, config, message) if p.exists()}
    code = main(["export", "vip", "--config", str(config), "--channel", "push", "--as-of",
                 "2026-11-16", "--message", str(message), "--purpose", "test", "--out",
                 str(path), "--force"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "refusing to write" in err and "Traceback" not in err
    assert {p: p.read_bytes() for p in before} == before


def test_an_existing_file_needs_force_and_a_folder_is_refused(tiny_copy, tmp_path):
    out = tmp_path / "push.csv"
    out.write_text("mine")
    aud = _push(tiny_copy)
    with pytest.raises(UnsafeOutputError, match="already exists.*--force"):
        export_audience(aud, out=out, now=NOW)
    assert out.read_text() == "mine" and _exports(tiny_copy) == 0
    with pytest.raises(UnsafeOutputError, match="is a folder"):
        export_audience(aud, out=tmp_path, now=NOW)
    export_audience(aud, out=out, now=NOW, force=True)
    aud.con.disconnect()
    assert out.read_text(encoding="utf-8-sig").startswith("customer_id")
    assert _exports(tiny_copy) == 1


def test_the_export_file_is_private(tiny_copy, tmp_path):
    aud = _push(tiny_copy)
    out = tmp_path / "out" / "push.csv"
    export_audience(aud, out=out, now=NOW)
    aud.con.disconnect()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["push.csv"]  # no temp files left


def test_formula_cells_are_neutralised(tiny_copy, tmp_path):
    """A customer id that Excel would run (OWASP CSV injection) is written as text."""
    with write_store(tiny_copy) as w:
        w.con.execute("UPDATE customers SET customer_id = '=HYPERLINK(\"http://x\",\"y\")' "
                      "WHERE customer_id = 'A'")
        w.con.execute("UPDATE customers SET customer_id = '+cmd|'' /C calc''!A0' "
                      "WHERE customer_id = 'C'")
    aud = _push(tiny_copy)
    export_audience(aud, out=tmp_path / "push.csv", now=NOW)
    aud.con.disconnect()
    cells = pd.read_csv(tmp_path / "push.csv", encoding="utf-8-sig", dtype=str)["customer_id"]
    assert not cells.str.match(r"^[=+\-@\t\r]").any()
    assert {"'=HYPERLINK(\"http://x\",\"y\")", "'+cmd|' /C calc'!A0"} <= set(cells)


@pytest.mark.parametrize("first", ["=", "+", "-", "@", "\t", "\r"])
def test_excel_safe_prefixes_every_formula_start(first):
    out = excel_safe(pd.DataFrame({"c": [f"{first}1", "a-b", "01012345678"]}))
    assert out["c"].tolist() == [f"'{first}1", "a-b", "01012345678"]


def test_no_file_without_its_log_row_when_the_store_stays_locked(tiny_copy, tmp_path):
    lock = tiny_copy.with_name(tiny_copy.name + ".lock")
    aud = _push(tiny_copy, lock_timeout=0.3)
    out = tmp_path / "out" / "push.csv"
    with open(lock, "a+") as fh:  # another writer holds the store
        fcntl.flock(fh, fcntl.LOCK_EX)
        with pytest.raises(StoreError, match="being written by another process"):
            export_audience(aud, out=out, now=NOW)
        fcntl.flock(fh, fcntl.LOCK_UN)
    aud.con.disconnect()
    assert list(out.parent.iterdir()) == [] and _exports(tiny_copy) == 0


def test_the_file_is_taken_back_when_the_store_write_fails_at_the_end(tiny_copy, tmp_path,
                                                                      monkeypatch):
    import workbench.data.store as store

    real = store.os.replace

    def failing_swap(src, dst):
        if str(dst) == str(tiny_copy.resolve()):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    out = tmp_path / "out" / "push.csv"
    out.parent.mkdir()
    out.write_text("previous export")
    aud = _push(tiny_copy)
    monkeypatch.setattr(store.os, "replace", failing_swap)
    with pytest.raises(OSError, match="No space left"):
        export_audience(aud, out=out, now=NOW, force=True)
    monkeypatch.undo()
    aud.con.disconnect()
    assert out.read_text() == "previous export"  # the file it replaced is back
    assert _exports(tiny_copy) == 0
    assert [p.name for p in out.parent.iterdir()] == ["push.csv"]
