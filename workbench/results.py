"""Shared shape of analysis results: frozen values with a status, a message and figures.

Results never hold live Ibis expressions or connections, so they pickle and can be compared.
"""

from __future__ import annotations

import enum
import html

import pandas as pd

__all__ = ["Readable", "ResultMixin", "Status"]


class Status(enum.StrEnum):
    """Outcome of an analysis; data conditions are outcomes, not exceptions."""

    OK = "ok"
    NO_DATA = "no_data"
    EMPTY_PERIOD = "empty_period"
    TOO_LITTLE_DATA = "too_little_data"


class Readable:
    """A result whose takeaway is written when read: :attr:`message` in its own language.

    Results hold numbers and statuses; :meth:`message_in` words them in English or Korean,
    so the same result reads in either language and its sentence never disagrees with its
    numbers.
    """

    language: str

    def message_in(self, language: str | None = None) -> str:  # pragma: no cover - abstract
        """Return the takeaway in ``language`` (``en`` or ``ko``; default: the result's)."""
        raise NotImplementedError

    @property
    def message(self) -> str:
        """The takeaway in the result's language (:meth:`message_in` for another one)."""
        return self.message_in(self.language)


class ResultMixin:
    """``_repr_html_`` from ``to_frame()`` and ``message`` for results shown in notebooks."""

    status: Status
    message: str

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every result overrides it
        """Return the result as a tidy DataFrame."""
        raise NotImplementedError

    @property
    def ok(self) -> bool:
        """True when the analysis ran on enough data."""
        return self.status == Status.OK

    def _repr_html_(self) -> str:
        banner = f"<p class='wb-message'>{html.escape(self.message)}</p>" if self.message else ""
        if not self.ok:
            return banner
        return banner + self.to_frame().to_html(index=False, border=0)
