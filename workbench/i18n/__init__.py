"""English and Korean messages, and number, currency and date formatting.

Messages live in ``locales/<area>.toml`` as tables of the two languages::

    [load.missing_columns]
    en = "{file}: missing required column(s) {missing} for table '{table}'."
    ko = "{file}: '{table}' 테이블에 필요한 열 {missing}이(가) 없습니다."

:func:`tr` looks a key up in the active language (``workbench.toml``'s ``language``, or the one
set by :func:`set_language`) and fills in the fields.

Examples
--------
>>> tr("cli.store_missing", language="ko", path="x.duckdb")[:13]
"저장소 'x.duckdb"
>>> format_money(1234567, "KRW", language="ko")
'₩1,234,567'
>>> format_date(__import__("datetime").date(2026, 11, 16), language="ko")
'2026-11-16 (월)'
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path

from babel.dates import format_date as _babel_format_date
from babel.numbers import format_currency, format_decimal

from workbench.errors import ParameterError

__all__ = ["format_date", "format_money", "format_number", "format_percent", "format_value",
           "get_language", "set_default_language", "set_language", "tr", "using_language"]

_LOCALES = {"en": "en_US", "ko": "ko_KR"}
_state: dict[str, str | None] = {"language": None, "default": None}


def set_language(language: str | None) -> None:
    """Set the language of messages for this process (``None``: back to the settings')."""
    if language is not None and language not in _LOCALES:
        raise ParameterError(f"language must be one of {sorted(_LOCALES)}; got {language!r}.")
    _state["language"] = language


def set_default_language(language: str | None) -> None:
    """Record the language of the settings last read (:func:`workbench.settings.load_settings`).

    Settings call this rather than this module reading settings: i18n sits below them, so
    settings can word their own errors in both languages.
    """
    if language in _LOCALES:
        _state["default"] = language


@contextlib.contextmanager
def using_language(language: str | None) -> Iterator[None]:
    """Make ``language`` the active language inside a ``with`` block, then restore the old one.

    A page in Korean runs its analysis inside ``using_language("ko")``, so an error the
    library raises reaches the manager in Korean even when the process default is English.

    >>> with using_language("ko"):
    ...     get_language()
    'ko'
    """
    previous = _state["language"]
    set_language(language)
    try:
        yield
    finally:
        _state["language"] = previous


def get_language() -> str:
    """Return the active language: the one set, else ``$WORKBENCH_LANGUAGE``, else the settings'.

    English when none of them says otherwise (the settings' language is known once a settings
    file has been read).
    """
    if _state["language"]:
        return _state["language"]
    env = os.environ.get("WORKBENCH_LANGUAGE")
    if env in _LOCALES:
        return env
    return _state["default"] or "en"


@cache
def _catalog() -> dict[str, dict[str, str]]:
    messages: dict[str, dict[str, str]] = {}
    for path in sorted((Path(__file__).parent / "locales").glob("*.toml")):
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        _flatten(raw, "", messages)
    return messages


def _flatten(node: dict, prefix: str, out: dict[str, dict[str, str]]) -> None:
    for key, value in node.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and "en" in value and isinstance(value["en"], str):
            out[name] = value
        elif isinstance(value, dict):
            _flatten(value, name + ".", out)


def tr(key: str, *, language: str | None = None, **fields: object) -> str:
    """Return the message ``key`` in the active language with ``fields`` filled in.

    A key missing from the catalogue raises ``KeyError`` (a bug, caught by the tests); a
    language missing for a key falls back to English.
    """
    entry = _catalog()[key]
    text = entry.get(language or get_language()) or entry["en"]
    return text.format(**fields)


def format_number(value: float, *, digits: int = 0, language: str | None = None) -> str:
    """Format a number with grouping, e.g. ``1,234,567``."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_LOCALES[language or get_language()])


def format_money(value: float, currency: str = "KRW", *, language: str | None = None) -> str:
    """Format an amount with the currency's own minor units (KRW: none), e.g. ``₩1,234,567``."""
    return format_currency(value, currency, locale=_LOCALES[language or get_language()])


def format_percent(value: object, *, digits: int = 1, signed: bool = False,
                   language: str | None = None) -> str:
    """Format a share as a percentage (``0.1234`` -> ``12.3%``); missing values as a dash.

    >>> format_percent(0.1234), format_percent(-0.05, signed=True), format_percent(None)
    ('12.3%', '-5.0%', '–')
    >>> format_percent(0.032, digits=0, signed=True)
    '+3%'
    """
    if _missing(value):
        return "–"
    percent = 100 * float(value)
    text = format_number(abs(percent) if signed else percent, digits=digits, language=language)
    sign = ("+" if percent >= 0 else "-") if signed else ""
    return f"{sign}{text}%"


def format_value(value: object, unit: str, currency: str = "KRW", *,
                 language: str | None = None) -> str:
    """Format a metric by its unit: ``money``, ``share`` (as %), ``ratio`` or a count.

    Missing values (``None``, NaN) show as a dash.

    >>> format_value(0.1234, "share", language="en")
    '12.3%'
    >>> format_value(None, "money")
    '–'
    """
    if _missing(value):
        return "–"
    if unit == "money":
        return format_money(value, currency, language=language)
    if unit == "share":
        return format_percent(value, language=language)
    if unit == "ratio":
        return format_number(value, digits=2, language=language)
    return format_number(value, language=language)


def _missing(value: object) -> bool:
    """Return whether ``value`` is None, NaN, NaT or pandas' NA (without importing pandas)."""
    if value is None:
        return True
    try:
        return bool(value != value)  # NaN and NaT differ from themselves
    except TypeError:  # pandas.NA has no truth value
        return True


def format_date(value: date, *, language: str | None = None) -> str:
    """Format a date as ``2026-11-16 (월)`` in Korean and ``Mon 16 Nov 2026`` in English."""
    if (language or get_language()) == "ko":
        return f"{value.isoformat()} ({_babel_format_date(value, 'E', locale='ko_KR')})"
    return _babel_format_date(value, "EEE d MMM y", locale="en_US")
