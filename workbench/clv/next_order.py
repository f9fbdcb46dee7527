"""When will a customer order next: P(an order within 7, 30, 90 days) and the expected date.

Two sources of evidence are combined, each documented with its formula:

The BG/NBD model [1]_
    A customer alive at the end of the history (``T``, weeks) stays alive until their next
    purchase (drop-out happens only right after a purchase), and given alive their purchase
    rate is ``Gamma(r + x, alpha + T)``. So the chance of **no** purchase in ``(T, T + t]``
    is P(alive) of eq. (A.10) in [1]_ combined with the Gamma mixture of ``exp(-lambda t)``::

        P(none in t) = 1 - P(alive) + P(alive) ((alpha + T) / (alpha + T + t)) ** (r + x)

    (:meth:`BetaGeo.prob_purchases` with ``n = 0``: the conditional distribution of
    :mod:`workbench.clv.bgnbd`, checked here against a simulation of eqs. (1)-(5) of [1]_).
    Given alive, the waiting time ``S`` to the next purchase is Lomax:
    ``P(S > t) = q(t) ** (r + x)`` with ``q(t) = (alpha + T) / (alpha + T + t)``. The model's
    date is the median of ``S`` given a purchase within :data:`DATE_HORIZON_DAYS` (90):
    ``q(m) = ((1 + q(H) ** s) / 2) ** (1 / s)``, ``m = (alpha + T) (1 / q(m) - 1)``, ``s = r + x``.
    The date is the partner of ``p_order_90d``: "if they order within 90 days, about when".
    (Conditioning on a year instead gave first-time buyers dates months away, and a median
    error of 48 days among those who did order within 90 days on the sample shop.)

The customer's own cycle
    Their gaps between purchase days. A customer whose last order was ``e`` days before the
    origin has not placed their next order for ``e - 1`` days, so only their gaps ``g >= e``
    are still possible for this cycle: of ``n_ge`` such gaps, ``n_in(h)`` fall in
    ``[e, e + h - 1]`` (an order within ``h`` days). Their date is the median of the gaps in
    ``[e, e + 89]`` minus ``e``.

How they combine: shrinkage of the customer's own conditional gaps towards the model
    The model's prediction counts as ``m`` pseudo-gaps (a Beta-binomial posterior mean with the
    model as the prior, the usual empirical-Bayes shrinkage)::

        p_h = (n_in(h) + m * p_model(h)) / (n_ge + m)

    and the date offset (days from ``as_of``) is the same weighted average of the model's
    median and the median of the customer's gaps in the window minus ``e``, weights ``k0`` and
    ``n_in(90)``. A customer with no gap as long as the current wait (a first-time buyer, or one
    overdue beyond anything they did before) gets the model alone; a regular replenisher with
    many gaps gets mostly their own rhythm. ``m`` (by log loss) and ``k0`` (by the median
    absolute error of the date) are chosen on an **earlier origin** whose outcome is known at
    ``as_of`` (:data:`CALIBRATION_DAYS` = 90 days before ``as_of``), never on the predicted
    window.

Recalibration
    The sample shop mixes BG/NBD buyers with replenishment buyers, and real shops break the
    model's assumptions too, so the blended probabilities are mapped to observed frequencies by
    isotonic regression (PAV) fitted on the same earlier origin (predictions made 90 days
    before ``as_of``, outcomes in the 7, 30 and 90 days after that). The three windows are
    then made monotone per customer (``p_7 <= p_30 <= p_90``) by a running maximum. When the
    earlier origin has too little data for the model, the blend is used uncalibrated with
    ``m = k0 = 2`` (:attr:`NextOrderFit.calibrated` is ``False``).

Days and units
    Days are the shop's local calendar days (:func:`workbench.dates.local_days`): day 0 is
    ``as_of``, the history ends on day -1 (the summary's ``T`` is measured to it, in weeks of
    seven days). "Within 7 days" means an order on one of days 0..6, i.e. model time
    ``(T, T + 1]`` weeks. ``next_order_date`` is ``as_of`` plus the offset, a local date.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "Counting your customers the
   easy way: an alternative to the Pareto/NBD model", *Marketing Science* 24(2), 275-284.
.. [2] Barlow, R. E. et al. (1972), *Statistical Inference under Order Restrictions*, Wiley
   (the pool-adjacent-violators algorithm behind isotonic calibration).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

from workbench.clv._base import data_check
from workbench.clv.bgnbd import BetaGeo
from workbench.data.memo import Memo, memo_key
from workbench.data.snapshot import SnapshotPart, snapshot_for
from workbench.dates import local_days
from workbench.errors import ParameterError, WorkbenchWarning
from workbench.i18n import tr
from workbench.queries import net_orders
from workbench.settings import Settings

__all__ = ["CALIBRATION_DAYS", "DATE_HORIZON_DAYS", "HORIZONS", "PART_COLUMNS", "SNAPSHOT_PART",
           "NextOrderFit", "cycle_features", "expected_calibration_error", "holdout_check",
           "model_next_order", "next_order_fit", "next_order_part", "next_order_weeks_table",
           "page_tables", "reliability_table"]

#: Windows (days from ``as_of``) of ``p_order_{h}d``.
HORIZONS = (7, 30, 90)
#: The model's date is its median waiting time given an order within this many days.
DATE_HORIZON_DAYS = 90
#: The earlier origin (days before ``as_of``) on which the blend is tuned and recalibrated.
CALIBRATION_DAYS = 90
#: Columns of the snapshot part.
PART_COLUMNS = ("customer_id", "p_order_7d", "p_order_30d", "p_order_90d", "next_order_date")
_M_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0, 256.0, 1024.0)
_K_GRID = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0)
_DEFAULT_M = _DEFAULT_K = 2.0
_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class _Days:
    """Every customer's distinct purchase days before ``as_of`` (day 0), sorted."""

    ids: np.ndarray  # customer ids, by code
    codes: np.ndarray  # customer code per purchase day
    days: np.ndarray  # local day relative to as_of (-1: the day before)


@dataclass(frozen=True, slots=True)
class NextOrderFit:
    """Next-order predictions as of a date, and how they were made (shared: do not modify).

    Parameters
    ----------
    as_of
        Day 0 of the predictions.
    customers
        Indexed by ``customer_id``: ``p_order_7d``, ``p_order_30d``, ``p_order_90d``,
        ``next_order_days`` (days from ``as_of``), ``next_order_date`` and the components
        ``p_model_{h}d`` (raw BG/NBD), ``model_days``, ``cycle_days`` (NaN without a usable
        gap), ``n_ge`` and the summary columns; empty when the model refused the data.
    m, k0
        Pseudo-gaps of the model in the probabilities and in the date.
    calibrated
        Whether the isotonic recalibration (and the tuning of ``m`` and ``k0``) ran.
    calibration_origin
        The earlier origin they were fitted on (``None`` when not calibrated).
    params
        The BG/NBD parameters at ``as_of``.
    """

    as_of: date
    customers: pd.DataFrame
    m: float = _DEFAULT_M
    k0: float = _DEFAULT_K
    calibrated: bool = False
    calibration_origin: date | None = None
    params: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Whether there are predictions (the model accepted the data)."""
        return not self.customers.empty


# ------------------------------------------------------------------------------ the evidence
def _order_days(con: Any, as_of: date, settings: Settings) -> _Days:
    """Return the distinct local purchase days of every identified customer before ``as_of``."""
    net = net_orders(con.table("orders"), before=as_of, timezone=settings.timezone,
                     identified=True)
    day = local_days(net.ordered_at, as_of=as_of, timezone=settings.timezone)
    rows = net.select(customer_id=net.customer_id.cast("string"), day=day).distinct()
    frame = rows.to_pyarrow().to_pandas()
    codes, ids = pd.factorize(frame["customer_id"], sort=True)
    order = np.lexsort((frame["day"].to_numpy(), codes))
    return _Days(np.asarray(ids, dtype=object), codes[order].astype(np.int64),
                 frame["day"].to_numpy()[order].astype(np.int64))


def _group_median(groups: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """Return the median of ``values`` per group code (NaN for an empty group)."""
    out = np.full(n, np.nan)
    if len(values):
        med = pd.Series(values, dtype=float).groupby(groups).median()
        out[med.index.to_numpy()] = med.to_numpy()
    return out


def cycle_features(d: _Days, origin: int) -> pd.DataFrame:
    """Return the BG/NBD summary and the own-cycle counts of every customer at ``origin``.

    Parameters
    ----------
    d
        Purchase days (:func:`_order_days`).
    origin
        Day 0 of the prediction, relative to the days' ``as_of`` (0, or e.g. -90).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id`` (customers with a purchase day before ``origin``):
        ``frequency``, ``recency``, ``T`` (weeks, as :func:`workbench.clv.clv_summary`),
        ``e`` (days from the last purchase day to ``origin``), ``median_gap``, ``n_ge``,
        ``n_in_{h}d`` for :data:`HORIZONS` and ``rest_median`` (median of the gaps in
        ``[e, e + DATE_HORIZON_DAYS - 1]``).
    """
    keep = d.days < origin
    c, day = d.codes[keep], d.days[keep]
    n = len(d.ids)
    count = np.bincount(c, minlength=n)
    starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]]) if len(c) else np.empty(0, int)
    ends = np.r_[starts[1:], len(c)] - 1
    first = np.zeros(n, np.int64)
    last = np.zeros(n, np.int64)
    first[c[starts]] = day[starts]
    last[c[ends]] = day[ends]
    same = c[1:] == c[:-1]
    gc, gap = c[1:][same], (day[1:] - day[:-1])[same]
    e = origin - last
    ge = gap >= e[gc]
    out = {
        "frequency": (count - 1).astype(float),
        "recency": (last - first) / 7.0,
        "T": (origin - 1 - first) / 7.0,
        "e": e.astype(float),
        "median_gap": _group_median(gc, gap, n),
        "n_ge": np.bincount(gc, weights=ge, minlength=n),
    }
    for h in HORIZONS:
        inside = ge & (gap <= e[gc] + h - 1)
        out[f"n_in_{h}d"] = np.bincount(gc, weights=inside, minlength=n)
    window = ge & (gap <= e[gc] + DATE_HORIZON_DAYS - 1)
    out["rest_median"] = _group_median(gc[window], gap[window], n)
    frame = pd.DataFrame(out, index=pd.Index(d.ids, name="customer_id"))
    return frame[count > 0]


def _first_after(d: _Days, origin: int, end: int) -> pd.Series:
    """Return days from ``origin`` to each customer's first purchase day in ``[origin, end)``."""
    keep = (d.days >= origin) & (d.days < end)
    c, day = d.codes[keep], d.days[keep]
    codes, first = np.unique(c, return_index=True)  # sorted by (code, day): first is earliest
    return pd.Series(day[first] - origin, index=pd.Index(d.ids[codes], name="customer_id"),
                     dtype=float)


# ------------------------------------------------------------------------------ the model part
def model_next_order(model: BetaGeo, summary: pd.DataFrame,
                     horizons: tuple[int, ...] = HORIZONS) -> pd.DataFrame:
    """Return the BG/NBD P(an order within each horizon) and its median date offset.

    Parameters
    ----------
    model
        A fitted :class:`BetaGeo` (weeks).
    summary
        ``frequency``, ``recency``, ``T`` in weeks.
    horizons
        Windows in days.

    Returns
    -------
    pandas.DataFrame
        ``p_model_{h}d`` (1 minus P(no purchase), module docstring) and ``model_days``, the
        day offset of the median waiting time given an order within :data:`DATE_HORIZON_DAYS`.

    Examples
    --------
    >>> s = pd.DataFrame({"frequency": [0.0, 4.0, 0.0, 2.0, 1.0, 3.0],
    ...                   "recency": [0.0, 30.0, 0.0, 20.0, 8.0, 25.0],
    ...                   "T": [40.0, 40.0, 30.0, 35.0, 20.0, 33.0]})
    >>> out = model_next_order(BetaGeo(check_data=False).fit(s), s)
    >>> bool((out["p_model_7d"] <= out["p_model_90d"]).all())
    True
    """
    out = {f"p_model_{h}d": 1.0 - model.prob_purchases(0, h / 7.0, summary).to_numpy()
           for h in horizons}
    p = model.params_
    s = p["r"] + summary["frequency"].to_numpy()
    a = p["alpha"] + summary["T"].to_numpy()
    q_h = a / (a + DATE_HORIZON_DAYS / 7.0)
    q_m = np.exp(np.log1p(np.exp(s * np.log(q_h))) / s - np.log(2.0) / s)
    weeks = a * (1.0 / q_m - 1.0)
    # An order on day j (0-based) happens at model time (j/7, (j+1)/7] after T.
    out["model_days"] = np.floor(7.0 * weeks)
    return pd.DataFrame(out, index=summary.index)


def _fit_model(summary: pd.DataFrame) -> BetaGeo | None:
    """Return BG/NBD fitted on ``summary``, or ``None`` when the data are too thin."""
    if summary.empty or not data_check(summary).enough:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", WorkbenchWarning)
        model = BetaGeo().fit(summary[["frequency", "recency", "T"]])
    return None if model.data_message_ else model


def _evidence(d: _Days, origin: int) -> tuple[pd.DataFrame, BetaGeo] | None:
    """Return the cycle features joined with the model's part at ``origin``, and the model."""
    features = cycle_features(d, origin)
    model = _fit_model(features)
    if model is None:
        return None
    return features.join(model_next_order(model, features[["frequency", "recency", "T"]])), model


def _blend_p(ev: pd.DataFrame, h: int, m: float) -> np.ndarray:
    """Return eq. ``p_h = (n_in(h) + m p_model(h)) / (n_ge + m)`` of the module docstring."""
    return ((ev[f"n_in_{h}d"] + m * ev[f"p_model_{h}d"]) / (ev["n_ge"] + m)).to_numpy()


def _blend_days(ev: pd.DataFrame, k0: float) -> np.ndarray:
    """Return the date offset: model median and own-gap median, weights k0 and n_in(90)."""
    cycle = (ev["rest_median"] - ev["e"]).fillna(0.0).to_numpy()
    w = ev[f"n_in_{DATE_HORIZON_DAYS}d"].to_numpy()
    return np.round((w * cycle + k0 * ev["model_days"].to_numpy()) / (w + k0))


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))


# ------------------------------------------------------------------------------ calibration
@dataclass(frozen=True, slots=True)
class _Calibration:
    m: float
    k0: float
    maps: dict[int, IsotonicRegression]


def _calibrate(d: _Days, origin: int) -> _Calibration | None:
    """Tune ``m``, ``k0`` and fit the isotonic maps at ``origin - CALIBRATION_DAYS``.

    The outcomes (first purchase day in the 7, 30, 90 days after the earlier origin) all lie
    before ``origin``: nothing of the predicted window is used.
    """
    early = origin - CALIBRATION_DAYS
    found = _evidence(d, early)
    if found is None:
        return None
    ev = found[0]
    first = _first_after(d, early, origin).reindex(ev.index)
    outcomes = {h: (first < h).to_numpy(dtype=float) for h in HORIZONS}
    m = min(_M_GRID, key=lambda m: sum(_log_loss(_blend_p(ev, h, m), outcomes[h])
                                        for h in HORIZONS))
    buyers = first.notna().to_numpy()
    truth = first.to_numpy()[buyers]
    k0 = min(_K_GRID, key=lambda k: float(np.median(np.abs(
        _blend_days(ev, k)[buyers] - truth))) if buyers.any() else 0.0)
    maps = {h: IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
        _blend_p(ev, h, m), outcomes[h]) for h in HORIZONS}
    return _Calibration(m, k0, maps)


def _predict(d: _Days, origin: int, as_of: date, *, calibrate: bool = True) -> NextOrderFit:
    """Return the predictions at ``origin`` (day offset from the days' ``as_of``)."""
    found = _evidence(d, origin)
    if found is None:
        return NextOrderFit(as_of, pd.DataFrame())
    ev, model = found
    cal = _calibrate(d, origin) if calibrate else None
    m, k0 = (cal.m, cal.k0) if cal else (_DEFAULT_M, _DEFAULT_K)
    out = ev.copy()
    previous = np.zeros(len(ev))
    for h in HORIZONS:
        p = _blend_p(ev, h, m)
        if cal is not None:
            p = cal.maps[h].predict(p)
        previous = np.maximum(previous, np.clip(p, 0.0, 1.0))  # p_7 <= p_30 <= p_90
        out[f"p_order_{h}d"] = previous
    out["cycle_days"] = ev["rest_median"] - ev["e"]
    out["next_order_days"] = _blend_days(ev, k0)
    out["next_order_date"] = [as_of + timedelta(days=int(v))
                              for v in out["next_order_days"].to_numpy()]
    return NextOrderFit(as_of, out, m=m, k0=k0, calibrated=cal is not None,
                        calibration_origin=(as_of - timedelta(days=CALIBRATION_DAYS)
                                            if cal else None),
                        params=dict(model.params_))


# ------------------------------------------------------------------------------ entry points
_DAYS = Memo("clv.next_order.days", size=2)
_FITS = Memo("clv.next_order", size=4)
_CHECKS = Memo("clv.next_order.check", size=4)


def _days_for(con: Any, as_of: date, settings: Settings, store: tuple) -> _Days:
    return _DAYS.get((*store, as_of, settings.timezone),
                     lambda: _order_days(con, as_of, settings))


def next_order_fit(con: Any, as_of: date, settings: Settings) -> NextOrderFit:
    """Return the next-order predictions as of ``as_of`` (kept per process).

    Parameters
    ----------
    con
        Ibis backend of the store.
    as_of
        Day 0: orders before its local midnight are the history.
    settings
        The shop's time zone.

    Returns
    -------
    NextOrderFit
        Empty ``customers`` when the store has no orders or too little data for BG/NBD.
    """
    if "orders" not in con.list_tables():
        return NextOrderFit(as_of, pd.DataFrame())
    store = memo_key(con)
    return _FITS.get((*store, as_of, settings.timezone), lambda: _predict(
        _days_for(con, as_of, settings, store), 0, as_of))


def next_order_part(con: Any, *, as_of: date, settings: Settings) -> ibis.Table | None:
    """Return the snapshot columns ``p_order_{7,30,90}d`` and ``next_order_date``, or ``None``.

    ``None`` (null columns) when the store has no orders or BG/NBD refuses the data.
    """
    fit = next_order_fit(con, as_of, settings)
    if not fit.ok:
        return None
    frame = fit.customers.reset_index().loc[:, list(PART_COLUMNS)]
    frame["customer_id"] = frame["customer_id"].astype(str)
    schema = ibis.schema({"customer_id": "string", "p_order_7d": "float64",
                          "p_order_30d": "float64", "p_order_90d": "float64",
                          "next_order_date": "date"})
    return ibis.memtable(frame, schema=schema)


#: The next-order columns of the per-customer snapshot.
SNAPSHOT_PART = SnapshotPart("next_order", PART_COLUMNS[1:], next_order_part)


# ------------------------------------------------------------------------------ holdout check
def reliability_table(p: np.ndarray, y: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Return the reliability table of probabilities ``p`` against outcomes ``y``.

    Ten **equal-width** bins on [0, 1] (the last one closed); empty bins are left out.

    Returns
    -------
    pandas.DataFrame
        ``bin_low``, ``bin_high``, ``customers``, ``predicted`` (mean p), ``observed`` (share
        with the outcome).

    Examples
    --------
    >>> reliability_table(np.array([0.05, 0.15, 0.95]), np.array([0, 1, 1]))["customers"].tolist()
    [1, 1, 1]
    """
    p, y = np.asarray(p, float), np.asarray(y, float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"bin": idx, "p": p, "y": y}).groupby("bin").agg(
        customers=("p", "size"), predicted=("p", "mean"), observed=("y", "mean")).reset_index()
    frame.insert(0, "bin_low", frame.pop("bin") / bins)
    frame.insert(1, "bin_high", frame["bin_low"] + 1.0 / bins)
    return frame


def expected_calibration_error(table: pd.DataFrame) -> float:
    """Return ECE: the customer-weighted mean of ``|predicted - observed|`` over the bins.

    >>> t = pd.DataFrame({"customers": [1, 3], "predicted": [0.2, 0.6], "observed": [0.0, 0.6]})
    >>> round(expected_calibration_error(t), 3)
    0.05
    """
    w = table["customers"].to_numpy(float)
    return float(w @ np.abs(table["predicted"] - table["observed"]).to_numpy() / w.sum())


def holdout_check(con: Any, as_of: date, settings: Settings, *, holdout_days: int = 90,
                  components: bool = False) -> dict[str, Any] | None:
    """Predict as of ``as_of - holdout_days`` and compare with what happened up to ``as_of``.

    Returns
    -------
    dict or None
        ``origin`` (the prediction day), ``reliability`` (:func:`reliability_table` of the
        30-day probability), ``ece``, ``ece_raw`` (the BG/NBD probability before the blend
        and recalibration), ``dates`` (median absolute error in days of the next-order date
        among customers who ordered in the holdout: ours, model only, cycle only and the
        naive "last order + median gap", by customers with one and with 2+ purchase days),
        and ``fit``; ``None`` when the model refuses the earlier data. With ``components``
        also ``scores``: Brier score, log loss and ECE of the 30-day probability of the blend
        and of each component alone (``model``: BG/NBD; ``cycle``: the customer's own gaps,
        the model where they have none), each recalibrated the same way, and of the raw model.

    Raises
    ------
    ParameterError
        ``holdout_days`` is below 30.
    """
    if holdout_days < 30:
        raise ParameterError(tr("clv.next_order.holdout_days", got=holdout_days))
    store = memo_key(con)
    key = (*store, as_of, settings.timezone, holdout_days, components)
    return _CHECKS.get(key, lambda: _check(_days_for(con, as_of, settings, store), as_of,
                                           holdout_days, components))


def _check(d: _Days, as_of: date, holdout_days: int, components: bool = False
           ) -> dict[str, Any] | None:
    origin = -holdout_days
    fit = _predict(d, origin, as_of - timedelta(days=holdout_days))
    if not fit.ok:
        return None
    c = fit.customers
    first = _first_after(d, origin, 0).reindex(c.index)
    y30 = (first < 30).to_numpy(dtype=float)
    table = reliability_table(c["p_order_30d"].to_numpy(), y30)
    raw = reliability_table(c["p_model_30d"].to_numpy(), y30)
    out = {"origin": fit.as_of, "reliability": table,
           "ece": expected_calibration_error(table), "ece_raw": expected_calibration_error(raw),
           "reliability_raw": raw, "dates": _date_errors(c, first), "fit": fit}
    if components:
        out["scores"] = _component_scores(d, origin, c, y30)
    return out


def _component_scores(d: _Days, origin: int, c: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """Return Brier, log loss and ECE of the 30-day probability: blend vs its components."""
    early = origin - CALIBRATION_DAYS
    ev = _evidence(d, early)[0]
    y_early = (_first_after(d, early, origin).reindex(ev.index) < 30).to_numpy(dtype=float)
    # m -> infinity is the model alone; m -> 0 the customer's gaps (the model without gaps).
    preds = {"blend": c["p_order_30d"].to_numpy(), "model_raw": c["p_model_30d"].to_numpy()}
    for name, weight in (("model", 1e9), ("cycle", 1e-9)):
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
            _blend_p(ev, 30, weight), y_early)
        preds[name] = iso.predict(_blend_p(c, 30, weight))
    return pd.DataFrame([{"predictor": name, "brier": float(np.mean((p - y) ** 2)),
                          "log_loss": _log_loss(p, y),
                          "ece": expected_calibration_error(reliability_table(p, y))}
                         for name, p in preds.items()])


def _date_errors(c: pd.DataFrame, first: pd.Series) -> pd.DataFrame:
    """Return median absolute errors (days) of the date predictions among holdout buyers."""
    buyers = first.notna()
    ev, truth = c[buyers], first[buyers].to_numpy()
    # Naive: last purchase day + the customer's median gap; one purchase day: + the shop's
    # median of the customers' median gaps. Offsets from the origin, so "overdue" is negative.
    shop_gap = float(c["median_gap"].median())
    gap = ev["median_gap"].fillna(shop_gap).to_numpy()
    naive = gap - ev["e"].to_numpy()
    candidates = {"blend": ev["next_order_days"].to_numpy(),
                  "model": ev["model_days"].to_numpy(),
                  "cycle": ev["cycle_days"].fillna(ev["model_days"]).to_numpy(),
                  "naive": naive, "naive_clipped": np.maximum(naive, 0.0)}
    repeat = (ev["frequency"] > 0).to_numpy()
    rows = []
    for group, mask in (("all", np.ones(len(ev), bool)), ("one_day", ~repeat),
                        ("repeat", repeat)):
        row = {"group": group, "customers": int(mask.sum())}
        for name, pred in candidates.items():
            row[name] = float(np.median(np.abs(pred[mask] - truth[mask]))) if mask.any() \
                else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------ page tables
#: Weeks of :func:`next_order_weeks_table`.
WEEKS = 13


def next_order_weeks_table(customers: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Return customers by week of their expected next order over the next 13 weeks.

    Parameters
    ----------
    customers
        ``next_order_date`` (date; null allowed) and ``p_order_90d`` per customer.
    as_of
        Week 1 starts on this day.

    Returns
    -------
    pandas.DataFrame
        ``week_start`` (date), ``customers``, ``likely`` (those with ``p_order_90d >= 0.5``)
        and ``expected_buyers`` (the sum of their 90-day probabilities), one row per week.
        A customer unlikely to order at all still has a date (the median *if* they order
        within 90 days, near the window's middle for a slow buyer), hence the split.

    Examples
    --------
    >>> t = next_order_weeks_table(pd.DataFrame({
    ...     "next_order_date": [date(2026, 1, 2), date(2026, 1, 9), None],
    ...     "p_order_90d": [0.5, 0.25, 0.1]}), date(2026, 1, 1))
    >>> t.loc[:1, ["customers", "likely", "expected_buyers"]].to_numpy().tolist()
    [[1.0, 1.0, 0.5], [1.0, 0.0, 0.25]]
    """
    frame = customers.dropna(subset=["next_order_date"])
    offset = (pd.to_datetime(frame["next_order_date"]) - pd.Timestamp(as_of)).dt.days
    week = (offset // 7).to_numpy()
    keep = (week >= 0) & (week < WEEKS)
    idx = week[keep].astype(int)
    p = frame["p_order_90d"].fillna(0.0).to_numpy()[keep]
    return pd.DataFrame({
        "week_start": [as_of + timedelta(days=7 * i) for i in range(WEEKS)],
        "customers": np.bincount(idx, minlength=WEEKS).astype(float),
        "likely": np.bincount(idx, weights=(p >= 0.5), minlength=WEEKS),
        "expected_buyers": np.bincount(idx, weights=p, minlength=WEEKS)})


def page_tables(con: Any, as_of: date, settings: Settings) -> dict[str, Any]:
    """Return the CLV page's next-order tables: weeks, reliability (long) and its ECE.

    The weeks come from the snapshot when it is for ``as_of`` (else :func:`next_order_fit`,
    kept per process); the reliability table from :func:`holdout_check` (90 days), with a
    ``model`` column: ``blend`` (ours) and ``bgnbd`` (the model's raw probability).
    """
    from_snapshot = snapshot_for(con, as_of, ["next_order_date", "p_order_90d"])
    if from_snapshot is not None:
        frame = from_snapshot.select("next_order_date", "p_order_90d").to_pyarrow().to_pandas()
    else:
        fit = next_order_fit(con, as_of, settings)
        frame = fit.customers if fit.ok else pd.DataFrame(
            {"next_order_date": [], "p_order_90d": []})
    check = holdout_check(con, as_of, settings)
    if check is None:
        reliability, ece = pd.DataFrame(), float("nan")
    else:
        reliability = pd.concat([check["reliability"].assign(model="blend"),
                                 check["reliability_raw"].assign(model="bgnbd")],
                                ignore_index=True)
        ece = float(check["ece"])
    return {"next_order_weeks": next_order_weeks_table(frame, as_of),
            "next_order_reliability": reliability, "next_order_ece": ece}
