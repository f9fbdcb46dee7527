"""Data layer: the data contract, the store, imports and the sample generator.

Public API::

    con = workbench.data.connect()            # Ibis backend on data/workbench.duckdb
    orders = con.table("orders")              # an Ibis table following the data contract
"""

from workbench.data.schema import CANONICAL_TABLES, NET_STATUSES, ORDER_STATUSES, TABLES
from workbench.data.store import connect, write_store

__all__ = [
    "CANONICAL_TABLES",
    "NET_STATUSES",
    "ORDER_STATUSES",
    "TABLES",
    "connect",
    "write_store",
]
