"""Holdout validation of purchase models: calibration/holdout split, tracking, errors by group.

The method is that of Fader, Hardie & Lee (2005) [1]_, section 5: fit on a calibration period,
then compare with what the same customers did in the holdout period that follows it,

- per customer: predicted vs actual repeat purchases (mean absolute error, bias), and the
  conditional expectation by calibration frequency (their Figure 4);
- in aggregate: the weekly and cumulative repeat transactions of the whole cohort against the
  model's unconditional expectation ``sum_i E[X(t - t_i)]`` over customers acquired at
  ``t_i`` (their Figures 2 and 3, the "tracking" chart).

The per-customer tables are built by the backend (:func:`workbench.features.facts_for` at the
two dates); only customer-sized or week-sized frames reach pandas.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "Counting Your Customers the
   Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science* 24(2), 275-284.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from workbench.dates import local_days
from workbench.errors import ParameterError
from workbench.features import UNITS, facts_for
from workbench.i18n import tr
from workbench.queries import net_orders
from workbench.settings import Settings, load_settings

__all__ = [
    "COMPARISON_COLUMNS",
    "TRACKING_COLUMNS",
    "by_frequency",
    "calibration_holdout",
    "compare_models",
    "expected_tracking",
    "tracking_data",
]

COMPARISON_COLUMNS = ("model", "customers", "predicted_total", "actual_total", "error_pct",
                      "mae", "rmse", "log_likelihood", "converged")
TRACKING_COLUMNS = ("week", "week_start", "holdout", "actual", "actual_cumulative", "model",
                    "expected", "expected_cumulative")


def calibration_holdout(con: Any, *, calibration_end: date, holdout_end: date,
                        settings: Settings | None = None, unit: str = "W") -> pd.DataFrame:
    """Return the calibration summary and holdout purchases of every calibration customer.

    Parameters
    ----------
    con
        An Ibis backend from :func:`workbench.data.connect`.
    calibration_end
        End of the calibration period (exclusive): facts use orders before it.
    holdout_end
        End of the holdout period (exclusive); the holdout is ``[calibration_end,
        holdout_end)``.
    settings
        Shop settings (time zone); default ``workbench.toml``.
    unit
        ``"W"`` or ``"D"``.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``: ``frequency``, ``recency``, ``T``, ``monetary_value`` (as
        of ``calibration_end``), ``frequency_holdout`` (purchase days in the holdout; all of
        them are repeat purchases) and ``duration_holdout`` (holdout length in ``unit``).
    """
    if holdout_end <= calibration_end:
        raise ParameterError(tr("clv.holdout.order", holdout_end=holdout_end.isoformat(),
                                calibration_end=calibration_end.isoformat()))
    # Without the top category and the median gap, which DuckDB would compute though unused.
    cal = facts_for(con, calibration_end, settings=settings, unit=unit, top_category=False,
                    median=False)
    end = facts_for(con, holdout_end, settings=settings, unit=unit, top_category=False,
                    median=False)
    cal = cal.select("customer_id", "frequency", "recency", "T", "monetary_value",
                     days_cal="purchase_days")
    end = end.select("customer_id", days_end="purchase_days")
    joined = cal.left_join(end, "customer_id")
    joined = joined.select(
        "customer_id", "frequency", "recency", "T", "monetary_value",
        frequency_holdout=(joined.days_end.fill_null(joined.days_cal) - joined.days_cal))
    frame = joined.to_pandas().set_index("customer_id").sort_index()
    frame = frame.astype({c: float for c in frame.columns})
    frame["duration_holdout"] = (holdout_end - calibration_end).days / UNITS[unit]
    frame.attrs.update(unit=unit, as_of=calibration_end.isoformat(), unit_days=UNITS[unit])
    return frame


def compare_models(models: dict[str, Any], data: pd.DataFrame) -> pd.DataFrame:
    """Return holdout accuracy of fitted purchase models (one row per model).

    ``data`` comes from :func:`calibration_holdout`; every model predicts
    ``expected_purchases(duration_holdout, data)`` for each customer.

    Returns
    -------
    pandas.DataFrame
        :data:`COMPARISON_COLUMNS`: totals, their relative error in percent, mean absolute and
        root-mean-square error per customer, calibration log-likelihood and convergence.
    """
    t = float(data["duration_holdout"].iloc[0])
    actual = data["frequency_holdout"].to_numpy()
    rows = []
    for name, model in models.items():
        pred = model.expected_purchases(t, data).to_numpy()
        rows.append({
            "model": name, "customers": len(data), "predicted_total": float(pred.sum()),
            "actual_total": float(actual.sum()),
            "error_pct": 100 * (pred.sum() - actual.sum()) / max(actual.sum(), 1e-12),
            "mae": float(np.mean(np.abs(pred - actual))),
            "rmse": float(np.sqrt(np.mean((pred - actual) ** 2))),
            "log_likelihood": float(model.log_likelihood_),
            "converged": bool(model.converged_),
        })
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def by_frequency(model: Any, data: pd.DataFrame, *, max_frequency: int = 7) -> pd.DataFrame:
    """Return mean predicted and actual holdout purchases by calibration frequency.

    Frequencies at or above ``max_frequency`` are pooled into one group (labelled
    ``max_frequency``), as in Figure 4 of [1]_.
    """
    t = float(data["duration_holdout"].iloc[0])
    frame = pd.DataFrame({
        "frequency": np.minimum(data["frequency"].to_numpy(), max_frequency).astype(int),
        "predicted": model.expected_purchases(t, data).to_numpy(),
        "actual": data["frequency_holdout"].to_numpy(),
    })
    out = frame.groupby("frequency").agg(customers=("actual", "size"),
                                         predicted=("predicted", "mean"),
                                         actual=("actual", "mean")).reset_index()
    return out


def expected_tracking(model: Any, birth: np.ndarray, counts: np.ndarray,
                      edges: np.ndarray) -> np.ndarray:
    """Return the model's expected repeat purchases of a cohort in each interval of ``edges``.

    Parameters
    ----------
    model
        A fitted model with ``expected_purchases_new(t)`` (E[X(t)] of a new customer).
    birth
        Distinct acquisition times (first purchase), in the model's unit.
    counts
        Number of customers acquired at each ``birth``.
    edges
        Increasing interval boundaries (same time axis as ``birth``).

    Returns
    -------
    numpy.ndarray
        ``len(edges) - 1`` expected repeat purchases, ``sum_i n_i (E[X(e_{k+1} - b_i)] -
        E[X(e_k - b_i)])`` with ``E[X(t)] = 0`` for ``t <= 0``.
    """
    age = np.maximum(edges[None, :] - birth[:, None], 0.0)
    cumulative = model.expected_purchases_new(age.ravel()).reshape(age.shape)
    cumulative = np.where(age > 0, cumulative, 0.0)
    return counts @ np.diff(cumulative, axis=1)


def tracking_data(con: Any, models: dict[str, Any], *, calibration_end: date,
                  holdout_end: date, settings: Settings | None = None, unit: str = "W",
                  weeks_before: int = 52) -> pd.DataFrame:
    """Return weekly actual and expected repeat purchases of the calibration cohort.

    The cohort is every customer whose first net purchase is before ``calibration_end``. The
    chart starts ``weeks_before`` weeks before ``calibration_end`` (or at the first purchase)
    and ends at ``holdout_end``; weeks are 7-day blocks counted back from ``calibration_end``.

    Returns
    -------
    pandas.DataFrame
        Long format, :data:`TRACKING_COLUMNS`: one row per week and model (``expected``) with
        the actual counts repeated on every model's rows.
    """
    settings = settings or load_settings()
    tz = settings.timezone
    orders = con.table("orders")
    net = net_orders(orders, before=holdout_end, timezone=tz, identified=True)
    # Days relative to calibration_end (day -1 is the last calibration day).
    day = local_days(net.ordered_at, as_of=calibration_end, timezone=tz)
    days = net.select("customer_id", day=day).distinct()
    first = days.day.min().over(group_by="customer_id")
    days = days.mutate(first=first)
    cohort = days.filter(days.first < 0)
    births = cohort.filter(cohort.day == cohort.first).group_by("first").aggregate(
        n=ibis._.count()).to_pandas()
    if births.empty:
        return pd.DataFrame(columns=list(TRACKING_COLUMNS))
    start_day = max(int(births["first"].min()), -7 * weeks_before)
    start_day = -7 * ((-start_day + 6) // 7)  # whole weeks before calibration_end
    repeats = cohort.filter((cohort.day > cohort.first) & (cohort.day >= start_day))
    weekly = repeats.group_by(week=(repeats.day - start_day) // 7).aggregate(
        actual=ibis._.count()).to_pandas()
    n_weeks = int(np.ceil(((holdout_end - calibration_end).days - start_day) / 7))
    actual = np.zeros(n_weeks)
    weekly = weekly[(weekly.week >= 0) & (weekly.week < n_weeks)]
    actual[weekly.week.astype(int).to_numpy()] = weekly.actual.to_numpy()
    edges_days = start_day + 7.0 * np.arange(n_weeks + 1)
    edges_days[-1] = min(edges_days[-1], (holdout_end - calibration_end).days)
    # A customer born on day d has age (e - d - 1) days at edge e: lifetimes' T convention
    # measures from the first purchase day to the day before the end.
    per = float(UNITS[unit])
    frames = []
    week_start = [calibration_end + timedelta(days=int(d)) for d in edges_days[:-1]]
    for name, model in models.items():
        expected = expected_tracking(model, births["first"].to_numpy(float) / per,
                                     births["n"].to_numpy(float), (edges_days - 1) / per)
        frames.append(pd.DataFrame({
            "week": np.arange(n_weeks) - int(-start_day // 7), "week_start": week_start,
            "holdout": edges_days[:-1] >= 0, "actual": actual,
            "actual_cumulative": np.cumsum(actual), "model": name, "expected": expected,
            "expected_cumulative": np.cumsum(expected)}))
    return pd.concat(frames, ignore_index=True)[list(TRACKING_COLUMNS)]
