"""Notebook parameters declared once: each field with its type, range or choices.

Every analysis owns a frozen ``*Params`` dataclass (``OverviewParams`` in ``workbench.kpi``,
``RfmParams`` in ``workbench.rfm`` ...) deriving from :class:`NotebookParams`. Its fields are
declared with :func:`param`, which records the rule; :meth:`NotebookParams.__post_init__`
checks every rule in one place, with messages in English and Korean, and turns text from forms
(``"30"``) into the declared type. Checks that involve several fields go in ``check()``.
The notebook's ``parameters`` cell holds the same names as annotated primitives; papermill
``-p`` flags, the report runner and the dashboard forms all build these objects, and a test
checks that each notebook's parameters equal its dataclass's fields.

Examples
--------
>>> from dataclasses import dataclass
>>> @dataclass(frozen=True, slots=True)
... class DemoParams(NotebookParams):
...     bins: int = param(5, low=2, high=10)
...     method: str = param("quantile", choices=("quantile", "threshold"))
>>> DemoParams(bins="7").bins
7
>>> DemoParams(method="quantil")
Traceback (most recent call last):
...
workbench.errors.ParameterError: DemoParams: 'method' must be one of ['quantile', ...
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from workbench.errors import ParameterError
from workbench.i18n import tr, using_language

__all__ = ["LANGUAGES", "MODES", "PERIODS", "NotebookParams", "Rule", "param"]

PERIODS = ("W", "M")
MODES = ("auto", "interactive", "dashboard", "report")
LANGUAGES = ("en", "ko")


@dataclass(frozen=True, slots=True)
class Rule:
    """What a parameter accepts: its type, an inclusive range or a list of choices.

    ``gap`` is an open interval inside the range that is refused (``holdout_weeks``: 0, or 4
    to 104).
    """

    kind: type | None = None
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None
    gap: tuple[float, float] | None = None
    optional: bool = False


def param(default: Any, *, low: float | None = None, high: float | None = None,
          choices: tuple[Any, ...] | None = None, kind: type | None = None,
          gap: tuple[float, float] | None = None, optional: bool = False) -> Any:
    """Declare a parameter with its default and rule (a dataclass field).

    Parameters
    ----------
    default
        The default value; its type is the parameter's unless ``kind`` says otherwise.
    low, high
        Inclusive bounds of a number.
    choices
        The values allowed.
    kind
        ``int``, ``float``, ``bool`` or ``str`` (default: the default's type).
    gap
        Values strictly between these two are refused.
    optional
        ``None`` is allowed.
    """
    rule = Rule(kind or type(default), low, high, tuple(choices) if choices else None, gap,
                optional)
    return field(default=default, metadata={"rule": rule})


def _coerce(value: Any, kind: type | None) -> Any:
    """Return ``value`` as ``kind`` (text from forms and papermill), or raise ``ValueError``."""
    if kind is None or isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    if kind is bool:
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no", ""):
            return False
        raise ValueError(value)
    if kind is int:
        if isinstance(value, bool):
            raise ValueError(value)
        number = float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
        if not number.is_integer():
            raise ValueError(value)
        return int(number)
    if kind is float:
        if isinstance(value, bool):
            raise ValueError(value)
        return float(str(value).replace(",", "")) if isinstance(value, str) else float(value)
    if kind is str:
        raise ValueError(value)  # text fields take text: a number is a mistake, not a name
    return value


def _as_date(name: str, value: Any, owner: str) -> date | None:
    if value is None or value == "" or isinstance(value, date):
        return value or None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(tr("params.date", owner=owner, name=name, got=repr(value))) from None


@dataclass(frozen=True, slots=True)
class NotebookParams:
    """Parameters every notebook takes.

    Parameters
    ----------
    as_of
        Facts use events strictly before this date (shop's time zone). ``None``: the start of
        the current week, decided by the caller (the library never reads the clock).
    store
        DuckDB file or Ibis URL; ``None`` means the ``store`` setting.
    language
        ``en`` or ``ko``; ``None`` means the ``language`` setting.
    mode
        ``auto`` (detect), ``interactive`` (JupyterLab), ``dashboard`` (Voila) or ``report``
        (papermill: static charts, no widgets).
    """

    as_of: date | None = None
    store: str | None = None
    language: str | None = None
    mode: str = param("auto", choices=MODES)

    def __post_init__(self) -> None:
        # A notebook run with language="ko" and a bad parameter is read by a Korean developer
        # or manager: word the error in the parameters' own language, not the process's.
        chosen = self.language if self.language in LANGUAGES else None
        with using_language(chosen) if chosen else contextlib.nullcontext():
            self._validate()

    def _validate(self) -> None:
        owner = type(self).__name__
        object.__setattr__(self, "as_of", _as_date("as_of", self.as_of, owner))
        if self.store == "":
            object.__setattr__(self, "store", None)
        if self.language in ("", None):
            object.__setattr__(self, "language", None)
        elif self.language not in LANGUAGES:
            raise ParameterError(tr("params.choices", owner=owner, name="language",
                                    choices=repr(list(LANGUAGES)), got=repr(self.language),
                                    hint=""))
        for f in dataclasses.fields(self):
            rule = f.metadata.get("rule")
            if rule is not None:
                object.__setattr__(self, f.name, self._checked(f.name, rule, owner))
        self.check()

    def _checked(self, name: str, rule: Rule, owner: str) -> Any:
        value = getattr(self, name)
        if value is None and rule.optional:
            return None
        try:
            value = _coerce(value, rule.kind)
        except (TypeError, ValueError):
            kind = tr(f"params.kind.{rule.kind.__name__}") if rule.kind else "?"
            raise ParameterError(tr("params.type", owner=owner, name=name, kind=kind,
                                    got=repr(value))) from None
        if rule.choices is not None and value not in rule.choices:
            close = difflib.get_close_matches(str(value), [str(c) for c in rule.choices], n=1)
            hint = tr("params.did_you_mean", suggestion=close[0]) if close else ""
            raise ParameterError(tr("params.choices", owner=owner, name=name,
                                    choices=repr(list(rule.choices)), got=repr(value),
                                    hint=hint))
        low, high = rule.low, rule.high
        outside = (low is not None and value < low) or (high is not None and value > high)
        if rule.gap is not None and rule.gap[0] < value < rule.gap[1]:
            outside = True
        if outside:
            key = ("params.range_gap" if rule.gap else "params.range" if None not in (low, high)
                   else "params.at_least" if high is None else "params.at_most")
            raise ParameterError(tr(key, owner=owner, name=name, low=_shown(low),
                                    high=_shown(high), got=repr(getattr(self, name)),
                                    gap_low=_shown(rule.gap[0]) if rule.gap else "",
                                    gap_high=_shown(rule.gap[1]) if rule.gap else ""))
        return value

    def check(self) -> None:
        """Check what involves several fields (override; the declared rules run before)."""

    def replace(self, **changes: Any) -> NotebookParams:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def _shown(bound: float | None) -> str:
    if bound is None:
        return "-"
    return str(int(bound)) if float(bound).is_integer() else f"{bound:g}"
