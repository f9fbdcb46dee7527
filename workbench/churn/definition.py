"""What "churned" means: no order in a window after the cutoff, fixed or by the customer's rhythm.

A customer *active before* a cutoff (at least one net order before it, see
:func:`workbench.features.customer_facts`) has churned at that cutoff when they place no net
order in the window that starts at the cutoff. The window is

- ``fixed``: ``horizon_days`` for everyone (default 90 days);
- ``rhythm``: ``k`` times the customer's own median gap between purchase days when they have at
  least ``min_gaps`` gaps, else ``k`` times the replenishment cycle of their top category
  (``products.replenish_days``, median per category) when it has one, else ``horizon_days``;
  clipped to ``[min_days, max_days]``.

The definition is data: it is saved with a model, printed on every chart and report
(:meth:`ChurnDefinition.describe`) and decides the labels (:mod:`workbench.churn.labels`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from workbench.errors import ParameterError
from workbench.i18n import format_number, tr

__all__ = ["MODES", "ChurnDefinition"]

MODES = ("fixed", "rhythm")


@dataclass(frozen=True, slots=True)
class ChurnDefinition:
    """The churn definition: window length after the cutoff, fixed or relative to rhythm.

    Parameters
    ----------
    horizon_days
        Window length in days (``fixed``), and the fallback of ``rhythm`` for customers with
        neither enough gaps nor a category cycle.
    mode
        ``fixed`` or ``rhythm``.
    k
        ``rhythm``: the window is ``k`` times the customer's median gap (or category cycle).
    min_gaps
        ``rhythm``: gaps between purchase days needed to trust a customer's own median gap.
    min_days, max_days
        ``rhythm``: bounds of the per-customer window in days.

    Examples
    --------
    >>> ChurnDefinition().describe("en")
    'Churned = no order in the 90 days after the cutoff.'
    >>> ChurnDefinition(mode="rhythm", k=2).window_bounds()
    (30, 180)
    """

    horizon_days: int = 90
    mode: str = "fixed"
    k: float = 2.0
    min_gaps: int = 2
    min_days: int = 30
    max_days: int = 180

    def __post_init__(self) -> None:
        if isinstance(self.horizon_days, bool) or not isinstance(self.horizon_days, int) or not (
                7 <= self.horizon_days <= 730):
            raise ParameterError(tr("churn.definition.bad_horizon", got=repr(self.horizon_days)))
        if self.mode not in MODES:
            raise ParameterError(tr("churn.definition.bad_mode", choices=list(MODES),
                                    got=repr(self.mode)))
        if not 0.5 <= float(self.k) <= 10:
            raise ParameterError(tr("churn.definition.bad_k", got=repr(self.k)))
        if int(self.min_gaps) < 1:
            raise ParameterError(tr("churn.definition.bad_gaps", got=repr(self.min_gaps)))
        if not 1 <= int(self.min_days) <= int(self.max_days) <= 730:
            raise ParameterError(tr("churn.definition.bad_bounds", min_days=repr(self.min_days),
                                    max_days=repr(self.max_days)))

    def window_bounds(self) -> tuple[int, int]:
        """Return the shortest and longest label window in days."""
        if self.mode == "fixed":
            return self.horizon_days, self.horizon_days
        return (min(int(self.min_days), self.horizon_days),
                max(int(self.max_days), self.horizon_days))

    @property
    def longest_window(self) -> int:
        """The longest label window: a cutoff's labels are known this many days later."""
        return self.window_bounds()[1]

    def describe(self, language: str = "en") -> str:
        """Return the definition in one sentence (``en`` or ``ko``), for charts and reports."""
        if self.mode == "fixed":
            return tr("churn.definition.fixed", language=language, days=self.horizon_days)
        return tr("churn.definition.rhythm", language=language,
                  k=format_number(float(self.k), digits=1, language=language),
                  gaps=int(self.min_gaps), days=self.horizon_days,
                  lo=int(self.min_days), hi=int(self.max_days))

    def to_dict(self) -> dict[str, Any]:
        """Return the definition as a plain dict (saved with a model)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChurnDefinition:
        """Build a definition from :meth:`to_dict` output."""
        return cls(**data)
