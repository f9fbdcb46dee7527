"""Implicit-feedback ALS (Hu, Koren & Volinsky 2008) through the ``implicit`` library.

An optional third method for :func:`~workbench.recommend.evaluate.evaluate_recommender`
(``pip install workbench[recommend]``; the wheel needs no compiler). The weighted purchase
matrix is the confidence ``C = 1 + alpha W`` of [1]; customers are folded in with the library's
``recalculate_user`` (one least-squares step against the item factors), so any rows can be
scored.

References
----------
.. [1] Hu, Y., Koren, Y. & Volinsky, C. (2008). Collaborative filtering for implicit feedback
   datasets. ICDM '08, 263-272.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from implicit.als import AlternatingLeastSquares
from sklearn.base import BaseEstimator
from threadpoolctl import threadpool_limits

from workbench.errors import NotFittedError
from workbench.recommend.model import PurchaseMatrix

__all__ = ["ALS"]


class ALS(BaseEstimator):
    """Implicit-feedback matrix factorisation ([1]) scoring every product for each customer.

    Parameters
    ----------
    factors, regularization, iterations
        As in :class:`implicit.als.AlternatingLeastSquares`.
    alpha
        Confidence per unit of purchase weight.
    random_state
        Seed.
    """

    def __init__(self, *, factors: int = 32, regularization: float = 0.05,
                 iterations: int = 15, alpha: float = 20.0, random_state: int = 0) -> None:
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.alpha = alpha
        self.random_state = random_state

    def fit(self, matrix: PurchaseMatrix) -> ALS:
        """Learn customer and product factors from ``matrix``."""
        # The library asks for one BLAS thread: it parallelises over customers itself.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.factors, regularization=self.regularization,
                iterations=self.iterations, alpha=self.alpha, random_state=self.random_state)
            model.fit(sp.csr_matrix(matrix.weight), show_progress=False)
        self.model_ = model
        return self

    def score(self, weight: sp.csr_matrix) -> np.ndarray:
        """Return the scores (customers x products) of the customers in ``weight``."""
        if not hasattr(self, "model_"):
            raise NotFittedError("ALS: call fit() before score().")
        n, p = weight.shape
        with threadpool_limits(1, "blas"):
            ids, values = self.model_.recommend(
                np.arange(n), sp.csr_matrix(weight), N=p, recalculate_user=True,
                filter_already_liked_items=False)
        out = np.zeros((n, p))
        np.put_along_axis(out, ids, values, axis=1)
        return out
