"""Argument checks shared by the A/B statistics, with their messages in English and Korean.

Caller mistakes raise :class:`~workbench.errors.ParameterError` (section 5 of the house style);
data conditions such as an empty arm are statuses of the result instead.
"""

from __future__ import annotations

import math

from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["check_non_negative", "check_positive", "check_probability"]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)


def check_probability(value: object, name: str, func: str) -> None:
    """Refuse ``value`` unless it lies in the open interval (0, 1).

    Examples
    --------
    >>> check_probability(1.5, "alpha", "welch_ttest")
    Traceback (most recent call last):
    ...
    workbench.errors.ParameterError: welch_ttest: 'alpha' must be in (0, 1); got 1.5.
    """
    if not (_is_number(value) and 0.0 < float(value) < 1.0):
        raise ParameterError(tr("abtest.error.probability", func=func, name=name,
                                got=repr(value)))


def check_positive(value: object, name: str, func: str) -> None:
    """Refuse ``value`` unless it is a finite number above zero."""
    if not (_is_number(value) and value > 0):
        raise ParameterError(tr("abtest.error.positive", func=func, name=name, got=repr(value)))


def check_non_negative(func: str, **values: object) -> None:
    """Refuse any of ``values`` that is not a finite number of at least zero."""
    for name, value in values.items():
        if not (_is_number(value) and value >= 0):
            raise ParameterError(tr("abtest.error.non_negative", func=func, name=name,
                                    got=repr(value)))
