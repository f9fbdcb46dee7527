"""Names and phones of a few customers, masked, for the lists pages show.

Member lists, the churn watch list and the top customers by value all show who a customer is
without showing their personal data (:mod:`workbench.privacy`): this is the one query for it.

Examples
--------
>>> import ibis, pandas as pd
>>> con = ibis.duckdb.connect()
>>> _ = con.create_table("customers", pd.DataFrame({"customer_id": ["A", "B"],
...     "name": ["홍길동", None], "phone": ["01012345678", "01098765432"]}))
>>> masked_contacts(con, ["B", "A", "Z"]).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
[{'customer_id': 'B', 'name': None, 'phone': '010-****-5432'},
 {'customer_id': 'A', 'name': '홍*동', 'phone': '010-****-5678'},
 {'customer_id': 'Z', 'name': None, 'phone': None}]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from workbench.privacy import mask_name, mask_phone

__all__ = ["masked_contacts"]


def masked_contacts(con: Any, ids: Sequence[str]) -> pd.DataFrame:
    """Return ``customer_id``, masked ``name`` and ``phone`` for ``ids``, in their order.

    Customers missing from the store, or a store without a ``customers`` table (or without
    those columns), give ``None``.
    """
    out = pd.DataFrame({"customer_id": pd.Series(list(ids), dtype=object)})
    out["name"] = out["phone"] = None
    if not len(out) or con is None or "customers" not in con.list_tables():
        return out.astype(object)
    people = con.table("customers")
    wanted = [c for c in ("name", "phone") if c in people.columns]
    if not wanted:
        return out.astype(object)
    found = (people.filter(people.customer_id.isin(list(ids))).select("customer_id", *wanted)
             .to_pyarrow().to_pandas().drop_duplicates("customer_id").set_index("customer_id"))
    for column, mask in (("name", mask_name), ("phone", mask_phone)):
        if column in found.columns:
            values = out["customer_id"].map(found[column]).map(mask, na_action="ignore")
            out[column] = values.astype(object).where(values.notna(), None)
    return out.astype(object)
