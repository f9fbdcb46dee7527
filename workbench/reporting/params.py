"""The registry of notebooks: which parameter dataclass each report notebook takes.

Each analysis owns its parameters (``OverviewParams`` in :mod:`workbench.kpi.params`,
``RfmParams`` in :mod:`workbench.rfm.params` ...), declared with :func:`workbench.params.param`.
The registry names them by module so that importing it imports no analysis: a dashboard
kernel pays only for the page it shows (importing every analysis costs about 1.5 s there).
"""

from __future__ import annotations

import importlib

from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.params import NotebookParams

__all__ = ["NOTEBOOK_PARAMS", "params_for"]

#: Notebook name -> (module, class) of its parameters.
NOTEBOOK_PARAMS: dict[str, tuple[str, str]] = {
    "overview": ("workbench.kpi.params", "OverviewParams"),
    "rfm": ("workbench.rfm.params", "RfmParams"),
    "cohorts": ("workbench.rfm.params", "CohortParams"),
    "products": ("workbench.kpi.products", "ProductsParams"),
    "clv": ("workbench.clv.analysis", "ClvParams"),
    "churn": ("workbench.churn.analysis", "ChurnParams"),
    "abtest": ("workbench.abtest.analysis", "AbTestParams"),
    "campaigns": ("workbench.abtest.impact", "CampaignsParams"),
    "audience_builder": ("workbench.audience.params", "AudienceParams"),
}


def params_for(notebook: str) -> type[NotebookParams]:
    """Return the parameter dataclass of a notebook by its name (``overview``)."""
    try:
        module, name = NOTEBOOK_PARAMS[notebook]
    except KeyError:
        raise ParameterError(tr("report.unknown_notebook", notebook=repr(notebook),
                                known=sorted(NOTEBOOK_PARAMS))) from None
    return getattr(importlib.import_module(module), name)
