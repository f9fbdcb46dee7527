import re

import pytest

from workbench.errors import ParameterError
from workbench.settings import Settings, load_settings


def test_defaults_without_file():
    s = load_settings()
    assert (s.store, s.timezone, s.currency, s.language) == (
        "data/workbench.duckdb", "Asia/Seoul", "KRW", "en")
    assert s.source is None
    assert s.currency_digits == 0


def test_file_is_read_and_store_resolved_relative_to_it(tmp_path):
    cfg = tmp_path / "shop" / "workbench.toml"
    cfg.parent.mkdir()
    cfg.write_text('[workbench]\nstore = "db/x.duckdb"\nlanguage = "ko"\ncurrency = "USD"\n')
    s = load_settings(cfg)
    assert s.store == str(tmp_path / "shop" / "db" / "x.duckdb")
    assert s.language == "ko" and s.currency_digits == 2
    assert s.source == str(cfg)


def test_overrides_win_and_none_is_ignored(tmp_path, monkeypatch):
    cfg = tmp_path / "workbench.toml"
    cfg.write_text('[workbench]\nlanguage = "ko"\n')
    monkeypatch.setenv("WORKBENCH_CONFIG", str(cfg))
    assert load_settings(language="en", timezone=None).language == "en"
    assert load_settings().language == "ko"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timezone": "Seoul"}, "settings: unknown time zone 'Seoul'; use an IANA name such as "
                                "'Asia/Seoul' or 'UTC'."),
        ({"language": "jp"}, "settings: 'language' must be one of ['en', 'ko']; got 'jp'."),
        ({"gross_margin": 1.5}, "settings: 'gross_margin' must be in (0, 1]; got 1.5."),
        ({"currency": "won"}, "settings: 'currency' must be a 3-letter ISO 4217 code such as "
                              "'KRW'; got 'won'."),
    ],
    ids=["timezone", "language", "margin", "currency"],
)
def test_invalid_values_are_refused(fields, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        Settings(**fields)


def test_unknown_key_in_file(tmp_path):
    cfg = tmp_path / "workbench.toml"
    cfg.write_text('[workbench]\nstor = "x"\n')
    with pytest.raises(ParameterError, match=re.escape("unknown key(s) ['stor']")):
        load_settings(cfg)


def test_file_found_in_a_parent_folder_and_store_env_override(tmp_path, monkeypatch):
    (tmp_path / "workbench.toml").write_text('[workbench]\nlanguage = "ko"\n')
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    assert load_settings().language == "ko"
    monkeypatch.setenv("WORKBENCH_STORE", "/x/y.duckdb")
    assert load_settings().store == "/x/y.duckdb"
    assert load_settings(store="/z.duckdb").store == "/z.duckdb"
