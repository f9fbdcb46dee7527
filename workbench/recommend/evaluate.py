"""Holdout check of the recommenders: each customer's next net order after a cutoff.

Every method trains on net orders before ``as_of`` and ranks products for each customer with
at least one of them; the customer's first net order on or after ``as_of`` is the truth. Hit
rate@k is the share of these customers with at least one of the ``k`` products in that order;
NDCG@k ([1]) credits a hit at rank *r* (1-based) with ``1 / log2(r + 1)``, divided by the best
possible sum for the order's number of products.

References
----------
.. [1] Jarvelin, K. & Kekalainen, J. (2002). Cumulated gain-based evaluation of IR techniques.
   ACM Transactions on Information Systems 20(4), 422-446.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from workbench.errors import ParameterError
from workbench.recommend.history import catalogue, next_orders, purchase_history
from workbench.recommend.model import CoPurchase, Factors, purchase_matrix
from workbench.recommend.rank import BASELINES, baseline_ranked, ranked
from workbench.settings import Settings

__all__ = ["EVALUATION_COLUMNS", "METHODS", "evaluate_recommender", "ranking_quality"]

try:  # the optional extra workbench[recommend]: implicit's ALS as a third method
    from workbench.recommend.als import ALS
except ImportError:  # pragma: no cover - without the extra
    ALS = None

#: The recommenders by name (estimators with default settings); ``als`` with the extra.
METHODS = {"co_purchase": CoPurchase, "factors": Factors,
           **({"als": ALS} if ALS is not None else {})}
EVALUATION_COLUMNS = ("method", "kind", "k", "customers", "hit_rate", "ndcg",
                      "train_seconds")


def ranking_quality(recommended: np.ndarray, relevant: sp.csr_matrix,
                    n_relevant: np.ndarray | None = None) -> tuple[float, float]:
    """Return (hit rate, NDCG) of ranked product positions against bought ones.

    Parameters
    ----------
    recommended
        Customers x k product positions, best first (-1: no product).
    relevant
        Customers x products, non-zero where the customer bought the product.
    n_relevant
        Products each customer bought, for the ideal DCG (default: ``relevant``'s count; more
        when some bought products could not be ranked, e.g. new ones).

    Examples
    --------
    >>> rel = sp.csr_matrix(np.array([[0, 1, 0], [1, 1, 0]]))
    >>> [round(v, 4) for v in ranking_quality(np.array([[1, 0], [2, 0]]), rel)]
    [1.0, 0.6934]
    """
    k = recommended.shape[1]
    rows = np.arange(recommended.shape[0])[:, None]
    hits = (np.asarray(relevant[rows, np.maximum(recommended, 0)].todense()) > 0) & (
        recommended >= 0)
    gains = 1.0 / np.log2(np.arange(2, k + 2))
    if n_relevant is None:
        n_relevant = np.diff(relevant.indptr)
    ideal = np.concatenate([[0.0], np.cumsum(gains)])[np.minimum(n_relevant, k)]
    dcg = hits @ gains
    ndcg = np.divide(dcg, ideal, out=np.zeros_like(dcg), where=ideal > 0)
    return float(hits.any(axis=1).mean()), float(ndcg.mean())


def evaluate_recommender(con: Any, *, as_of: date, settings: Settings,
                         methods: Sequence[str] = ("co_purchase", "factors"), k: int = 5,
                         horizon_days: int | None = None, rules: bool = True
                         ) -> pd.DataFrame:
    """Return hit rate@k and NDCG@k of each method and both baselines on the next orders.

    Parameters
    ----------
    con
        Ibis backend of the store.
    as_of
        The cutoff: orders before it train, each customer's first order from it is the truth.
    settings
        Time zone.
    methods
        Names in :data:`METHODS`.
    k
        Products recommended per customer.
    horizon_days
        Only next orders within this many days (``None``: any later order).
    rules
        Apply the "just bought" rule of :func:`~workbench.recommend.rank.ranked`.

    Returns
    -------
    pandas.DataFrame
        One row per method and baseline (:data:`EVALUATION_COLUMNS`); ``customers`` is the
        number of customers with history before ``as_of`` and a next order.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown or k < 1:
        raise ParameterError(f"evaluate_recommender: methods must be among {list(METHODS)} "
                             f"and k >= 1; got methods={list(methods)}, k={k}.")
    history = purchase_history(con, as_of=as_of, settings=settings)
    products = catalogue(con, as_of=as_of, settings=settings, history=history)
    matrix = purchase_matrix(history, products.index)
    truth = next_orders(con, as_of=as_of, settings=settings, horizon_days=horizon_days)
    truth = truth[truth["customer_id"].isin(matrix.customers)]
    keep = np.flatnonzero(matrix.customers.isin(truth["customer_id"]))
    sub = type(matrix)(matrix.customers[keep], matrix.products, matrix.weight[keep],
                       matrix.orders[keep], matrix.days_since[keep])
    cols = sub.products.get_indexer(truth["product_id"])
    known = cols >= 0
    relevant = sp.csr_matrix((np.ones(known.sum()), (
        sub.customers.get_indexer(truth["customer_id"][known]), cols[known])),
        shape=(len(sub.customers), len(sub.products)))
    # Products never sold before as_of cannot be recommended, yet they count in the ideal.
    n_relevant = np.bincount(sub.customers.get_indexer(truth["customer_id"]),
                             minlength=len(sub.customers))
    rows = []
    for name in methods:
        start = time.perf_counter()
        model = METHODS[name]().fit(matrix)
        seconds = time.perf_counter() - start
        recs = ranked(model.score, sub, products, k=k, rules=rules)
        rows.append((name, "model", seconds, recs))
    for name in BASELINES:
        rows.append((name, "baseline", 0.0,
                     baseline_ranked(name, sub, products, k=k, rules=rules)))
    return pd.DataFrame([
        (name, kind, k, len(sub.customers), *ranking_quality(recs, relevant, n_relevant), sec)
        for name, kind, sec, recs in rows], columns=list(EVALUATION_COLUMNS[:4]) + [
        "hit_rate", "ndcg", "train_seconds"])

