"""An audience: a definition evaluated against a store as of a date.

:class:`Audience` compiles its definition once per call (cheap) and lets the backend do the
work: :meth:`Audience.count` is one ``SELECT count(*)``; :meth:`Audience.members` returns a
masked page of members; :meth:`Audience.to_sql` shows the SQL the backend runs;
:meth:`Audience.result` gathers the count, a masked preview, the SQL and the notes for a page
or a report (:class:`AudienceResult`); :meth:`Audience.size_history` counts the audience at
each of the last weeks' Mondays; :func:`overlap` counts the members two or more audiences
share.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from workbench.audience.compile import count_members, member_table
from workbench.audience.context import CompileContext, Note
from workbench.audience.rules import AudienceDefinition, Group
from workbench.dates import cutoff, monday, week_starts
from workbench.errors import ParameterError
from workbench.i18n import format_number, get_language, tr
from workbench.privacy import mask_frame
from workbench.results import ResultMixin, Status
from workbench.settings import Settings, load_settings

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

__all__ = ["MEMBER_COLUMNS", "PREVIEW_ROWS", "Audience", "AudienceResult", "overlap"]

#: Columns of :meth:`Audience.members` (personal data masked unless ``masked=False``).
MEMBER_COLUMNS = ("customer_id", "name", "phone", "email", "region", "is_member", "signup_at")
#: Members shown in a preview (:meth:`Audience.result`).
PREVIEW_ROWS = 20


@dataclass(frozen=True, slots=True)
class AudienceResult(ResultMixin):
    """An audience counted as of a date: the number, a masked preview, the SQL, notes.

    Parameters
    ----------
    name
        The definition's name.
    as_of
        The cut-off day or instant.
    count
        Customers in the audience.
    members
        The first members by ``customer_id`` (:data:`MEMBER_COLUMNS`, personal data masked).
    sql
        The SQL the backend runs for the members.
    notes
        What people should know about the answer (a column from an older snapshot).
    language
        The language :attr:`message` and the notes are shown in (``None``: the active one).
    status
        Always ``OK``: an empty audience is an answer, not a data problem.
    """

    name: str
    as_of: date | datetime
    count: int
    members: pd.DataFrame
    sql: str
    notes: tuple[Note, ...] = ()
    language: str | None = None
    status: Status = Status.OK

    @property
    def message(self) -> str:
        """The headline: how many customers, in :attr:`language`."""
        return tr("audience.count", language=self.language,
                  count=format_number(self.count, language=self.language))

    def notes_text(self) -> str:
        """Return the notes as one paragraph in :attr:`language` (empty without notes)."""
        return " ".join(note.message(self.language) for note in self.notes)

    def to_frame(self) -> pd.DataFrame:
        """Return the masked preview of members."""
        return self.members.copy()

    def headline(self) -> list[dict[str, Any]]:
        """Return the count as a report tile (``metric``, ``label``, ``value``, no change)."""
        return [{"metric": f"audience.{self.name}", "label": self.name,
                 "value": format_number(self.count, language=self.language), "change": "",
                 "change_pct": float("nan"), "direction": "flat"}]


class Audience:
    """A definition (or bare rules) evaluated against a store as of a date.

    Parameters
    ----------
    definition
        An :class:`~workbench.audience.rules.AudienceDefinition` or a
        :class:`~workbench.audience.rules.Group` of conditions.
    con
        An Ibis connection to the store (:func:`workbench.data.connect`).
    as_of
        A date (cut-off at local midnight) or a datetime (cut-off at that instant).
    settings
        Settings (time zone); default: ``workbench.toml``.
    cache
        A dict kept between audiences (a form passes the same one on every change): the
        members of conditions that scan orders or events are kept there, so a recount after
        one change rescans only the changed condition. ``None``: no cache.
    """

    def __init__(self, definition: AudienceDefinition | Group, con: BaseBackend, *,
                 as_of: date | datetime, settings: Settings | None = None,
                 cache: dict | None = None) -> None:
        if isinstance(definition, Group):
            definition = AudienceDefinition("unsaved", rules=definition)
        if not isinstance(definition, AudienceDefinition):
            raise ParameterError(tr("audience.error.audience_type",
                                    got=type(definition).__name__))
        self.definition = definition
        self.con = con
        self.settings = settings or load_settings()
        cutoff(as_of, self.settings.timezone)  # validates as_of
        self.as_of = as_of
        self.cache = cache
        self._notes: list[Note] = []

    @property
    def name(self) -> str:
        """The definition's name."""
        return self.definition.name

    @property
    def notes(self) -> list[str]:
        """Notes of the last count or member list, in the active language."""
        return [note.message() for note in self._notes]

    def context(self, as_of: date | datetime | None = None) -> CompileContext:
        """Return a compile context for ``as_of`` (default: the audience's)."""
        return CompileContext(self.con, self.settings, self.as_of if as_of is None else as_of,
                              cache=self.cache)

    def table(self, as_of: date | datetime | None = None) -> ir.Table:
        """Return the members' customer rows as a lazy Ibis table."""
        ctx = self.context(as_of)
        expr = member_table(ctx, self.definition)
        self._notes = ctx.notes
        return expr

    def ids(self, as_of: date | datetime | None = None) -> ir.Table:
        """Return the members' ``customer_id`` as a lazy one-column table."""
        return self.table(as_of).select("customer_id")

    def count(self) -> int:
        """Return the number of customers in the audience.

        With a cache, conditions are counted as boolean masks kept between calls
        (:func:`~workbench.audience.compile.count_members`); without one, as one SQL query.
        """
        if self.cache is not None:
            ctx = self.context()
            n = count_members(ctx, self.definition)
            self._notes = ctx.notes
            return n
        return int(self.table().count().execute())

    def members(self, *, limit: int | None = 100, masked: bool = True,
                columns: tuple[str, ...] = MEMBER_COLUMNS) -> pd.DataFrame:
        """Return members ordered by ``customer_id``; personal data masked by default.

        Parameters
        ----------
        limit
            At most this many rows (``None``: all).
        masked
            Mask names, phones and emails (:func:`workbench.privacy.mask_frame`). Unmasked
            lists are for exports, which are logged (:func:`workbench.audience.export_audience`).
        columns
            Customer columns to return.
        """
        t = self.table()
        missing = sorted(set(columns) - set(t.columns))
        if missing:
            raise ParameterError(tr("audience.error.member_columns", missing=missing,
                                    columns=list(t.columns)))
        t = t.select(*columns).order_by("customer_id")
        if limit is not None:
            t = t.limit(int(limit))
        frame = t.to_pandas()
        return mask_frame(frame) if masked else frame

    def result(self, *, preview: int = PREVIEW_ROWS) -> AudienceResult:
        """Return the count, the first ``preview`` members (masked), the SQL and the notes.

        The result is shown in the language active now (a page's, while it computes).
        """
        count = self.count()
        notes = tuple(self._notes)
        return AudienceResult(self.name, self.as_of, count, self.members(limit=preview),
                              self.to_sql(), notes, language=get_language())

    def to_sql(self, *, count: bool = False) -> str:
        """Return the SQL the backend runs for the members (or for the count)."""
        t = self.ids()
        expr = t.count() if count else t
        return str(ibis.to_sql(expr))

    def size_history(self, weeks: int = 12) -> pd.DataFrame:
        """Return the audience size at the Monday of each of the last ``weeks`` weeks.

        Returns
        -------
        pandas.DataFrame
            ``as_of`` (the Mondays up to the audience's own week, oldest first) and
            ``customers``.
        """
        if not 1 <= int(weeks) <= 104:
            raise ParameterError(tr("audience.error.history_weeks", got=repr(weeks)))
        day = (cutoff(self.as_of, self.settings.timezone).date()
               if isinstance(self.as_of, datetime) else self.as_of)
        days = [*week_starts(day, int(weeks) - 1), monday(day)]
        counts = _counts({f"w{i}": self.ids(d) for i, d in enumerate(days)})
        return pd.DataFrame({"as_of": days,
                             "customers": [counts[f"w{i}"] for i in range(len(days))]})

    def __repr__(self) -> str:
        return f"Audience({self.name!r}, as_of={self.as_of!s})"


def _counts(tables: dict[str, ir.Table]) -> dict[str, int]:
    """Count several tables in one query (a UNION ALL of labelled counts)."""
    parts = [t.aggregate(n=t.count()).mutate(key=ibis.literal(k)) for k, t in tables.items()]
    frame = ibis.union(*parts, distinct=False).to_pandas() if len(parts) > 1 else (
        parts[0].to_pandas())
    return {str(k): int(n) for k, n in zip(frame["key"], frame["n"], strict=True)}


def overlap(*audiences: Audience) -> pd.DataFrame:
    """Return how many members each pair of audiences shares, and all of them together.

    Returns
    -------
    pandas.DataFrame
        One row per pair (``a``, ``b``, ``a_count``, ``b_count``, ``both``, ``share_of_a``,
        ``share_of_b``) and, for three or more audiences, a last row ``a = "all"`` with the
        members common to every audience in ``both``.

    Raises
    ------
    ParameterError
        Fewer than two audiences, or audiences on different stores.
    """
    if len(audiences) < 2:
        raise ParameterError(tr("audience.error.overlap_few", count=len(audiences)))
    con = audiences[0].con
    if any(a.con is not con for a in audiences):
        raise ParameterError(tr("audience.error.overlap_stores"))
    ids = [a.ids() for a in audiences]
    tables: dict[str, ir.Table] = {f"n{i}": t for i, t in enumerate(ids)}
    pairs = list(itertools.combinations(range(len(ids)), 2))
    for i, j in pairs:
        tables[f"p{i}_{j}"] = ids[i].intersect(ids[j])
    if len(ids) > 2:
        tables["all"] = ibis.intersect(*ids)
    row = _counts(tables)
    rows = []
    for i, j in pairs:
        a, b, both = int(row[f"n{i}"]), int(row[f"n{j}"]), int(row[f"p{i}_{j}"])
        rows.append({"a": audiences[i].name, "b": audiences[j].name, "a_count": a,
                     "b_count": b, "both": both, "share_of_a": both / a if a else 0.0,
                     "share_of_b": both / b if b else 0.0})
    if len(ids) > 2:
        rows.append({"a": "all", "b": "all", "a_count": None, "b_count": None,
                     "both": int(row["all"]), "share_of_a": None, "share_of_b": None})
    return pd.DataFrame(rows)
