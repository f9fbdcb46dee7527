"""What to recommend: a next-product recommender trained on order lines (issue 19).

Customers' net purchases before ``as_of`` (:func:`purchase_history`) make a customer-by-product
matrix (:func:`purchase_matrix`); an item-to-item model (:class:`CoPurchase`) or a truncated
SVD (:class:`Factors`) scores products, and :func:`ranked` applies the shop's rules (still sold,
not just bought unless a consumable is due again, top-category best sellers for thin
histories). :func:`evaluate_recommender` checks both (and implicit's ALS,
:mod:`workbench.recommend.als`, with the optional extra ``workbench[recommend]``) against best
sellers on each customer's next order; ``workbench refresh`` writes the co-purchase model's
first product (:data:`SNAPSHOT_PART`)::

    from workbench.recommend import evaluate_recommender
    evaluate_recommender(con, as_of=date(2026, 9, 1), settings=settings)
"""

from workbench.recommend.evaluate import (
    EVALUATION_COLUMNS,
    METHODS,
    evaluate_recommender,
    ranking_quality,
)
from workbench.recommend.history import catalogue, next_orders, purchase_history
from workbench.recommend.model import CoPurchase, Factors, PurchaseMatrix, purchase_matrix
from workbench.recommend.part import PART_COLUMNS, SNAPSHOT_PART, recommend_part, recommendations
from workbench.recommend.rank import BASELINES, baseline_ranked, ranked, top_categories

__all__ = [
    "BASELINES", "EVALUATION_COLUMNS", "METHODS", "PART_COLUMNS", "SNAPSHOT_PART", "CoPurchase",
    "Factors", "PurchaseMatrix", "baseline_ranked", "catalogue", "evaluate_recommender",
    "next_orders", "purchase_history", "purchase_matrix", "ranked", "ranking_quality",
    "recommend_part", "recommendations", "top_categories",
]
