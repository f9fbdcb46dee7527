"""From scores to the products a marketer would put in a message, and the two baselines.

The rules, applied to every method (:func:`ranked`):

- only products still sold (a net order line in the last 90 days, see
  :func:`~workbench.recommend.history.catalogue`);
- not what the customer just bought: a consumable (``products.replenish_days``) is left out
  until ``due_share`` of its cycle has passed since the customer's last purchase (then it is
  due again and may be the best suggestion), any other product for ``recent_days``;
- thin histories: the model's scores are blended with the best sellers of the customer's top
  category (most weight in the purchase matrix), the fewer purchases the more (see
  :func:`ranked`); the shop's best sellers fill what is left.

The baselines (:func:`baseline_ranked`) are what a shop does without a model, under the same
rules, so a comparison measures the model and not the rules: ``best_sellers`` (most buyers in
the last 90 days) and ``category_best_sellers`` (those of the customer's top category first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from workbench.recommend.model import PurchaseMatrix

__all__ = ["BASELINES", "baseline_ranked", "ranked", "top_categories"]

BASELINES = ("best_sellers", "category_best_sellers")
_CHUNK = 20_000
#: Purchases at which a customer's own model scores and the top-category prior weigh the same.
PRIOR_ORDERS = 8.0


def _codes(catalogue: pd.DataFrame, products: pd.Index) -> tuple[np.ndarray, int]:
    category = catalogue["category"].reindex(products).fillna("")
    codes, names = pd.factorize(category)
    return codes, len(names)


def top_categories(matrix: PurchaseMatrix, catalogue: pd.DataFrame) -> np.ndarray:
    """Return each customer's top category (code of :func:`pandas.factorize` on products)."""
    codes, n = _codes(catalogue, matrix.products)
    onehot = np.zeros((len(codes), n))
    onehot[np.arange(len(codes)), codes] = 1.0
    return np.asarray(matrix.weight @ onehot).argmax(axis=1)


def _popularity(catalogue: pd.DataFrame, products: pd.Index, codes: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return per product: still sold, popularity rank in [0, 1), share of the category's top.

    The rank breaks ties by product order and stays below one, the share (buyers over the
    category's most bought product's buyers) is the category prior of :func:`ranked`.
    """
    buyers = catalogue["buyers"].reindex(products).fillna(0).to_numpy(dtype=float)
    sold = catalogue["still_sold"].reindex(products).fillna(False).to_numpy(dtype=bool)
    if not sold.any():  # no sale in the window at all: every product counts as sold
        sold = np.ones_like(sold)
    order = np.lexsort((-np.arange(len(buyers)), buyers))
    pop = np.empty(len(buyers))
    pop[order] = np.arange(len(buyers)) / max(len(buyers), 1)
    top = np.zeros(codes.max() + 1 if len(codes) else 0)
    np.maximum.at(top, codes, buyers)
    share = np.divide(buyers, top[codes], out=np.zeros_like(buyers), where=top[codes] > 0)
    return sold, pop, share


def _eligible(sold: np.ndarray, days_since: Any, wait: np.ndarray | None) -> np.ndarray:
    """Products a customer may be offered (customers x products): the module's rules."""
    eligible = np.broadcast_to(sold, days_since.shape).copy()
    if wait is not None:
        days = days_since.toarray() - 1.0  # -1: never bought
        eligible &= ~((days >= 0) & (days < wait[None, :]))
    return eligible


def _waits(catalogue: pd.DataFrame, products: pd.Index, recent_days: int, due_share: float,
           rules: bool) -> np.ndarray | None:
    if not rules:
        return None
    replenish = catalogue["replenish_days"].reindex(products).to_numpy(dtype=float)
    return np.where(np.isnan(replenish), recent_days, due_share * np.nan_to_num(replenish))


def _top(final: np.ndarray, k: int) -> np.ndarray:
    """Return the positions of the ``k`` largest values per row, -1 for excluded (-inf) ones."""
    if k == 1:  # the snapshot's case: a third of the time of a partition and a sort
        top = final.argmax(axis=1)[:, None]
    else:
        k = min(k, final.shape[1])
        part = np.argpartition(-final, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(final, part, axis=1), axis=1, kind="stable")
        top = np.take_along_axis(part, order, axis=1)
    return np.where(np.isneginf(np.take_along_axis(final, top, axis=1)), -1, top)


def ranked(scores_of: Callable[[Any], np.ndarray], matrix: PurchaseMatrix,
           catalogue: pd.DataFrame, *, k: int = 5, recent_days: int = 90,
           due_share: float = 0.8, prior_orders: float = PRIOR_ORDERS, rules: bool = True
           ) -> np.ndarray:
    """Return the top ``k`` product positions (customers x k) under the module's rules.

    A customer with fewer than ``k`` products allowed gets -1 in the remaining places.

    The model's scores (scaled to a maximum of one per customer) are blended with the
    category prior (a product's buyers over its category's best seller's, in the customer's
    top category; zero elsewhere) with weights ``n / (n + prior_orders)`` and
    ``prior_orders / (n + prior_orders)``, ``n`` the customer's purchases: a thin history
    leans on the top category's best sellers, a long one on the model. The shop's best sellers
    break ties.

    Parameters
    ----------
    scores_of
        ``scores_of(weight_rows)``: a fitted model's ``score`` method.
    matrix
        The purchase matrix of the customers to rank.
    catalogue
        :func:`~workbench.recommend.history.catalogue`.
    prior_orders
        Purchases at which the model and the category prior weigh the same.
    rules
        ``False`` skips the "just bought" rule (for measuring what it costs or gains).
    """
    codes, _ = _codes(catalogue, matrix.products)
    sold, pop, share = _popularity(catalogue, matrix.products, codes)
    wait = _waits(catalogue, matrix.products, recent_days, due_share, rules)
    top_cat = top_categories(matrix, catalogue)
    n = np.asarray(matrix.orders.sum(axis=1), dtype=float).ravel()
    out = []
    for start in range(0, len(matrix.customers), _CHUNK):
        rows = slice(start, start + _CHUNK)
        scores = scores_of(matrix.weight[rows])
        eligible = _eligible(sold, matrix.days_since[rows], wait)
        best = np.where(eligible, scores, 0.0).max(axis=1, keepdims=True)
        best[best <= 0] = 1.0
        lam = (n[rows] / (n[rows] + prior_orders))[:, None]
        prior = np.where(codes[None, :] == top_cat[rows, None], share[None, :], 0.0)
        final = lam * np.clip(scores / best, 0, None) + (1 - lam) * prior + 1e-3 * pop
        out.append(_top(np.where(eligible, final, -np.inf), k))
    return np.vstack(out) if out else np.empty((0, k), dtype=np.int64)


def baseline_ranked(name: str, matrix: PurchaseMatrix, catalogue: pd.DataFrame, *,
                    k: int = 5, recent_days: int = 90, due_share: float = 0.8,
                    rules: bool = True) -> np.ndarray:
    """Return a baseline's top ``k`` product positions (customers x k), under the same rules."""
    codes, _ = _codes(catalogue, matrix.products)
    sold, pop, _share = _popularity(catalogue, matrix.products, codes)
    wait = _waits(catalogue, matrix.products, recent_days, due_share, rules)
    top_cat = top_categories(matrix, catalogue)
    out = []
    for start in range(0, len(matrix.customers), _CHUNK):
        rows = slice(start, start + _CHUNK)
        eligible = _eligible(sold, matrix.days_since[rows], wait)
        final = np.broadcast_to(pop, eligible.shape)
        if name == "category_best_sellers":
            final = final + (codes[None, :] == top_cat[rows, None])
        out.append(_top(np.where(eligible, final, -np.inf), k))
    return np.vstack(out) if out else np.empty((0, k), dtype=np.int64)
