"""Parameters of the audience builder (``notebooks/audience_builder.ipynb``)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.params import NotebookParams, param

__all__ = ["AudienceParams"]


@dataclass(frozen=True, slots=True)
class AudienceParams(NotebookParams):
    """Parameters of the audience builder (``notebooks/audience_builder.ipynb``).

    Parameters
    ----------
    start
        What the form starts from: a recipe name, a saved audience's name, or empty (scratch).
    audiences_dir
        Folder of saved audiences (empty: ``audiences/`` next to the store).
    """

    start: str = param("")
    audiences_dir: str = param("")
