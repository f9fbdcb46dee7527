"""Risk bands (high / medium / low) from calibrated churn risk; the rule is a parameter.

Two rules, as data (:class:`BandRule`):

- ``capacity``: the team can contact ``high`` customers (and ``medium`` more after them):
  the ``high`` riskiest customers are *high*, the next ``medium`` *medium*. A value below 1
  is a share of the customers instead of a count. Customers are ranked by risk, ties broken by
  ``customer_id`` so a band never exceeds the capacity.
- ``precision``: *high* is the largest top group whose expected precision (mean calibrated
  risk, i.e. the expected share who really churn) is at least ``high``; *medium* extends it
  down to expected precision ``medium``. Thresholds are on the risk value, so equal risks get
  equal bands.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench.errors import ParameterError
from workbench.i18n import format_percent, tr

__all__ = ["BANDS", "BAND_RULES", "LEVELS", "BandRule", "assign_bands", "band_label",
           "band_summary", "risk_level"]

BANDS = ("high", "medium", "low")
BAND_RULES = ("capacity", "precision")


@dataclass(frozen=True, slots=True)
class BandRule:
    """How customers are put in risk bands.

    Parameters
    ----------
    kind
        ``capacity`` or ``precision``.
    high, medium
        ``capacity``: counts (or shares below 1) of the high and medium bands.
        ``precision``: expected precision floors in (0, 1], ``high >= medium``.

    Examples
    --------
    >>> BandRule("capacity", high=1000, medium=4000).kind
    'capacity'
    """

    kind: str = "capacity"
    high: float = 0.1
    medium: float = 0.2

    def __post_init__(self) -> None:
        if self.kind not in BAND_RULES:
            raise ParameterError(tr("churn.bands.kind", choices=list(BAND_RULES),
                                    got=repr(self.kind)))
        hi, mid = float(self.high), float(self.medium)
        if self.kind == "capacity":
            if hi <= 0 or mid < 0 or (hi >= 1 and hi != int(hi)) or (mid >= 1 and mid != int(mid)):
                raise ParameterError(tr("churn.bands.capacity", high=repr(self.high),
                                        medium=repr(self.medium)))
        elif not 0 < mid <= hi <= 1:
            raise ParameterError(tr("churn.bands.precision", high=repr(self.high),
                                    medium=repr(self.medium)))


def _count(value: float, n: int) -> int:
    return math.ceil(float(value) * n) if float(value) < 1 else int(value)


def assign_bands(risk: pd.Series, rule: BandRule | None = None) -> pd.Series:
    """Return the band of every customer (``high``, ``medium``, ``low``), indexed like ``risk``.

    ``risk`` is indexed by ``customer_id``; NaN risks are ``low``.

    >>> r = pd.Series([0.9, 0.8, 0.3, 0.1], index=["a", "b", "c", "d"])
    >>> assign_bands(r, BandRule("capacity", high=1, medium=2)).tolist()
    ['high', 'medium', 'medium', 'low']
    >>> assign_bands(r, BandRule("precision", high=0.88, medium=0.6)).tolist()
    ['high', 'medium', 'medium', 'low']
    """
    rule = rule or BandRule()
    n = len(risk)
    values = risk.to_numpy(dtype=float)
    filled = np.where(np.isnan(values), -np.inf, values)
    band = np.full(n, "low", dtype=object)
    if n == 0:
        return pd.Series(band, index=risk.index, name="risk_band", dtype="object")
    if rule.kind == "capacity":
        k_high = min(_count(rule.high, n), n)
        k_med = min(_count(rule.medium, n), n - k_high)
        high = _top(filled, k_high, risk.index)
        band[_top(filled, k_high + k_med, risk.index) & ~high] = "medium"
        band[high] = "high"
    else:
        band = _precision_bands(filled, float(rule.high), float(rule.medium))
    return pd.Series(band, index=risk.index, name="risk_band", dtype="object")


def _top(risk: np.ndarray, k: int, ids: pd.Index) -> np.ndarray:
    """Return the mask of the ``k`` highest finite risks, ties broken by ``customer_id``.

    The same customers as the first ``k`` of a sort by risk (descending) and id, but only the
    customers tied at the cut are sorted by id: a full sort by string ids takes 0.5 s at 1M
    customers.
    """
    mask = np.zeros(len(risk), dtype=bool)
    if k <= 0:
        return mask
    cut = np.partition(risk, len(risk) - k)[len(risk) - k]  # the k-th largest risk
    mask[risk > cut] = True
    tied = np.flatnonzero(risk == cut)
    need = k - int(mask.sum())
    if need > 0 and np.isfinite(cut):
        names = np.asarray(ids[tied].astype(str))
        mask[tied[np.argsort(names, kind="stable")[:need]]] = True
    return mask


def _precision_bands(risk: np.ndarray, high: float, medium: float) -> np.ndarray:
    order = np.argsort(-risk, kind="stable")
    sorted_risk = risk[order]
    finite = np.where(np.isinf(sorted_risk), 0.0, sorted_risk)
    mean_top = np.cumsum(finite) / np.arange(1, len(risk) + 1)
    band = np.full(len(risk), "low", dtype=object)
    for name, floor in (("medium", medium), ("high", high)):
        ok = np.flatnonzero(mean_top >= floor)
        if len(ok) == 0:
            continue
        # Cut on the risk value of the last customer that keeps the floor; equal risks below
        # the cut would lower the mean, so the cut is strictly above them.
        threshold = sorted_risk[ok[-1]]
        tied_beyond = ok[-1] + 1 < len(risk) and sorted_risk[ok[-1] + 1] == threshold
        inside = risk > threshold if tied_beyond else risk >= threshold
        band[inside] = name
    return band


def band_summary(risk: pd.Series, bands: pd.Series) -> pd.DataFrame:
    """Return per band: customers, share, mean risk (= expected churn rate) and min risk."""
    frame = pd.DataFrame({"risk": risk, "band": bands})
    out = frame.groupby("band").agg(customers=("risk", "size"), mean_risk=("risk", "mean"),
                                    min_risk=("risk", "min")).reindex(list(BANDS))
    out["customers"] = out["customers"].fillna(0).astype("int64")
    out["share"] = out["customers"] / max(len(frame), 1)
    return out.reset_index().loc[:, ["band", "customers", "share", "mean_risk", "min_risk"]]


#: Expected churn at or above which a band's level is named ``high``, then ``medium``.
LEVELS = (("high", 0.5), ("medium", 0.2))


def risk_level(mean_risk: float) -> str:
    """Return ``high``, ``medium`` or ``low`` for a band's expected churn (its mean risk).

    High from 50% (more likely to leave than to stay), medium from 20%, low below; an empty
    band is ``low``.

    >>> risk_level(0.49), risk_level(0.5), risk_level(0.1)
    ('medium', 'high', 'low')
    """
    if mean_risk is None or mean_risk != mean_risk:
        return "low"
    return next((name for name, floor in LEVELS if mean_risk >= floor), "low")


def band_label(mean_risk: float, language: str, order: int | None = None) -> str:
    """Return a band's name: its level and its expected churn, e.g. ``High risk (62% expected)``.

    ``order`` (1 for the riskiest band) is put first when bands would otherwise share a name:
    a shop losing most of its customers has three "high risk" bands, told apart by rank.

    >>> band_label(0.49, "en")
    'Medium risk (49% expected to churn)'
    >>> band_label(0.96, "ko", order=2)
    '2구간: 위험 높음 (예상 이탈률 96%)'
    """
    level = tr(f"churn.band.{risk_level(mean_risk)}", language=language)
    if mean_risk is None or mean_risk != mean_risk:
        return level
    text = tr("churn.band.label", language=language, level=level,
              rate=format_percent(mean_risk, digits=0, language=language))
    if order is None:
        return text
    return tr("churn.band.ordered", language=language, order=order, label=text)
