"""The ``recommended_product`` snapshot columns: trained at ``workbench refresh``.

Each refresh fits :class:`~workbench.recommend.model.CoPurchase` (the method that beat both
baselines on the sample shop and on the Online Retail layout, see
:func:`~workbench.recommend.evaluate.evaluate_recommender`) on net orders before ``as_of`` and
writes every customer's first recommendation under the rules of
:func:`~workbench.recommend.rank.ranked`. Customers without a net order get the shop's best
seller still sold. Fitting is one product-by-product matrix product, so the model is not saved.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd

from workbench.data.snapshot import SnapshotPart
from workbench.recommend.history import catalogue, purchase_history
from workbench.recommend.model import CoPurchase, purchase_matrix
from workbench.recommend.rank import ranked
from workbench.settings import Settings

__all__ = ["PART_COLUMNS", "SNAPSHOT_PART", "recommend_part", "recommendations"]

_log = logging.getLogger(__name__)

PART_COLUMNS = ("recommended_product", "recommended_product_name")


def recommendations(con: Any, *, as_of: date, settings: Settings, k: int = 1
                    ) -> pd.DataFrame | None:
    """Return each buying customer's top ``k`` products as of ``as_of``, or ``None``.

    Returns
    -------
    pandas.DataFrame or None
        ``customer_id``, ``rank`` (1-based), ``product_id``, ``product_name``; ``None`` when
        the store has no order lines before ``as_of``.
    """
    found = _recommend(con, as_of=as_of, settings=settings, k=k)
    return None if found is None else found[0]


def _recommend(con: Any, *, as_of: date, settings: Settings, k: int
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Index] | None:
    """Return (:func:`recommendations`, the catalogue, the buying customers), or ``None``."""
    if not {"orders", "order_items"} <= set(con.list_tables()):
        return None
    history = purchase_history(con, as_of=as_of, settings=settings)
    products = catalogue(con, as_of=as_of, settings=settings, history=history)
    if products.empty or history.empty:
        return None
    matrix = purchase_matrix(history, products.index)
    top = ranked(CoPurchase().fit(matrix).score, matrix, products, k=k)
    frame = pd.DataFrame({
        "customer_id": np.repeat(matrix.customers.to_numpy(), top.shape[1]),
        "rank": np.tile(np.arange(1, top.shape[1] + 1), top.shape[0]),
        "product_id": products.index.to_numpy()[top.ravel()],
        "product_name": products["name"].to_numpy()[top.ravel()]})
    # -1: every product is excluded for the customer (all just bought): no recommendation.
    return frame[top.ravel() >= 0].reset_index(drop=True), products, matrix.customers


def recommend_part(con: Any, *, as_of: date, settings: Settings) -> Any:
    """Return the snapshot's recommendation columns for every customer, or ``None``."""
    found = _recommend(con, as_of=as_of, settings=settings, k=1)
    if found is None:
        _log.info("recommendations as of %s: no order lines before it", as_of)
        return None
    top, products, buyers = found
    frame = top.rename(columns={"product_id": "recommended_product",
                                "product_name": "recommended_product_name"})
    frame = frame[["customer_id", *PART_COLUMNS]]
    if "customers" in set(con.list_tables()):
        # No purchase yet: the shop's best seller still sold (ties: the first product id).
        best = int(np.argmax(np.where(products["still_sold"], products["buyers"], -1)))
        everyone = con.table("customers").select("customer_id").to_pandas()["customer_id"]
        rest = pd.DataFrame({"customer_id": everyone.astype(str)})
        rest = rest[~rest["customer_id"].isin(buyers)]
        rest = rest.assign(recommended_product=products.index[best],
                           recommended_product_name=products["name"].iloc[best])
        frame = pd.concat([frame, rest], ignore_index=True)
    return ibis.memtable(frame)


#: The recommendation columns of the per-customer snapshot.
SNAPSHOT_PART = SnapshotPart("recommend", PART_COLUMNS, recommend_part)
