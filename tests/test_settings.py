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
        ({"language": "jp"}, "settings: 'language' must be one of en, ko; got 'jp'."),
        ({"gross_margin": 1.5}, "settings: 'gross_margin' must be a share in (0, 1], e.g. 0.3 "
                                "for 30%; got 1.5."),
        ({"currency": "won"}, "settings: 'currency' must be a 3-letter ISO 4217 code such as "
                              "'KRW'; got 'won'."),
        ({"amount_style": "lakh"}, "settings: 'amount_style' must be one of plain, man "
                                   "(plain: ₩66,200,000; man: 6,620만 원); got 'lakh'."),
    ],
    ids=["timezone", "language", "margin", "currency", "amount_style"],
)
def test_invalid_values_are_refused(fields, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        Settings(**fields)


@pytest.mark.parametrize(("text", "message"), [
    ('lock_timeout = "soon"', "'lock_timeout' must be a number of seconds"),
    ("earliest_date = 1800-01-01", "'earliest_date' must be a date between 1900-01-01"),
    ("max_years_ahead = 2.5", "'max_years_ahead' must be a whole number of years"),
    ("store = 7", "'store' must be a non-empty text in quotes"),
    ('language = "ko"\ngross_margin = 2', "'gross_margin'은 0 초과 1 이하의 비율이어야"),
], ids=["lock_timeout", "earliest_date", "max_years_ahead", "store", "korean"])
def test_bad_values_in_the_file_name_the_file_and_the_setting(tmp_path, text, message):
    cfg = tmp_path / "workbench.toml"
    cfg.write_text(f"[workbench]\n{text}\n", encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_settings(cfg)
    assert str(info.value).startswith(str(cfg.resolve())) and message in str(info.value)


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


def test_amount_style_defaults_by_language_and_is_followed(tmp_path, monkeypatch):
    from workbench.i18n import format_value, set_default_amount_style, set_default_language

    assert Settings().amount_style is None
    assert Settings(amount_style="plain").amount_style == "plain"
    cfg = tmp_path / "workbench.toml"
    monkeypatch.chdir(tmp_path)
    try:
        cfg.write_text('[workbench]\nlanguage = "ko"\n', encoding="utf-8")
        assert load_settings().amount_style is None
        assert format_value(66_200_000, "money", language="ko") == "6,620만 원"
        (tmp_path / "x").mkdir()
        cfg2 = tmp_path / "x" / "workbench.toml"
        cfg2.write_text('[workbench]\nlanguage = "ko"\namount_style = "plain"\n', encoding="utf-8")
        monkeypatch.chdir(tmp_path / "x")
        assert load_settings().amount_style == "plain"
        assert format_value(66_200_000, "money", language="ko") == "₩66,200,000"
    finally:
        set_default_amount_style(None)
        set_default_language("en")


def test_amount_style_in_the_file_is_validated(tmp_path):
    cfg = tmp_path / "workbench.toml"
    cfg.write_text('[workbench]\nlanguage = "ko"\namount_style = "만"\n', encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_settings(cfg)
    assert "'amount_style'은 plain, man 중 하나여야 합니다" in str(info.value)
