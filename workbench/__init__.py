"""workbench: CRM analytics and campaign workbench for online shops.

Subpackages are imported on first use (``wb.kpi``, ``wb.reporting``, ``wb.ui`` ...), so
``import workbench as wb`` is fast and has no side effects.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = ("abtest", "audience", "churn", "clock", "clv", "data", "dates", "errors",
               "features", "i18n", "kpi", "params", "privacy", "queries", "reporting", "results",
               "rfm", "settings", "snapshot", "stats", "ui", "viz")

__all__ = ["__version__", *_SUBMODULES]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"workbench.{name}")
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
