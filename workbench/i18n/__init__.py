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
'2026년 11월 16일 (월)'
>>> format_money(66_200_000, "KRW", language="ko", style="man")
'6,620만 원'

Korean particles
----------------
A particle after a filled-in field depends on how the field's last character is read: 이/가,
은/는, 을/를, 과/와, 으로/로. Catalogue strings either name the pair in the field's format
spec, ``"{name:이/가} 없습니다"``, or keep the written fallback, ``"{name}이(가) 없습니다"``
(needed after a closing quote: ``"'{path}'이(가)"``); :func:`tr` resolves both from the text
actually filled in (:func:`josa` gives the rule), so a Korean reader never sees "(가)".
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import string
import tomllib
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path

from babel.dates import format_date as _babel_format_date
from babel.numbers import format_currency, format_decimal

from workbench.errors import ParameterError

__all__ = ["AMOUNT_STYLES", "format_date", "format_money", "format_number", "format_percent",
           "format_value", "get_amount_style", "get_language", "has_final_consonant", "josa",
           "set_default_amount_style", "set_default_language", "set_language", "tr",
           "using_language"]

_LOCALES = {"en": "en_US", "ko": "ko_KR"}
AMOUNT_STYLES = ("plain", "man")
_state: dict[str, str | None] = {"language": None, "default": None, "amount_style": None}


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


def set_default_amount_style(style: str | None) -> None:
    """Record the settings' ``amount_style`` (``None``: by language, 만/억 in Korean)."""
    if style is not None and style not in AMOUNT_STYLES:
        raise ParameterError(f"amount_style must be one of {list(AMOUNT_STYLES)}; got {style!r}.")
    _state["amount_style"] = style


def get_amount_style(language: str | None = None) -> str:
    """Return how headline amounts are written: ``"man"`` (만/억) or ``"plain"`` (₩66,200,000).

    The settings' ``amount_style`` when one was read, else ``"man"`` for Korean and
    ``"plain"`` for English. English text is always plain: 만/억 is a Korean way of reading.

    >>> get_amount_style("en"), get_amount_style("ko")
    ('plain', 'man')
    """
    if (language or get_language()) != "ko":
        return "plain"
    return _state["amount_style"] or "man"


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


# How Korean reads the last digit of a number: True when the reading ends in a consonant
# (영 일 삼 육 칠 팔 ... ), and whether that consonant is ㄹ (일 칠 팔: "로", not "으로").
_DIGIT_FINAL = {"0": "ㅇ", "1": "ㄹ", "2": "", "3": "ㅁ", "4": "", "5": "", "6": "ㄱ",
                "7": "ㄹ", "8": "ㄹ", "9": ""}
# Round numbers are read by their last unit: 10 십, 100 백, 1000 천, 10^4 만, 10^8 억, 10^12 조.
_ZERO_UNITS = [(12, ""), (8, "ㄱ"), (4, "ㄴ"), (3, "ㄴ"), (2, "ㄱ"), (1, "ㅂ")]
# Latin letters said alone (acronyms such as SMS, CSV, URL): 엘 엠 엔 알 end in a consonant.
_LETTER_FINAL = {"l": "ㄹ", "m": "ㅁ", "n": "ㄴ", "r": "ㄹ"}
# Marks read through: the particle follows the word inside quotes or brackets.
_CLOSERS = "'\"’”」』)]}>`»*_ "
_PAIRS = {"이/가": ("이", "가"), "은/는": ("은", "는"), "을/를": ("을", "를"),
          "과/와": ("과", "와"), "으로/로": ("으로", "로"), "이나/나": ("이나", "나"),
          "이다/다": ("이다", "다"), "이에요/예요": ("이에요", "예요"), "아/야": ("아", "야")}
_LEGACY = re.compile(r"이\(가\)|은\(는\)|을\(를\)|과\(와\)|와\(과\)|\(으\)로|\(이\)나")
_LEGACY_PAIR = {"이(가)": "이/가", "은(는)": "은/는", "을(를)": "을/를", "과(와)": "과/와",
                "와(과)": "과/와", "(으)로": "으로/로", "(이)나": "이나/나"}


def _final_sound(word: str) -> str | None:
    """Return the final consonant of how Korean reads ``word`` ('' for a vowel, None: unknown)."""
    text = word.rstrip(_CLOSERS)
    if not text:
        return None
    last = text[-1]
    if "가" <= last <= "힣":
        final = (ord(last) - 0xAC00) % 28  # 0: no 받침, 8: ㄹ
        return "" if final == 0 else "ㄹ" if final == 8 else "ㅂ"
    if last == "%":  # 퍼센트
        return ""
    if last.isdigit() and last.isascii():
        number = re.search(r"[0-9][0-9,]*(\.[0-9]+)?$", text).group(0)
        if "." in number:  # decimals are read digit by digit: 3.10 삼 점 일 영
            return _DIGIT_FINAL[last]
        digits = number.replace(",", "")
        zeros = len(digits) - len(digits.rstrip("0"))
        if zeros == 0 or digits.strip("0") == "":
            return _DIGIT_FINAL[last]
        return next(final for power, final in _ZERO_UNITS if zeros >= power)
    if last.isascii() and last.isalpha():
        tail = re.search(r"[A-Za-z]+$", text).group(0)
        if tail.isupper() and len(tail) <= 5:  # an acronym: letter names
            return _LETTER_FINAL.get(tail[-1].lower(), "")
        lower = tail.lower()
        if len(lower) > 2 and lower[-1] == "e" and lower[-2] in "lmn":  # a silent e
            lower = lower[:-1]  # file 파일, name 네임, phone 폰
        if lower.endswith("l"):
            return "ㄹ"
        if lower.endswith(("m", "n")):
            return "ㅂ"
        if lower[-1] in "bkp" and len(lower) > 1 and lower[-2] in "aeiou":  # web 웹, book 북
            return "ㅂ"
        return ""  # desk 데스크, duckdb 덕디비: a final b, k or p after a consonant is voiced
    return None


def has_final_consonant(word: str) -> bool | None:
    """Return whether Korean reads ``word`` ending in a consonant (받침); None when unknown.

    The rule: the last character after closing quotes and brackets. A Hangul syllable by its
    받침. A digit as Korean reads the number: 1 일, 2 이, 3 삼, 6 육, 7 칠, 8 팔, 0 영 end in
    a consonant, and round numbers by their unit (10 십, 100 백, 1,000 천, 10,000 만 do; 조
    does not). ``%`` is 퍼센트 (a vowel). Latin letters: an all-capital word of up to five
    letters is read letter by letter, so it ends in a consonant only after L, M, N, R (엘, 엠,
    엔, 알); another word ends in a consonant when it ends in l (ㄹ: email 이메일), m, n, ng
    (team 팀, login 로그인), also before a silent e (file 파일, name 네임, phone 폰), or in b,
    k, p right after a vowel letter (web 웹, book 북, shop 숍),
    and in a vowel otherwise (data 데이터, cafe 카페, set 세트, card 카드, desk 데스크,
    duckdb 덕디비). Anything else (symbols, empty) is unknown.

    >>> [has_final_consonant(w) for w in ("챔피언", "고객", "cafe24", "10", "SMS", "email")]
    [True, True, False, True, False, True]
    """
    final = _final_sound(word)
    return None if final is None else bool(final)


def josa(word: object, pair: str) -> str:
    """Return ``word`` followed by the particle of ``pair`` that its last sound asks for.

    ``pair`` is consonant form / vowel form: ``"이/가"``, ``"은/는"``, ``"을/를"``, ``"과/와"``,
    ``"으로/로"`` (ㄹ takes 로, as in 서울로), ``"이나/나"``. When the sound cannot be told the
    written fallback ``이(가)`` is kept. See :func:`has_final_consonant` for the reading rule.

    >>> josa("챔피언", "이/가"), josa("'cafe24'", "은/는"), josa("서울", "으로/로")
    ('챔피언이', "'cafe24'는", '서울로')
    >>> josa("파일 7", "으로/로"), josa("고객 3명", "을/를")
    ('파일 7로', '고객 3명을')
    """
    text = str(word)
    with_consonant, with_vowel = _PAIRS[pair]
    final = _final_sound(text)
    if final is None:
        if pair == "으로/로":
            return f"{text}(으)로"
        return f"{text}{with_consonant}({with_vowel})"
    if pair == "으로/로":
        return text + ("로" if final in ("", "ㄹ") else "으로")
    return text + (with_consonant if final else with_vowel)


class _Formatter(string.Formatter):
    """``str.format`` plus a particle spec: ``{name:이/가}`` fills ``name`` and its particle."""

    def format_field(self, value: object, format_spec: str) -> str:
        if "/" in format_spec:
            spec, _, pair = format_spec.rpartition(":") if format_spec.count(":") else \
                ("", "", format_spec)
            if pair in _PAIRS:
                return josa(format(value, spec), pair)
        return format(value, format_spec)


_FORMATTER = _Formatter()


def _resolve_fallbacks(text: str) -> str:
    """Replace written fallbacks (``이(가)``, ``은(는)``, ``(으)로`` ...) by the right particle."""
    def pick(match: re.Match[str]) -> str:
        before = text[:match.start()]
        resolved = josa(before, _LEGACY_PAIR[match.group(0)])
        if resolved.endswith(("(가)", "(는)", "(를)", "(와)", "(으)로", "(이)나")):
            return match.group(0)  # the sound before cannot be told: keep the fallback
        return resolved[len(before):]

    return _LEGACY.sub(pick, text)


def tr(key: str, *, language: str | None = None, **fields: object) -> str:
    """Return the message ``key`` in the active language with ``fields`` filled in.

    A key missing from the catalogue raises ``KeyError`` (a bug, caught by the tests); a
    language missing for a key falls back to English. Korean particles are chosen by the
    filled-in text (see the module docstring and :func:`josa`).

    >>> tr("settings.file_missing", language="ko", path="'workbench.toml'")
    "설정: 파일 'workbench.toml'이 없습니다."
    """
    entry = _catalog()[key]
    lang = language or get_language()
    text = entry.get(lang) or entry["en"]
    filled = _FORMATTER.vformat(text, (), fields)
    return _resolve_fallbacks(filled) if lang == "ko" else filled


def format_number(value: float, *, digits: int = 0, language: str | None = None) -> str:
    """Format a number with grouping, e.g. ``1,234,567``."""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=pattern, locale=_LOCALES[language or get_language()])


def format_money(value: float, currency: str = "KRW", *, language: str | None = None,
                 style: str | None = "plain") -> str:
    """Format an amount with the currency's own minor units (KRW: none), e.g. ``₩1,234,567``.

    ``style="man"`` writes Korean won as Korean managers read large amounts (see
    :func:`_man_amount` for the rounding); ``style=None`` follows the settings'
    ``amount_style`` (:func:`get_amount_style`), which headline numbers use. Tables and
    exports keep the default ``"plain"``: exact to the won. English and currencies other than
    KRW are always plain.

    >>> format_money(1_234_567_890, language="ko", style="man")
    '12억 3,457만 원'
    >>> format_money(1_234_567_890, language="en", style="man")
    '₩1,234,567,890'
    """
    lang = language or get_language()
    if style is None:
        style = get_amount_style(lang)
    if style not in AMOUNT_STYLES:
        raise ParameterError(f"format_money: style must be one of {list(AMOUNT_STYLES)} or None; "
                             f"got {style!r}.")
    if style == "man" and lang == "ko" and currency.upper() == "KRW" and math.isfinite(value):
        return _man_amount(value)
    return format_currency(value, currency, locale=_LOCALES[lang])


def _man_amount(value: float) -> str:
    """Write won in 만 (10^4) and 억 (10^8) units, e.g. ``6,620만 원``, ``12억 3,457만 원``.

    Rounding rule: below 1,000,000 won the amount is exact to the won (``892,453원``); from
    100만 on it is rounded half up to the nearest 만 (so at most 5,000 won off, under 0.5%),
    and from 1억 on written as 억 and the remaining 만 (``12억 원`` when no 만 remain). The sign
    is kept in front. No 조: ``12,345억 원`` stays readable.
    """
    sign = "-" if value < 0 else ""
    won = math.floor(abs(value) + 0.5)
    if won < 1_000_000:
        return f"{sign}{won:,}원"
    man = (won + 5_000) // 10_000
    eok, rest = divmod(man, 10_000)
    if not eok:
        return f"{sign}{rest:,}만 원"
    if not rest:
        return f"{sign}{eok:,}억 원"
    return f"{sign}{eok:,}억 {rest:,}만 원"


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
                 language: str | None = None, style: str | None = None) -> str:
    """Format a headline metric by its unit: ``money``, ``share`` (as %), ``ratio`` or a count.

    Missing values (``None``, NaN) show as a dash. Money follows the settings' amount style
    (``style=None``; 만/억 in Korean by default, see :func:`format_money`).

    >>> format_value(0.1234, "share", language="en")
    '12.3%'
    >>> format_value(None, "money")
    '–'
    """
    if _missing(value):
        return "–"
    if unit == "money":
        return format_money(value, currency, language=language, style=style)
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
    """Format a date as ``2026년 11월 16일 (월)`` in Korean and ``Mon 16 Nov 2026`` in English.

    Korean order is year, month, day, then the weekday (Babel's ko_KR names), as Korean
    calendars and receipts write it.
    """
    if (language or get_language()) == "ko":
        return _babel_format_date(value, "y년 M월 d일 (E)", locale="ko_KR")
    return _babel_format_date(value, "EEE d MMM y", locale="en_US")
