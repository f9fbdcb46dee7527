"""Text to typed values for imports, vectorised with pyarrow (and pandas for date parsing).

Every source column is read as text first (IDs keep their leading zeros); these functions turn
text into the kinds of the data contract. Each returns a :class:`Converted`: the values (null
where the input was empty or invalid) and a mask of the non-empty inputs that could not be
converted, so the caller can report the rows. Nothing here loops over rows in Python, except
over *distinct* phone numbers.

Examples
--------
>>> import pyarrow as pa
>>> to_number(pa.array(["12,345원", "₩1,000", " 7 ", "(1,500)", "", "abc"])).values.to_pylist()
[12345.0, 1000.0, 7.0, -1500.0, None, None]
>>> to_number(pa.array(["1", "x"])).bad.tolist()
[False, True]
>>> to_boolean(pa.array(["T", "N", "동의", "미동의", "1", None])).values.to_pylist()
[True, False, True, False, True, None]
>>> ts = to_timestamp(pa.array(["2024-01-15 13:45:12", "20240115", "2024-01-15T13:45:12+09:00"]),
...                   "Asia/Seoul").values
>>> [t.isoformat() for t in ts.to_pylist()]
['2024-01-15T04:45:12+00:00', '2024-01-14T15:00:00+00:00', '2024-01-15T04:45:12+00:00']
"""

from __future__ import annotations

import string
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from workbench.privacy import normalize_phone

__all__ = [
    "BOOLEAN_FALSE",
    "BOOLEAN_TRUE",
    "MAX_ABS_NUMBER",
    "Converted",
    "bad_emails",
    "bad_phones",
    "clean_text",
    "control_characters",
    "mangled_ids",
    "normalize_phones",
    "normalized_values",
    "render_template",
    "round_money",
    "sequence_numbers",
    "strip_decimal_zero",
    "to_boolean",
    "to_date",
    "to_integer",
    "to_number",
    "to_timestamp",
    "transform_text",
]

# Compared in lower case without spaces ("수신 거부" = "수신거부"). Member exports write consent
# as T/F (Cafe24 API: T 수신, F 수신안함), Y/N, 동의/거부 or 수신/수신거부 (PRODUCT_NOTES 2.5).
BOOLEAN_TRUE = ("t", "true", "y", "yes", "1", "1.0", "o", "on", "동의", "예", "수신", "수신동의",
                "동의함", "수신함", "수신허용")
BOOLEAN_FALSE = ("f", "false", "n", "no", "0", "0.0", "x", "off", "거부", "미동의", "아니오",
                 "수신거부", "비동의", "동의안함", "수신안함", "미수신", "수신거절", "절대수신안함")

# Currency signs, units and codes that exports put into amount cells ("12,345원", "₩12,345").
_NUMBER_NOISE = r"[\s,원₩￦$£€¥]|(?i:krw|usd|gbp|eur|jpy)"
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
# An offset or "Z" after a clock time marks an aware timestamp ("...13:45:12+09:00").
_AWARE = r"\d:\d\d(?::\d\d(?:\.\d+)?)?\s*(?:Z|[+-]\d\d:?\d\d)$"
_EXCEL_EXPONENT = r"^[+-]?\d(\.\d+)?[eE]\+?\d+$"
# Dates ISO 8601 does not cover: Korean Excel ("2024. 1. 15. 오후 1:45:12", "2024년 1월 15일"),
# slashes and dots ("2024/1/5"), compact digits ("20240115134512").
_LOOSE = (r"^(?P<y>\d{4})(?:\s*(?:[./-]|년)\s*(?P<m>\d{1,2})\s*(?:[./-]|월)\s*(?P<d>\d{1,2})"
          r"\s*[.일]?|(?P<m2>\d{2})(?P<d2>\d{2}))"
          r"(?:\s*T?\s*(?P<p1>오전|오후|[AaPp][Mm])?\s*(?P<H>\d{1,2}):?(?P<M>\d{2})"
          r"(?::?(?P<S>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?\s*(?P<p2>오전|오후|[AaPp][Mm])?)?\s*$")
_UTC = pa.timestamp("us", tz="UTC")

#: Largest magnitude a number may have: no amount, quantity or count of a shop comes near a
#: quadrillion, and beyond 2**53 float64 cannot even hold every whole number. ``1e400`` (read as
#: infinity) and ``1e300`` (whose sums overflow) are typos or attacks, refused at the door.
MAX_ABS_NUMBER = 1e15

#: Characters that make two IDs look the same but differ: control characters (NUL ...),
#: format characters (zero-width space and joiner, bidi overrides, soft hyphen, BOM), line and
#: paragraph separators, spaces other than the plain one, and the Hangul fillers.
_INVISIBLE = (r"[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\x{00A0}\x{1680}\x{2000}-\x{200A}\x{202F}\x{205F}"
              r"\x{3000}\x{115F}\x{1160}\x{3164}\x{FFA0}]")
#: Control characters other than tab, line feed and carriage return: never in real text.
_CONTROL = r"[\x{00}-\x{08}\x{0B}\x{0C}\x{0E}-\x{1F}\x{7F}]"
#: An email address as sending services accept it: one ``@``, no spaces or quotes, a dotted
#: domain; the local part starts with a letter, digit, dot or underscore, never with a
#: character that spreadsheets read as a formula (``=``, ``+``, ``-``, ``@``).
_EMAIL = (r"^[\p{L}\p{N}._][^\s@\"(),:;<>\[\]\\]*@[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?"
          r"(\.[\p{L}\p{N}]([\p{L}\p{N}-]*[\p{L}\p{N}])?)*\.[\p{L}]{2,}$")
#: A phone number as typed: digits, spaces, ``+``, ``-``, dots, parentheses.
_PHONE_TEXT = r"^[0-9+\-(). ]+$"


@dataclass(frozen=True, slots=True)
class Converted:
    """Converted values and where conversion failed.

    Parameters
    ----------
    values
        The typed values; null where the input was empty or could not be converted.
    bad
        True where a non-empty input could not be converted.
    inexact
        True where a number had a fraction but a whole number was needed (integers only).
    huge
        True where a number was infinite or larger in magnitude than :data:`MAX_ABS_NUMBER`
        (its value is null).
    """

    values: pa.Array
    bad: np.ndarray
    inexact: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    huge: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    return values


def _mask(values: pa.Array) -> np.ndarray:
    """Turn a boolean array (nulls as False) into a numpy mask."""
    return np.asarray(pc.fill_null(values, False).to_numpy(zero_copy_only=False), dtype=bool)


def clean_text(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Strip surrounding whitespace and turn empty strings into nulls.

    >>> clean_text(pa.array([" a ", "", None])).to_pylist()
    ['a', None, None]
    """
    arr = _array(values)
    if not pa.types.is_string(arr.type) and not pa.types.is_large_string(arr.type):
        arr = pc.cast(arr, pa.string())
    stripped = pc.utf8_trim_whitespace(arr)
    return pc.if_else(pc.equal(stripped, ""), pa.scalar(None, stripped.type), stripped)


def to_number(values: pa.Array | pa.ChunkedArray) -> Converted:
    """Parse amounts and counts: ``12,345원``, ``₩12,345``, ``(1,500)`` (negative), ``1.5E+3``."""
    text = clean_text(values)
    text = pc.replace_substring_regex(text, _NUMBER_NOISE, "")
    text = pc.replace_substring(text, "−", "-")
    negative = pc.match_substring_regex(text, r"^\(.*\)$")
    text = pc.if_else(negative, pc.binary_join_element_wise(
        "-", pc.utf8_slice_codeunits(text, 1, -1), ""), text)
    valid = pc.match_substring_regex(text, _NUMBER)
    present = pc.is_valid(text)
    numbers = pc.cast(pc.if_else(valid, text, pa.scalar(None, text.type)), pa.float64())
    bad = _mask(pc.and_(present, pc.invert(pc.fill_null(valid, False))))
    numbers, huge = out_of_range(numbers)
    return Converted(numbers, bad, np.zeros(len(bad), dtype=bool), huge)


def out_of_range(numbers: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """Null out non-finite numbers and those beyond :data:`MAX_ABS_NUMBER`; return the mask.

    >>> values, mask = out_of_range(pa.array([1.0, float("inf"), -2e15, None, float("nan")]))
    >>> values.to_pylist(), mask.tolist()
    ([1.0, None, None, None, None], [False, True, True, False, True])
    """
    finite = pc.less_equal(pc.abs(numbers), MAX_ABS_NUMBER)  # false for inf and NaN
    huge = _mask(pc.and_(pc.is_valid(numbers), pc.invert(pc.fill_null(finite, True))))
    if huge.any():
        numbers = pc.if_else(pa.array(huge), pa.scalar(None, numbers.type), numbers)
    return numbers, huge


def to_integer(values: pa.Array | pa.ChunkedArray) -> Converted:
    """Parse whole numbers; ``2.0`` (Excel) is accepted, ``2.5`` is flagged ``inexact``.

    >>> c = to_integer(pa.array(["2", "2.0", "2.5", "x"]))
    >>> c.values.to_pylist(), c.bad.tolist(), c.inexact.tolist()
    ([2, 2, None, None], [False, False, False, True], [False, False, True, False])
    """
    number = to_number(values)
    whole = pc.equal(number.values, pc.floor(number.values))
    inexact = _mask(pc.invert(whole))
    kept = pc.if_else(whole, number.values, pa.scalar(None, pa.float64()))
    return Converted(pc.cast(kept, pa.int64()), number.bad, inexact, number.huge)


def round_money(values: pa.Array, digits: int) -> pa.Array:
    """Round amounts to the currency's minor unit, halves away from zero.

    >>> round_money(pa.array([1234.5, 99.994]), 0).to_pylist()
    [1235.0, 100.0]
    """
    return pc.round(values, ndigits=digits, round_mode="half_towards_infinity")


def to_boolean(values: pa.Array | pa.ChunkedArray) -> Converted:
    """Parse yes/no flags: T/F, Y/N, true/false, 1/0, 동의/거부, 수신/수신거부, 예/아니오.

    Letter case and spaces are ignored (:data:`BOOLEAN_TRUE`, :data:`BOOLEAN_FALSE`).

    >>> to_boolean(pa.array(["Y", " 수신 거부 ", "예", "글쎄", None])).values.to_pylist()
    [True, False, True, None, None]
    """
    text = pc.utf8_lower(pc.replace_substring_regex(clean_text(values), r"\s+", ""))
    is_true = pc.is_in(text, value_set=pa.array(BOOLEAN_TRUE))
    is_false = pc.is_in(text, value_set=pa.array(BOOLEAN_FALSE))
    known = pc.or_(is_true, is_false)
    result = pc.if_else(known, is_true, pa.scalar(None, pa.bool_()))
    bad = _mask(pc.and_(pc.is_valid(text), pc.invert(known)))
    return Converted(result, bad)


def to_timestamp(values: pa.Array | pa.ChunkedArray, timezone: str, *,
                 formats: Sequence[str] = (), unit: str | None = None) -> Converted:
    """Parse instants; naive ones are read in ``timezone``, aware ones converted.

    Accepted without configuration: ``2024-01-15 13:45:12``, ``2025-01-24 16:39``, ``20240115``,
    ``20240115134512``, ``2024/01/15``, ``2024년 1월 15일``, ``2024. 1. 15. 오후 1:45:12``
    (Korean Excel), ISO 8601 with ``Z`` or an offset (``2024-01-15T13:45:12+09:00``,
    ``2024-01-15 13:45:12 +0900``). Impossible dates and times (30 February, 25:00) are bad.

    Parameters
    ----------
    values
        Text values.
    timezone
        IANA zone in which naive values are read (the shop's).
    formats
        ``strptime`` formats tried before the automatic ones (``%m/%d/%Y %H:%M``).
    unit
        ``"s"`` or ``"ms"``: the values are Unix epoch numbers (UTC).

    Returns
    -------
    Converted
        ``timestamp[us, tz=UTC]`` values.
    """
    text = clean_text(values)
    if unit is not None:
        return _from_epoch(text, unit)
    if not formats:
        try:  # clean ISO data (the common case) parses in one vectorised cast
            naive = pc.cast(text, pa.timestamp("us"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
        else:
            return Converted(_localize(naive, timezone), np.zeros(len(text), dtype=bool))
    series = pd.Series(text.to_pandas(), dtype="str")
    parsed = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us, UTC]")
    aware = series.str.contains(_AWARE, regex=True).fillna(False).astype(bool)
    if aware.any():
        parsed[aware] = pd.to_datetime(series[aware], format="ISO8601", utc=True,
                                       errors="coerce").astype("datetime64[us, UTC]")
    todo = series.notna() & ~aware
    for fmt in formats:
        _fill(parsed, todo, pd.to_datetime(series[todo], format=fmt, errors="coerce"), timezone)
        todo &= parsed.isna()
    _fill(parsed, todo, pd.to_datetime(series[todo], format="ISO8601", errors="coerce"), timezone)
    todo &= parsed.isna()
    if todo.any():
        _fill(parsed, todo, _parse_loose(series[todo]), timezone)
    bad = (series.notna() & parsed.isna()).to_numpy(dtype=bool)
    return Converted(pa.array(parsed, type=_UTC), bad)


def _from_epoch(text: pa.Array, unit: str) -> Converted:
    number = to_number(text)
    seconds = pd.Series(number.values.to_numpy(zero_copy_only=False))
    parsed = pd.to_datetime(seconds, unit=unit, utc=True, errors="coerce")
    return Converted(pa.array(parsed.astype("datetime64[us, UTC]"), type=_UTC), number.bad)


def _localize(naive: pa.Array, timezone: str) -> pa.Array:
    local = pc.assume_timezone(naive, timezone=timezone, ambiguous="earliest",
                               nonexistent="earliest")
    return pc.cast(local, _UTC)


def _fill(parsed: pd.Series, where: pd.Series, naive: pd.Series, timezone: str) -> None:
    """Write naive parse results (read in ``timezone``) into ``parsed`` where they succeeded."""
    if naive.empty:
        return
    naive = naive.astype("datetime64[us]")
    localized = _localize(pa.array(naive, type=pa.timestamp("us")), timezone)
    values = pd.Series(localized.to_pandas().array, index=naive.index).astype("datetime64[us, UTC]")
    ok = values.notna()
    parsed.loc[values.index[ok]] = values[ok]


def _parse_loose(text: pd.Series) -> pd.Series:
    """Parse forms ISO 8601 misses, such as ``2024. 1. 15. 오후 1:45:12`` and ``2024/1/5``.

    Components are checked: no 30 February, no hour 25.
    """
    parts = text.astype(object).str.extract(_LOOSE)
    if parts.empty:
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[us]")
    month = parts["m"].fillna(parts["m2"])
    day = parts["d"].fillna(parts["d2"])
    marker = parts["p1"].fillna(parts["p2"]).fillna("").str.lower()
    hour = pd.to_numeric(parts["H"]).fillna(0)
    hour = hour.where(~(marker.isin(["오후", "pm"]) & (hour < 12)), hour + 12)
    hour = hour.where(~(marker.isin(["오전", "am"]) & (hour == 12)), 0)
    fields = pd.DataFrame({
        "year": pd.to_numeric(parts["y"]), "month": pd.to_numeric(month),
        "day": pd.to_numeric(day), "hour": hour, "minute": pd.to_numeric(parts["M"]).fillna(0),
        "second": pd.to_numeric(parts["S"]).fillna(0),
        "us": pd.to_numeric(parts["f"].fillna("0").str.ljust(6, "0")),
    }, index=text.index)
    clock_ok = (fields["hour"] < 24) & (fields["minute"] < 60) & (fields["second"] < 60)
    parsed = pd.to_datetime(fields, errors="coerce").astype("datetime64[us]")
    return parsed.where(clock_ok)  # to_datetime would roll hour 25 over to the next day


def to_date(values: pa.Array | pa.ChunkedArray, timezone: str, *,
            formats: Sequence[str] = ()) -> Converted:
    """Parse calendar dates (the date in ``timezone`` for values with a time and an offset).

    >>> to_date(pa.array(["1990-05-01", "19900501"]), "Asia/Seoul").values.to_pylist()
    [datetime.date(1990, 5, 1), datetime.date(1990, 5, 1)]
    """
    stamps = to_timestamp(values, timezone, formats=formats)
    local = pc.local_timestamp(pc.cast(stamps.values, pa.timestamp("us", tz=timezone)))
    return Converted(pc.cast(local, pa.date32()), stamps.bad)


def normalize_phones(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Normalise phone numbers to digits with :func:`workbench.privacy.normalize_phone`.

    The function runs once per distinct number, not per row.

    >>> normalize_phones(pa.array(["010-1234-5678", "1012345678", None])).to_pylist()
    ['01012345678', '01012345678', None]
    """
    text = clean_text(values)
    distinct = pc.unique(text).drop_null()
    normalized = pa.array([normalize_phone(v) for v in distinct.to_pylist()], type=pa.string())
    index = pc.index_in(text, value_set=distinct)
    return pc.take(normalized, index)


def control_characters(values: pa.Array, *, key: bool) -> tuple[np.ndarray, list[str]]:
    """Return the mask of values holding characters that do not belong, and those characters.

    In keys (``key=True``): control, format (zero-width, bidi), separator and non-plain space
    characters, which make two IDs look alike. Elsewhere: control characters except tab and
    line breaks. The characters come back as code points (``U+200B``), never as the values.

    >>> mask, found = control_characters(pa.array(["C1", "C\u200b1", None]), key=True)
    >>> mask.tolist(), found
    ([False, True, False], ['U+200B'])
    """
    values = _array(values)
    data = _utf8_bytes(values)
    # Scanning the UTF-8 bytes is exact for controls (bytes below 0x20 and 0x7F never occur
    # inside a multi-byte character) and 20-100 times faster than the Unicode regex, which
    # then runs only on columns that have a suspect byte: for keys any non-ASCII byte, since
    # invisible characters are all outside ASCII (a load of 1M rows checks 11 columns).
    if data is not None:
        suspect = (data < 0x20) | (data == 0x7F)
        if key:
            suspect |= data >= 0x80
        else:
            suspect &= (data != 0x09) & (data != 0x0A) & (data != 0x0D)
        if not suspect.any():
            return np.zeros(len(values), dtype=bool), []
    pattern = _INVISIBLE if key else _CONTROL
    mask = _mask(pc.match_substring_regex(values, pattern))
    found: list[str] = []
    for value in pc.filter(values, pa.array(mask)).to_pylist()[:50]:
        for ch in value:
            code = f"U+{ord(ch):04X}"
            if code not in found and _is_invisible(ch, key):
                found.append(code)
    return mask, found[:5]


def _utf8_bytes(values: pa.Array) -> np.ndarray | None:
    """Return the bytes of a string array's values (``None`` for other types)."""
    if pa.types.is_string(values.type):
        kind = np.int32
    elif pa.types.is_large_string(values.type):
        kind = np.int64
    else:
        return None
    offsets_buffer, data_buffer = values.buffers()[1:3]
    if data_buffer is None or len(values) == 0:
        return np.zeros(0, dtype=np.uint8)
    offsets = np.frombuffer(offsets_buffer, dtype=kind)
    start, end = offsets[values.offset], offsets[values.offset + len(values)]
    return np.frombuffer(data_buffer, dtype=np.uint8)[start:end]


def _is_invisible(ch: str, key: bool) -> bool:
    category = unicodedata.category(ch)
    if not key:
        return category == "Cc" and ch not in "\t\n\r"
    return category in ("Cc", "Cf", "Zl", "Zp") or (category == "Zs" and ch != " ") or ch in (
        "\u115f\u1160\u3164\uffa0")


#: Placeholders exports write for "no email" or "no phone": read as empty, not as contacts.
CONTACT_PLACEHOLDERS = ("-", "--", ".", "없음", "미입력", "none", "null", "n/a", "na")


def bad_emails(values: pa.Array) -> np.ndarray:
    """Return the mask of non-empty values that do not look like an email address.

    >>> bad_emails(pa.array(["ab@x.kr", "=HYPERLINK(1)@x.kr", "no-at-sign", "a@b", None])).tolist()
    [False, True, True, True, False]
    """
    ok = pc.match_substring_regex(values, _EMAIL)
    return _mask(pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(ok, False))))


def bad_phones(values: pa.Array) -> np.ndarray:
    """Return the mask of non-empty values that are not phone numbers (8 to 15 digits).

    >>> bad_phones(pa.array(["010-1234-5678", "+82 10 1234 5678", "+cmd|' /C calc'!A0",
    ...                      "123", None])).tolist()
    [False, False, True, True, False]
    """
    typed = pc.match_substring_regex(values, _PHONE_TEXT)
    digits = pc.utf8_length(pc.replace_substring_regex(values, r"\D", ""))
    ok = pc.and_(typed, pc.and_(pc.greater_equal(digits, 8), pc.less_equal(digits, 15)))
    return _mask(pc.and_(pc.is_valid(values), pc.invert(pc.fill_null(ok, False))))


def strip_decimal_zero(values: pa.Array) -> pa.Array:
    """Drop a ``.0`` that spreadsheets and pandas add to whole-number IDs (``17850.0``).

    >>> strip_decimal_zero(pa.array(["17850.0", "A1.0", "007"])).to_pylist()
    ['17850', 'A1.0', '007']
    """
    return pc.replace_substring_regex(values, r"^(\d+)\.0+$", r"\1")


def mangled_ids(values: pa.Array) -> np.ndarray:
    """Mask of IDs that Excel turned into exponent form (``2.3424544E+17``): digits were lost.

    >>> mangled_ids(pa.array(["2.3424544E+17", "20240115-0000014", None])).tolist()
    [True, False, False]
    """
    return _mask(pc.match_substring_regex(values, _EXCEL_EXPONENT))


# -- derived values of mappings -----------------------------------------------------------------


def normalized_values(values: pa.Array) -> pa.Array:
    """Remove whitespace and lower-case, as mappings compare values (``배송 완료`` = ``배송완료``).

    >>> normalized_values(pa.array(["배송 완료", "Paid"])).to_pylist()
    ['배송완료', 'paid']
    """
    return pc.utf8_lower(pc.replace_substring_regex(values, r"\s+", ""))


def sequence_numbers(keys: list[pa.Array]) -> pa.Array:
    """Count rows 1, 2, ... in file order within rows that share the keys.

    >>> sequence_numbers([pa.array(["a", "b", "a", None, None])]).to_pylist()
    [1, 1, 2, 1, 2]
    """
    frame = pd.DataFrame({i: k.to_pandas() for i, k in enumerate(keys)})
    counts = frame.groupby(list(frame.columns), sort=False, dropna=False).cumcount() + 1
    return pa.array(counts.to_numpy(dtype=np.int64))


def render_template(template: str, column: Callable[[str], pa.Array], n: int) -> pa.Array:
    """Fill a template from columns; ``{seq}`` numbers rows sharing the rest of the text.

    >>> cols = {"c": pa.array(["1", "1", "2"]), "d": pa.array(["x", "x", "x"])}
    >>> render_template("{c}-{d}-{seq}", cols.__getitem__, 3).to_pylist()
    ['1-x-1', '1-x-2', '2-x-1']
    """
    parts: list[object] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(pa.scalar(literal))
        if name:
            parts.append("seq" if name == "seq" else column(name))

    def join(items: list[object]) -> pa.Array:
        if not items:
            return pa.repeat(pa.scalar(""), n)
        return pc.binary_join_element_wise(*items, "", null_handling="emit_null")

    if not any(isinstance(p, str) for p in parts):
        return join(parts)
    base = join([p for p in parts if not isinstance(p, str)])
    seq = pc.cast(sequence_numbers([base]), pa.string())
    return join([seq if isinstance(p, str) else p for p in parts])


def transform_text(values: pa.Array, how: str) -> pa.Array:
    """Apply a mapping's ``transform``: phone, email, lower, upper or digits.

    >>> transform_text(pa.array(["A-1 b", None]), "digits").to_pylist()
    ['1', None]
    """
    if how == "phone":
        return normalize_phones(values)
    if how in ("email", "lower"):
        return pc.utf8_lower(values)
    if how == "upper":
        return pc.utf8_upper(values)
    digits = pc.replace_substring_regex(values, r"\D", "")
    return pc.if_else(pc.equal(digits, ""), pa.scalar(None, pa.string()), digits)
