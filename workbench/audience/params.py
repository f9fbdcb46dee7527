"""Parameters of the audience builder (``notebooks/audience_builder.ipynb``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from workbench.errors import ParameterError
from workbench.i18n import tr
from workbench.params import NotebookParams, param

__all__ = ["AudienceParams"]

_HH_MM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True, slots=True)
class AudienceParams(NotebookParams):
    """Parameters of the audience builder (``notebooks/audience_builder.ipynb``).

    Parameters
    ----------
    start
        What the form starts from: a recipe name, a saved audience's name, or empty (scratch).
    audiences_dir
        Folder of saved audiences (empty: ``audiences/`` next to the store).
    as_of_time
        The cut-off's local time on ``as_of``, ``"HH:MM"`` (``"14:00"``: an order at 13:59
        counts, one at 14:00 does not), as ``--as-of "YYYY-MM-DD HH:MM"`` does; empty: the
        start of the day.

    Examples
    --------
    >>> AudienceParams(as_of="2026-11-16", as_of_time="14:00").moment()
    datetime.datetime(2026, 11, 16, 14, 0)
    >>> AudienceParams(as_of="2026-11-16").moment()
    datetime.date(2026, 11, 16)
    """

    start: str = param("")
    audiences_dir: str = param("")
    as_of_time: str = param("")

    def check(self) -> None:
        """Check that ``as_of_time`` is empty or a time of day ``HH:MM``."""
        text = self.as_of_time.strip()
        if text and not _HH_MM.match(text):
            raise ParameterError(tr("audience.ui.bad_as_of_time", owner="AudienceParams",
                                    got=repr(self.as_of_time)))
        object.__setattr__(self, "as_of_time", text)

    def moment(self) -> date | datetime | None:
        """Return the cut-off: ``as_of`` at ``as_of_time`` (local, naive), else ``as_of``."""
        if self.as_of is None or not self.as_of_time:
            return self.as_of
        return datetime.combine(self.as_of, time.fromisoformat(self.as_of_time))
