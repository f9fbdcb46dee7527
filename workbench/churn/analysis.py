"""Churn entry points: train, score, the report/dashboard analysis and the snapshot part.

- :func:`train` fits a :class:`~workbench.churn.model.ChurnModel` for use at ``as_of``: trees
  on the cutoff ``as_of - 2W`` (and earlier slices), calibration on ``as_of - W``, where ``W``
  is the longest label window, so every label it learns from is over before ``as_of``.
- :func:`score` scores the customers active before ``as_of``: ``churn_risk``, ``risk_band``
  and ``churn_reasons`` (reason keys, ``;``-separated, for the at-risk bands).
- :func:`run_churn` is the notebook's analysis: score, bands with the recommended action,
  the high-risk high-value list (masked), reasons, and the backtest.
- :func:`churn_part` gives the snapshot columns (:data:`SNAPSHOT_COLUMNS`).
- :func:`ensure_model` returns the saved model for a definition, training and saving it
  (:func:`saved_name`) only when there is none: ``workbench refresh`` and the weekly report
  call it, so pages only ever read a saved model (``run_churn(..., fit=False)``).

The analysis returns numbers, keys and statuses; :class:`ChurnResult` words them (the message,
the plain-words reasons of the watchlist) in the reader's language when they are shown, so the
sentences always agree with the numbers beside them. Labels looked up by a key (band names,
recommended actions, reason names) are stored in the result's language with the numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd

from workbench.churn.backtest import BACKTEST_COLUMNS, backtest, backtest_cutoffs, score_metrics
from workbench.churn.bands import (
    BANDS,
    BandRule,
    assign_bands,
    band_label,
    band_summary,
    risk_level,
)
from workbench.churn.definition import ChurnDefinition
from workbench.churn.explain import REASONS, top_reasons
from workbench.churn.features import categories_for, feature_frame
from workbench.churn.labels import data_end, labelled_frame
from workbench.churn.model import (
    ChurnModel,
    FeatureMismatchError,
    OutdatedModelError,
    fit_slices,
    load_model,
    models_dir,
    read_metadata,
    save_model,
    too_little_data,
)
from workbench.churn.result import (
    WATCH_FACT_COLUMNS,
    ChurnResult,
    empty_frame,
    no_result,
)
from workbench.clv.analysis import clv_part
from workbench.data.memo import Memo, memo_key
from workbench.data.people import masked_contacts
from workbench.data.snapshot import SnapshotPart, snapshot_for
from workbench.dates import local_instant
from workbench.errors import ParameterError, TooLittleDataError, WorkbenchWarning
from workbench.i18n import tr
from workbench.params import NotebookParams, param
from workbench.results import Status
from workbench.settings import Settings, load_settings

__all__ = ["SNAPSHOT_COLUMNS", "ChurnParams", "ChurnResult", "churn_part", "ensure_model",
           "run_churn", "saved_name", "score", "train"]

#: Columns :func:`churn_part` adds to the per-customer snapshot.
SNAPSHOT_COLUMNS = ("customer_id", "churn_risk", "risk_band", "churn_reasons")
# ------------------------------------------------------------------------------------ params
@dataclass(frozen=True, slots=True)
class ChurnParams(NotebookParams):
    """Parameters of the churn analysis (``notebooks/churn.ipynb``).

    Parameters
    ----------
    horizon_days
        Churned = no order in this many days after the cutoff (default 90).
    definition
        ``fixed`` (the horizon for everyone) or ``rhythm`` (``rhythm_k`` times the customer's
        median gap, or their category's replenishment cycle).
    rhythm_k
        Multiple of the customer's own rhythm in ``rhythm`` mode.
    band_rule
        ``capacity`` (``band_high`` / ``band_medium`` customers, counts or shares below 1) or
        ``precision`` (expected-precision floors).
    band_high, band_medium
        Parameters of the band rule.
    backtest_cutoffs
        Consecutive backtest cutoffs (0: no backtest).
    step_days
        Days between backtest cutoffs.
    model
        Name of a saved model in the store's ``models/`` folder; empty: :func:`run_churn`
        trains one for ``as_of``, a page (``fit=False``) uses the one saved for the
        definition (:func:`saved_name`) and never trains.
    top_n
        Customers in the high-risk high-value list.
    """

    horizon_days: int = param(90)
    definition: str = param("fixed")
    rhythm_k: float = param(2.0)
    band_rule: str = param("capacity")
    band_high: float = param(0.1)
    band_medium: float = param(0.2)
    backtest_cutoffs: int = param(3, low=0, high=12)
    step_days: int = param(28, low=1, high=365)
    model: str = param("")
    top_n: int = param(50, low=1, high=1000)

    def check(self) -> None:
        """Check the churn definition and the band rule (their own classes say what is wrong)."""
        self.churn_definition()  # validates horizon, mode and k
        self.band()  # validates the rule

    def churn_definition(self) -> ChurnDefinition:
        """Return the :class:`ChurnDefinition` these parameters describe."""
        return ChurnDefinition(horizon_days=int(self.horizon_days), mode=self.definition,
                               k=float(self.rhythm_k))

    def band(self) -> BandRule:
        """Return the :class:`BandRule` these parameters describe."""
        return BandRule(self.band_rule, high=float(self.band_high),
                        medium=float(self.band_medium))


# ------------------------------------------------------------------------------------ train
def _first_order_day(con: Any, settings: Settings) -> date | None:
    first = con.table("orders").ordered_at.min().execute()
    if first is None or first != first:
        return None
    return local_instant(first, settings.timezone).date()


def training_cutoffs(as_of: date, definition: ChurnDefinition, *, slices: int = 1,
                     step_days: int = 28) -> tuple[list[date], date]:
    """Return (training cutoffs, calibration cutoff) for a model used at ``as_of``.

    >>> training_cutoffs(date(2026, 11, 16), ChurnDefinition())
    ([datetime.date(2026, 5, 20)], datetime.date(2026, 8, 18))
    """
    w = definition.longest_window
    cal = as_of - timedelta(days=w)
    return [cal - timedelta(days=w + step_days * i) for i in range(slices)], cal


def train(con: Any, as_of: date, *, definition: ChurnDefinition | None = None,
          settings: Settings | None = None, model_params: dict[str, Any] | None = None,
          p_alive: bool = True, slices: int = 1, step_days: int = 28,
          backtest_cutoffs: int = 0, save: str | None = None, folder: Any = None) -> ChurnModel:
    """Train a churn model to be used at ``as_of`` (see the module docstring for the slices).

    Parameters
    ----------
    con
        Ibis backend of the store.
    as_of
        The date the model will score at; its labels all end by then.
    definition
        Churn definition (default: 90 days, fixed).
    settings
        Time zone; default: ``workbench.toml``.
    model_params
        Keyword arguments of :class:`ChurnModel`.
    p_alive
        Use BG/NBD P(alive) as a feature (needs ``workbench.clv``).
    slices, step_days
        Training slices (cutoffs ``step_days`` apart, stacked) before the calibration cutoff.
    backtest_cutoffs
        Also backtest on this many cutoffs (``step_days`` apart, the last one's labels ending
        by ``as_of``) and keep the metrics in ``metadata_["backtest"]``, so a dashboard shows
        them without recomputing.
    save, folder
        Save the model under this name (in ``folder``, default the store's ``models/``).

    Returns
    -------
    ChurnModel
        Fitted, with ``metadata_`` (cutoffs, definition, categories, calibration-slice
        metrics).

    Raises
    ------
    TooLittleDataError
        The store has no orders, its first order is not before the training cutoff (too short
        a history for the definition), or a slice has only one outcome.
    ParameterError
        ``slices`` is below 1, or the store's orders end before ``as_of`` (the calibration
        labels would be incomplete: train for an earlier date).
    """
    settings = settings or load_settings()
    definition = definition or ChurnDefinition()
    if int(slices) < 1:
        raise ParameterError(tr("churn.train.slices", got=repr(slices)))
    cuts, cal_at = training_cutoffs(as_of, definition, slices=int(slices),
                                    step_days=int(step_days))
    end, first = data_end(con, settings=settings), _first_order_day(con, settings)
    if end is None or first is None:
        raise too_little_data("churn.train.no_orders")
    if end < as_of:
        raise ParameterError(tr("churn.train.after_data",
                                last=(end - timedelta(days=1)).isoformat(),
                                as_of=as_of.isoformat(), cal=cal_at.isoformat(),
                                end=end.isoformat()))
    if min(cuts) <= first:
        w = definition.longest_window
        raise too_little_data("churn.train.short_history", cutoff=min(cuts).isoformat(),
                              first=first.isoformat(), window=w, days=2 * w)
    categories = categories_for(con, max(cuts), settings=settings)

    def frame(cutoff: date) -> pd.DataFrame:
        return labelled_frame(con, cutoff, definition=definition, settings=settings,
                              categories=categories, p_alive=p_alive)

    train_frame = pd.concat([frame(c) for c in cuts])
    cal = frame(cal_at)
    model = fit_slices(train_frame, cal,
                       cutoffs=(", ".join(c.isoformat() for c in cuts), cal_at.isoformat()),
                       model_params=model_params)
    cal_metrics = score_metrics(cal["churned"], model.predict_proba(cal.drop(columns="churned")))
    model.metadata_ = {
        "as_of": as_of.isoformat(), "training_cutoffs": [c.isoformat() for c in cuts],
        "calibration_cutoff": cal_at.isoformat(), "definition": definition.to_dict(),
        "categories": list(categories), "p_alive": bool(p_alive),
        "training_rows": len(train_frame), "calibration_rows": len(cal),
        "calibration_metrics": cal_metrics,
    }
    if int(backtest_cutoffs) > 0:
        bt = backtest(con, cutoffs=backtest_cutoffs_for(as_of, definition, int(backtest_cutoffs),
                                                        int(step_days)),
                      definition=definition, settings=settings, p_alive=p_alive,
                      model_params=model_params)
        model.metadata_["backtest"] = _backtest_records(bt)
    if save:
        save_model(model, save, folder=folder, settings=settings)
    return model


def backtest_cutoffs_for(as_of: date, definition: ChurnDefinition, n: int,
                         step_days: int) -> list[date]:
    """Return the ``n`` backtest cutoffs whose outcomes are known by ``as_of``."""
    return backtest_cutoffs(as_of, definition, n=n, step_days=step_days)


def _backtest_records(bt: Any) -> dict[str, list[dict[str, Any]]]:
    def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
        out = frame.copy()
        if "cutoff" in out:
            out["cutoff"] = out["cutoff"].astype(str)
        return out.astype(object).where(out.notna(), None).to_dict("records")

    return {"metrics": records(bt.metrics), "reliability": records(bt.reliability),
            "gaps": records(bt.gaps()), "importance": records(bt.importance)}


# ------------------------------------------------------------------------------------ score
def score(con: Any, as_of: date, model: ChurnModel, *, settings: Settings | None = None,
          band_rule: BandRule | None = None, explain: bool = True,
          explain_bands: tuple[str, ...] = ("high",)) -> pd.DataFrame:
    """Score every customer active before ``as_of`` with a fitted model.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``customer_id``, in no particular row order (sort it if you need one):
        ``churn_risk`` (calibrated probability), ``risk_band``,
        ``churn_reasons`` (reason keys for customers in ``explain_bands``, else empty), then
        the model's feature columns (for plain-words reasons and lists). Reasons cost one
        prediction per feature group and customer, so by default only the high band -- the
        customers a team acts on -- gets them (1M customers: 2 s instead of 6 s for the two
        at-risk bands); pass ``explain_bands=BANDS`` for everyone.

    Raises
    ------
    FeatureMismatchError
        The store does not give the features the model was trained on.
    """
    settings = settings or load_settings()
    # Not kept: the refresh scores once, with a model object of its own.
    scores = _Scores.score(con, as_of, model, settings)
    bands = assign_bands(scores.risk, band_rule)
    reasons = scores.reasons(bands, explain_bands) if explain else pd.Series(
        "", index=scores.X.index, dtype="object", name="churn_reasons")
    out = pd.concat([scores.risk, bands, reasons, scores.X], axis=1)
    out.index.name = "customer_id"
    return out


# ----------------------------------------------------------------------------- the heavy part
# A widget on the page (band rule, band sizes, list length) changes only the view: the features
# and risks depend on the store's data, as_of and the model. They are kept per process
# (workbench.data.memo: keyed on the store's data version, so a load or a refresh scores
# again; the saved model by its files, so a retrained one scores again), and run_churn only
# bands, explains and ranks. Reasons are per customer (the model's log-odds against a typical
# customer), so each customer is explained once and kept for the next band rule.
# Two: the features of 1M customers take about 0.5 GB.
_SCORES = Memo("churn.scores", size=2)
_MODELS = Memo("churn.saved_model", size=4)
_VALUES = Memo("churn.values", size=4)
_TRAINED = Memo("churn.trained", size=2)
_BACKTESTS = Memo("churn.backtest", size=4)


@dataclass(slots=True, eq=False)
class _Scores:
    """Features and calibrated risk of every customer active before ``as_of``, for one model.

    Shared between results: never modify ``X`` or ``risk``. ``_reasons`` grows as customers
    are explained (:meth:`reasons`).
    """

    model: ChurnModel
    X: pd.DataFrame
    risk: pd.Series
    _reasons: pd.Series

    @classmethod
    def compute(cls, con: Any, as_of: date, model: ChurnModel, settings: Settings,
                store: tuple | None = None) -> _Scores:
        """Return the scores of ``model`` as of ``as_of`` (kept per process)."""
        key = (*(store or memo_key(con)), as_of, settings.timezone, id(model))
        # The model itself is in the value, so its id is not reused while the entry lives.
        return _SCORES.get(key, lambda: cls.score(con, as_of, model, settings))

    @classmethod
    def score(cls, con: Any, as_of: date, model: ChurnModel, settings: Settings) -> _Scores:
        """Return the scores of ``model`` as of ``as_of``, computed now."""
        meta = getattr(model, "metadata_", {}) or {}
        X = feature_frame(con, as_of, settings=settings,
                          categories=tuple(meta.get("categories", ())) or None,
                          p_alive=bool(meta.get("p_alive", True)),
                          horizon_days=model.definition.horizon_days, sort=False,
                          top_category=False)
        risk = model.predict_proba(X)
        return cls(model, X, risk, pd.Series(None, index=X.index, dtype="object",
                                             name="churn_reasons"))

    def reasons(self, bands: pd.Series, explain_bands: tuple[str, ...] = ("high",)
                ) -> pd.Series:
        """Return the reason keys of the customers in ``explain_bands`` ("" for the others)."""
        pick = bands.isin(explain_bands).to_numpy()
        return self.reasons_of(pick).fillna("")

    def reasons_of(self, pick: np.ndarray | pd.Index) -> pd.Series:
        """Return reasons (a copy) with those of ``pick`` (a mask or customer ids) filled in."""
        if isinstance(pick, pd.Index):
            pick = self.X.index.isin(pick)
        todo = pick & self._reasons.isna().to_numpy()
        if todo.any():
            self._reasons[todo] = top_reasons(self.model, self.X.loc[todo]).to_numpy()
        out = pd.Series(None, index=self.X.index, dtype="object", name="churn_reasons")
        out[pick] = self._reasons[pick]
        return out


def run_churn(con: Any, params: ChurnParams, settings: Settings | None = None, *,
              fit: bool = True) -> ChurnResult:
    """Score churn risk as of ``params.as_of``, with bands, reasons, actions and a backtest.

    With ``params.model`` the saved model is loaded (its stored backtest is shown when the
    parameters ask for one, instead of recomputing); otherwise a model is trained for
    ``as_of`` and, with ``backtest_cutoffs``, backtested on the latest cutoffs whose outcomes
    are known.

    With ``fit=False`` (dashboards: a page load must never train) nothing is fitted: the saved
    model :func:`saved_name` gives for the definition (or ``params.model``) scores, its stored
    backtest is shown or none, and values come from the snapshot or the 365-day proxy
    (:func:`_values`). Without a saved model the result says how to create one.

    Returns
    -------
    ChurnResult
        ``status`` ``NO_DATA`` without orders, or (``fit=False``) without a saved model for
        the definition (``condition`` ``churn.message.no_model``); ``TOO_LITTLE_DATA`` when
        the history is too short to train (the message says how much is needed).

    Raises
    ------
    ParameterError
        ``params`` is not a :class:`ChurnParams` or has no ``as_of``.
    """
    if not isinstance(params, ChurnParams):
        raise ParameterError(tr("churn.run.params", got=type(params).__name__))
    if params.as_of is None:
        raise ParameterError(tr("churn.run.as_of"))
    settings = settings or load_settings()
    language = params.language or settings.language
    definition = params.churn_definition()
    folder = models_dir(settings, store=params.store)
    name = params.model or ("" if fit else saved_name(definition))
    if name and not params.model and not _saved_for(name, definition, folder):
        name = ""
    model = _load_saved(name, folder) if name else None
    if model is not None:  # a saved model scores for its own definition
        definition = model.definition
    base = {"as_of": params.as_of, "currency": settings.currency, "language": language,
            "definition": definition}
    end = data_end(con, settings=settings)
    if end is None:
        return no_result(base, Status.NO_DATA, "churn.message.no_data")
    if model is None and not fit:
        return no_result(base, Status.NO_DATA, _no_model_key(definition),
                        definition=definition.describe(language), name=saved_name(definition),
                        horizon=definition.horizon_days)
    stored_backtest = model.metadata_.get("backtest") if model is not None else None
    store = memo_key(con)  # the store and its data version: computed once per run
    try:
        if model is None:
            at = min(params.as_of, end)
            model = _TRAINED.get(
                (*store, at, settings.timezone, tuple(sorted(definition.to_dict().items()))),
                lambda: train(con, at, definition=definition, settings=settings))
    except TooLittleDataError as exc:  # a data condition: the result says what is missing
        return no_result(base, Status.TOO_LITTLE_DATA, exc.key, **exc.facts)
    scores = _Scores.compute(con, params.as_of, model, settings, store)
    if scores.X.empty:
        return no_result(base, Status.NO_DATA, "churn.message.no_customers",
                        as_of=params.as_of.isoformat())
    X, risk = scores.X, scores.risk
    bands = assign_bands(risk, params.band())
    value, source = _VALUES.get(
        (*store, params.as_of, settings.timezone, float(settings.gross_margin), bool(fit)),
        lambda: _values(con, X, params.as_of, settings, fit=fit))
    # Kept apart from the scores, whose rows may come in another order when scored again.
    value = value.reindex(X.index)
    customers = pd.DataFrame({
        "customer_id": X.index, "churn_risk": risk.to_numpy(),
        "risk_band": bands.to_numpy(),
        "churn_reasons": scores.reasons(bands).to_numpy(), "value": value.to_numpy(),
        "value_at_risk": (risk * value).to_numpy(),
        "recency_days": X["recency_days"].to_numpy(),
        "orders": X["orders"].to_numpy()})
    bt, rel, gaps, imp = _backtest_frames(con, params, definition, settings, model,
                                          stored_backtest, fit=fit, store=store)
    info = {**{k: v for k, v in model.metadata_.items() if k != "backtest"},
            "features": list(model.features_), "model_name": name}
    return ChurnResult(**base, customers=customers, bands=_bands_frame(customers, language),
                       reasons=_reasons_frame(customers, language),
                       watch=_watch(con, customers, scores, model, int(params.top_n)),
                       backtest=bt,
                       reliability=rel, gaps=gaps, importance=imp, model_info=info,
                       value_source=source)


def _load_saved(name: str, folder: Any) -> ChurnModel:
    """Return the saved model ``name`` (:func:`load_model`), kept per process by its files.

    Reading it costs seconds (skops checks every type it builds); the files' size and
    modification time say whether it was saved again since.
    """
    stamps = []
    for suffix in (".skops", ".json"):
        try:
            st = (Path(folder) / f"{name}{suffix}").stat()
            stamps.append((st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            stamps.append(None)
    return _MODELS.get((str(folder), name, *stamps), lambda: load_model(name, folder=folder))


#: Floor of P(alive) when dividing by it: below it CLV and P(alive) are both rounding noise.
_P_ALIVE_FLOOR = 1e-9


def _no_model_key(definition: ChurnDefinition) -> str:
    """Return the message saying how to create the missing model for ``definition``."""
    if definition == ChurnDefinition():
        return "churn.message.no_model"  # refresh, the report and ``make demo`` create it
    if definition == ChurnDefinition(horizon_days=definition.horizon_days):
        return "churn.message.no_model_horizon"  # ``workbench churn train --horizon N``
    return "churn.message.no_model_custom"


def _values(con: Any, scored: pd.DataFrame, as_of: date, settings: Settings | None = None,
            *, fit: bool = True) -> tuple[pd.Series, str]:
    """Return each customer's value if retained, and its source.

    ``clv_if_retained``: the predicted 12-month margin (CLV: BG/NBD + Gamma-Gamma, discounted)
    divided by P(alive). The CLV already counts the chance that the customer has left: their
    expected purchases are P(alive) times those of a customer known to be active (eq. (10) in
    [1]), and spend and discounting scale with them, so ``clv / p_alive`` is what the customer
    brings if they stay. Multiplying the CLV itself by the churn risk would count leaving twice
    and put customers who are long gone and worth nothing at the top of the list.

    From the snapshot's ``clv`` and ``p_alive`` when the snapshot is for ``as_of``; else, with
    ``fit``, from ``workbench.clv`` fitted now; else (a page, or when the CLV models refuse the
    data) ``net_revenue_365d``, the net revenue of the last 365 days: what they bring in a
    year if they keep their pace.

    References
    ----------
    .. [1] Fader, Hardie and Lee (2005), "Counting your customers the easy way: an alternative
       to the Pareto/NBD model", Marketing Science 24(2).
    """
    table = snapshot_for(con, as_of, ["clv", "p_alive"])
    if table is None and fit:
        table = clv_part(con, as_of=as_of, settings=settings or load_settings())
    if table is None:
        return scored["net_revenue_365d"].astype(float).fillna(0.0), "net_revenue_365d"
    frame = table.select("customer_id", "clv", "p_alive").to_pyarrow().to_pandas().set_index(
        "customer_id").reindex(scored.index).astype(float)
    value = frame["clv"] / frame["p_alive"].clip(lower=_P_ALIVE_FLOOR)
    return value.fillna(0.0), "clv_if_retained"


def _backtest_frames(con: Any, params: ChurnParams, definition: ChurnDefinition,
                     settings: Settings, model: ChurnModel, stored: dict | None, *,
                     fit: bool = True, store: tuple | None = None
                     ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return the backtest tables: stored with the model, computed (with ``fit``), or empty.

    Empty without cutoffs, without a stored one when fitting is not allowed, or when the
    history before the cutoffs is too short to train on (the page then says there is no
    backtest).
    """
    empty = pd.DataFrame()
    if int(params.backtest_cutoffs) == 0 or (not stored and not fit):
        return empty_frame(BACKTEST_COLUMNS), empty, empty, empty
    if stored:
        return (pd.DataFrame(stored.get("metrics", [])),
                pd.DataFrame(stored.get("reliability", [])), pd.DataFrame(stored.get("gaps", [])),
                pd.DataFrame(stored.get("importance", [])))
    end = min(data_end(con, settings=settings), params.as_of)
    cutoffs = backtest_cutoffs(end, definition, n=int(params.backtest_cutoffs),
                               step_days=int(params.step_days))
    p_alive = bool(model.metadata_.get("p_alive", True))

    def run() -> tuple[pd.DataFrame, ...] | None:
        try:
            bt = backtest(con, cutoffs=cutoffs, definition=definition, settings=settings,
                          p_alive=p_alive)
        except TooLittleDataError:
            return None
        return bt.metrics, bt.reliability, bt.gaps(), bt.importance

    key = (*(store or memo_key(con)), tuple(cutoffs), settings.timezone, p_alive,
           tuple(sorted(definition.to_dict().items())))
    frames = _BACKTESTS.get(key, run)
    if frames is None:
        return empty_frame(BACKTEST_COLUMNS), empty, empty, empty
    return tuple(f.copy() for f in frames)


def _bands_frame(customers: pd.DataFrame, language: str) -> pd.DataFrame:
    """Return the band table; each band is named by its expected churn (:func:`band_label`).

    The bands are cut by rank or precision (:class:`BandRule`), so the top band of a loyal
    shop may expect 20% churn and the bottom one of a shop losing customers 49%: a name by
    rank ("low risk") would then contradict the number beside it.
    """
    risk = customers.set_index("customer_id")["churn_risk"]
    bands = customers.set_index("customer_id")["risk_band"]
    out = band_summary(risk, bands)
    sums = customers.groupby("risk_band")[["value", "value_at_risk"]].sum().reindex(
        list(BANDS)).fillna(0.0)
    out["value"] = sums["value"].to_numpy()
    out["value_at_risk"] = sums["value_at_risk"].to_numpy()
    out["level"] = [risk_level(m) for m in out["mean_risk"]]
    # Rank first when two bands share a level, so each band has its own name.
    shared = out["level"].duplicated(keep=False).any()
    out["label"] = [band_label(m, language, order=i + 1 if shared else None)
                    for i, m in enumerate(out["mean_risk"])]
    out["action"] = [tr(f"churn.action.{b}", language=language) for b in out["band"]]
    return out.loc[:, ["band", "level", "label", "customers", "share", "mean_risk", "min_risk",
                       "value", "value_at_risk", "action"]]


def _reasons_frame(customers: pd.DataFrame, language: str) -> pd.DataFrame:
    at_risk = customers[customers["risk_band"] == "high"]
    keys = at_risk["churn_reasons"].fillna("").str.split(";").explode()
    counts = keys[keys != ""].value_counts()
    out = pd.DataFrame({"reason": list(REASONS)})
    out["customers"] = out["reason"].map(counts).fillna(0).astype("int64")
    out["share"] = out["customers"] / max(len(at_risk), 1)
    out["label"] = [tr(f"churn.reason_label.{r}", language=language) for r in out["reason"]]
    out = out[out["customers"] > 0].sort_values("customers", ascending=False, kind="stable")
    return out.reset_index(drop=True).loc[:, ["reason", "label", "customers", "share"]]


def _watch(con: Any, customers: pd.DataFrame, scores: _Scores, model: ChurnModel,
           top_n: int) -> pd.DataFrame:
    """Return the customers with the most value at risk (risk x value if retained), masked.

    Ranked over every band: value at risk already weighs the risk, and the customers worth a
    call are those with much to lose, not the surest leavers (often long gone and worth
    little). With their reason keys (explained here, whatever their band) and the feature
    values the worded reasons quote (:data:`WATCH_FACT_COLUMNS`);
    :meth:`ChurnResult.watchlist_in` words them.
    """
    top = customers.sort_values(["value_at_risk", "customer_id"], ascending=[False, True],
                                kind="stable").head(top_n).reset_index(drop=True)
    ids = pd.Index(top["customer_id"])
    top["churn_reasons"] = scores.reasons_of(ids).reindex(ids).to_numpy()
    contacts = masked_contacts(con, list(top["customer_id"]))
    top["name"], top["phone"] = contacts["name"], contacts["phone"]
    quoted = [f for f in WATCH_FACT_COLUMNS if f not in top.columns]
    top[quoted] = scores.X.reindex(index=ids, columns=quoted).to_numpy(float)
    return top.astype({"name": object, "phone": object}).loc[:, list(WATCH_FACT_COLUMNS)]


# ------------------------------------------------------------------------------------ saved
_DEFAULT = ChurnDefinition().to_dict()


def saved_name(definition: ChurnDefinition | None = None) -> str:
    """Return the name a model for ``definition`` is saved under (``churn`` for the default).

    >>> saved_name(), saved_name(ChurnDefinition(horizon_days=60))
    ('churn', 'churn-60d')
    >>> saved_name(ChurnDefinition(mode="rhythm", k=2.5))
    'churn-rhythm-2.5x-90d'
    """
    d = definition or ChurnDefinition()
    if d == ChurnDefinition():
        return "churn"
    if d.mode == "fixed":
        return f"churn-{d.horizon_days}d"
    return f"churn-rhythm-{float(d.k):g}x-{d.horizon_days}d"


def _saved_for(name: str, definition: ChurnDefinition, folder: Any) -> bool:
    """Return whether the model saved as ``name`` in ``folder`` is for ``definition``."""
    meta = read_metadata(name, folder=folder)
    # Sidecars from before definitions were recorded describe the default one.
    return meta is not None and meta.get("definition", _DEFAULT) == definition.to_dict()


def ensure_model(con: Any, as_of: date, *, settings: Settings,
                 definition: ChurnDefinition | None = None, store: str | None = None,
                 backtest_cutoffs: int = 3, step_days: int = 28,
                 retrain: bool = False) -> ChurnModel | None:
    """Return the saved model for ``definition``, training and saving one when there is none.

    ``workbench refresh`` and the weekly report (through :func:`churn_part`) call this, so a
    fresh store gets its model once, with its backtest stored (``backtest_cutoffs``), and no
    page ever trains (:func:`run_churn` with ``fit=False``). The model is saved as
    :func:`saved_name` of the definition in the store's ``models/``; it is trained for
    ``as_of`` (or the end of the data, when earlier). An existing model is reused whatever
    date it was trained for: ``workbench churn train`` retrains on demand.

    A saved model of an older format, or one for another definition under the same name
    (written by hand), is replaced with a warning; so is any model when ``retrain``.

    Returns
    -------
    ChurnModel or None
        ``None`` when the store has no orders or too little history to train.

    Raises
    ------
    UntrustedModelError
        The saved model fails its checks (changed since it was saved, a broken sidecar):
        refresh runs unattended, and quietly training over it would hide that someone or
        something replaced the file; ``workbench churn train`` replaces it.
    """
    definition = definition or ChurnDefinition()
    name, folder = saved_name(definition), models_dir(settings, store=store)
    meta = None if retrain else read_metadata(name, folder=folder)
    if meta is not None and _saved_for(name, definition, folder):
        try:
            return load_model(name, folder=folder)
        except OutdatedModelError as exc:
            warnings.warn(tr("churn.refresh.outdated", error=str(exc)), WorkbenchWarning,
                          stacklevel=2)
    elif meta is not None:
        warnings.warn(tr("churn.refresh.other_definition", name=name,
                         definition=definition.describe()), WorkbenchWarning, stacklevel=2)
    end = data_end(con, settings=settings)
    if end is None:
        return None
    try:
        return train(con, min(as_of, end), definition=definition, settings=settings,
                     backtest_cutoffs=backtest_cutoffs, step_days=step_days, save=name,
                     folder=folder)
    except TooLittleDataError:
        return None


# ------------------------------------------------------------------------------------ snapshot
def churn_part(con: Any, *, as_of: date, settings: Settings) -> Any:
    """Return the churn columns of the per-customer snapshot (:data:`SNAPSHOT_COLUMNS`).

    Scores with the saved model ``churn`` (:func:`ensure_model`: trained, backtested and saved
    on the first refresh of a store, default parameters: 90 days, bands by capacity 10% /
    20%). When the store's tables no longer give that model's features (a table added or
    dropped since), a model for the store as it is replaces it. Returns an Ibis memtable
    keyed by ``customer_id``; with too little history to train, an empty one (the snapshot's
    churn columns are null).

    A model that fails its checks raises ``UntrustedModelError`` (see :func:`ensure_model`):
    the snapshot then stays as it was, and ``workbench churn train`` fixes it.
    """
    empty = ibis.memtable(pd.DataFrame({
        "customer_id": pd.Series(dtype="string"), "churn_risk": pd.Series(dtype="float64"),
        "risk_band": pd.Series(dtype="string"), "churn_reasons": pd.Series(dtype="string")}))
    model = ensure_model(con, as_of, settings=settings)
    if model is None:
        return empty
    try:
        scored = score(con, as_of, model, settings=settings, band_rule=BandRule())
    except FeatureMismatchError:
        model = ensure_model(con, as_of, settings=settings, retrain=True)
        if model is None:
            return empty
        scored = score(con, as_of, model, settings=settings, band_rule=BandRule())
    frame = scored.loc[:, ["churn_risk", "risk_band", "churn_reasons"]].reset_index()
    frame["churn_risk"] = frame["churn_risk"].astype("float64")
    frame["customer_id"] = frame["customer_id"].astype(str)
    return ibis.memtable(frame)


#: The churn columns of the per-customer snapshot.
SNAPSHOT_PART = SnapshotPart("churn", SNAPSHOT_COLUMNS[1:], churn_part)
