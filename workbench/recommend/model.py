"""Two next-product recommenders on customer-by-product purchase matrices.

Both take the matrix built by :func:`purchase_matrix` (customers x products, each cell the
number of net orders holding the product, weighted down by the time since the last one) and
score every product for every customer; :mod:`workbench.recommend.rank` turns scores into
recommendations under the shop's rules.

- :class:`CoPurchase`, item-to-item: product *j* scores ``sum_i w_ui sim(i, j)``, where
  ``sim(i, j) = c_ij / ((n_i + s)^a (n_j + s)^(1 - a))`` is the asymmetric cosine of [2]
  (``a = 1``: the conditional probability P(j | i) of [1], section 4.1) with ``c_ij`` the
  customers who bought both, ``n_i`` the buyers of *i* and ``s`` a shrinkage that keeps rarely
  bought pairs from scoring high. The diagonal is the product's repeat rate (buyers of *i* who
  bought it in two or more orders, shrunk the same way), so a product people re-order scores
  for its own buyers as a co-purchased one does.
- :class:`Factors`, PureSVD [3]: a truncated SVD ``W ~ U S V'`` of the weighted matrix and
  scores ``W V V'`` (the customer's row projected on the product factors).

References
----------
.. [1] Deshpande, M. & Karypis, G. (2004). Item-based top-N recommendation algorithms. ACM
   Transactions on Information Systems 22(1), 143-177.
.. [2] Aiolli, F. (2013). Efficient top-N recommendation for very large scale binary rated
   datasets. RecSys '13, 273-280.
.. [3] Cremonesi, P., Koren, Y. & Turrin, R. (2010). Performance of recommender algorithms on
   top-N recommendation tasks. RecSys '10, 39-46.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.decomposition import TruncatedSVD

from workbench.errors import NotFittedError, ParameterError

__all__ = ["CoPurchase", "Factors", "PurchaseMatrix", "purchase_matrix"]


@dataclass(frozen=True, slots=True)
class PurchaseMatrix:
    """Customers x products: weighted purchases, order counts and days since the last one."""

    customers: pd.Index
    products: pd.Index
    weight: sp.csr_matrix
    orders: sp.csr_matrix
    days_since: sp.csr_matrix


def purchase_matrix(history: pd.DataFrame, products: pd.Index, *,
                    half_life_days: float = 180.0) -> PurchaseMatrix:
    """Return the purchase matrix of :func:`~workbench.recommend.history.purchase_history`.

    A cell's weight is ``log(1 + orders) * 0.5 ** (days_since / half_life_days)``: repeated
    purchases count less than linearly, and old ones fade (a customer's taste moves on).
    Products not in ``products`` are dropped.

    Examples
    --------
    >>> h = pd.DataFrame({"customer_id": ["a", "a", "b"], "product_id": ["x", "y", "x"],
    ...                   "orders": [1, 3, 1], "days_since": [0, 180, 10]})
    >>> m = purchase_matrix(h, pd.Index(["x", "y"]))
    >>> m.weight.toarray().round(3).tolist()
    [[0.693, 0.693], [0.667, 0.0]]
    """
    if half_life_days <= 0:
        raise ParameterError(f"purchase_matrix: 'half_life_days' must be > 0; got "
                             f"{half_life_days!r}.")
    cols = pd.Categorical(history["product_id"], categories=products).codes
    history = history[cols >= 0]
    cols = cols[cols >= 0]
    rows, uniques = pd.factorize(history["customer_id"], sort=True)
    customers = pd.Index(uniques, name="customer_id")
    # One (customer, product) per row: sort once and share the CSR structure of the three
    # matrices instead of letting scipy sort and sum duplicates three times.
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order].astype(np.int32)
    orders = history["orders"].to_numpy(dtype=float)[order]
    days = history["days_since"].to_numpy(dtype=float)[order]
    weight = np.log1p(orders) * 0.5 ** (days / half_life_days)
    shape = (len(customers), len(products))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))])

    def matrix(values: np.ndarray) -> sp.csr_matrix:
        return sp.csr_matrix((values, cols, indptr), shape=shape)

    # days_since + 1 keeps a purchase made on the last day distinct from "never" (0).
    return PurchaseMatrix(customers, products, matrix(weight), matrix(orders),
                          matrix(days + 1.0))


class CoPurchase(BaseEstimator):
    """Item-to-item recommender on co-purchases (asymmetric cosine with shrinkage).

    Parameters
    ----------
    shrinkage
        ``s`` in the module's formula: added to each product's buyer count.
    alpha
        ``a``: 1 gives P(j | i), 0.5 the cosine.
    repeat_weight
        Multiplies the diagonal (re-buying a product against buying a co-purchased one).
    """

    def __init__(self, *, shrinkage: float = 20.0, alpha: float = 0.5,
                 repeat_weight: float = 10.0) -> None:
        self.shrinkage = shrinkage
        self.alpha = alpha
        self.repeat_weight = repeat_weight

    def fit(self, matrix: PurchaseMatrix) -> CoPurchase:
        """Learn the product-by-product similarities from ``matrix``."""
        if not 0 <= self.alpha <= 1 or self.shrinkage < 0:
            raise ParameterError(f"CoPurchase: 'alpha' must be in [0, 1] and 'shrinkage' >= 0; "
                                 f"got alpha={self.alpha!r}, shrinkage={self.shrinkage!r}.")
        bought = (matrix.orders > 0).astype(np.float64)
        co = (bought.T @ bought).toarray()
        n = np.diag(co).copy()
        repeat = np.asarray((matrix.orders >= 2).sum(axis=0), dtype=float).ravel()
        np.fill_diagonal(co, self.repeat_weight * repeat)
        n_s = n + self.shrinkage
        n_s[n_s == 0] = 1.0
        self.similarity_ = co / (n_s[:, None] ** self.alpha * n_s[None, :] ** (1 - self.alpha))
        return self

    def score(self, weight: sp.csr_matrix) -> np.ndarray:
        """Return the scores (customers x products) of the customers in ``weight``."""
        if not hasattr(self, "similarity_"):
            raise NotFittedError("CoPurchase: call fit() before score().")
        return np.asarray(weight @ self.similarity_)


class Factors(BaseEstimator):
    """PureSVD recommender: scores from a truncated SVD of the purchase matrix ([3]).

    Parameters
    ----------
    n_components
        Latent factors (capped below the number of products and customers).
    random_state
        Seed of the randomized SVD.
    """

    def __init__(self, *, n_components: int = 24, random_state: int = 0) -> None:
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, matrix: PurchaseMatrix) -> Factors:
        """Learn the product factors ``V`` from ``matrix``."""
        k = min(self.n_components, min(matrix.weight.shape) - 1)
        if k < 1:
            raise ParameterError(f"Factors: need at least two customers and two products; "
                                 f"got shape {matrix.weight.shape}.")
        svd = TruncatedSVD(n_components=k, algorithm="randomized",
                           random_state=self.random_state)
        svd.fit(matrix.weight)
        self.components_ = svd.components_
        return self

    def score(self, weight: sp.csr_matrix) -> np.ndarray:
        """Return the scores (customers x products) of the customers in ``weight``."""
        if not hasattr(self, "components_"):
            raise NotFittedError("Factors: call fit() before score().")
        return np.asarray((weight @ self.components_.T) @ self.components_)
