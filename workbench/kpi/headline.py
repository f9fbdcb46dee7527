"""Reading a result: its headline numbers, and its sentences in the reader's language.

The report index shows three headline items per notebook, and every result's ``headline()``
returns them in one shape (:func:`headline_item`): ``metric``, ``label``, ``value``, ``change``,
``change_pct`` and ``direction``. A change is relative (``+12.5%``) for counts, money and
ratios, and in percentage points (``+3.0%p``) for shares, where a relative change of a share
would read as a second share.

Results hold numbers and statuses; a :class:`~workbench.results.Readable` result writes its
takeaway when it is read (``message_in``), so the same result reads in English or Korean and the
sentence always agrees with the numbers beside it.

Examples
--------
>>> change_text(0.35, 0.32, "share", language="en"), change_text(120, 100, "count", language="en")
('+3.0%p', '+20.0%')
>>> headline_item("orders", "Orders", 90, 100, "count", language="en")["direction"]
'down'
"""

from __future__ import annotations

import math
from typing import Any

from workbench.i18n import format_percent, format_value, tr

__all__ = ["change_text", "headline_item", "relative_change", "zone_label"]


def zone_label(timezone: str, language: str) -> str:
    """Return the shop's time zone for people: 한국 시간 for Asia/Seoul in Korean, else the ID.

    Definitions state the zone days are cut in; a Korean page says 한국 시간 rather than an
    English zone ID. Zones without a label (``kpi.timezone.<zone>``) are shown as they are.

    >>> zone_label("Asia/Seoul", "ko"), zone_label("Asia/Seoul", "en"), zone_label("UTC", "ko")
    ('한국 시간', 'Asia/Seoul', 'UTC')
    """
    try:
        return tr(f"kpi.timezone.{timezone}", language=language)
    except KeyError:  # a zone without a label: its ID
        return timezone


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def relative_change(current: float | None, previous: float | None) -> float:
    """Return ``(current - previous) / previous``; NaN when either is missing or ``previous`` is 0.

    >>> relative_change(120, 100), relative_change(5, 0)
    (0.2, nan)
    """
    if _missing(current) or _missing(previous) or not previous:
        return math.nan
    return (current - previous) / previous


def change_text(current: float | None, previous: float | None, unit: str, *,
                language: str) -> str:
    """Return the change from ``previous`` to ``current`` for people; empty when undefined.

    Shares (``unit="share"``) change in percentage points, everything else relatively (so a
    previous value of 0 gives no change to show).
    """
    if _missing(current) or _missing(previous):
        return ""
    if unit == "share":  # percentage points: 3.0%p in English, 3.0%포인트 in Korean
        return tr("kpi.unit.points", language=language,
                  value=format_percent(current - previous, signed=True, language=language))
    pct = relative_change(current, previous)
    return "" if math.isnan(pct) else format_percent(pct, signed=True, language=language)


def headline_item(metric: str, label: str, current: float, previous: float | None, unit: str,
                  *, currency: str = "KRW", language: str) -> dict[str, Any]:
    """Return one headline item: the value formatted by its unit and its change.

    Parameters
    ----------
    metric
        Stable id of the number (``net_revenue``, ``segment.champions``).
    label
        What the number is, in ``language``.
    current, previous
        The value and the one it is compared with (``None`` or NaN: nothing to compare).
    unit
        ``money``, ``count``, ``share`` or ``ratio`` (:func:`workbench.i18n.format_value`).
    currency, language
        Formatting of money and numbers.

    Returns
    -------
    dict
        ``metric``, ``label``, ``value``, ``change`` (see :func:`change_text`), ``change_pct``
        (:func:`relative_change`) and ``direction`` (``up``, ``down`` or ``flat``; flat when
        the relative change is 0 or undefined).
    """
    pct = relative_change(current, previous)
    direction = "flat" if math.isnan(pct) or pct == 0 else ("up" if pct > 0 else "down")
    return {"metric": metric, "label": label,
            "value": format_value(current, unit, currency, language=language),
            "change": change_text(current, previous, unit, language=language),
            "change_pct": float(pct), "direction": direction}
