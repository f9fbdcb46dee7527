"""Exception and warning hierarchy.

Dual inheritance follows scikit-learn and Ibis: a ``SchemaError`` is also a ``ValueError`` so
callers that already catch ``ValueError`` keep working.

An optimiser that stops short of the optimum is not an error here: the CLV estimators keep the
last estimate and report the outcome (``converged_``, ``fit_report_``) with a warning, as
scikit-learn's ``ConvergenceWarning`` does, so there is no ``ConvergenceError``.
"""

from __future__ import annotations

__all__ = [
    "InputError",
    "NotFittedError",
    "ParameterError",
    "SchemaError",
    "StoreError",
    "TooLittleDataError",
    "UnsafeOutputError",
    "WorkbenchError",
    "WorkbenchWarning",
]


class WorkbenchError(Exception):
    """Base class of every error the package raises on purpose."""


class InputError(WorkbenchError, ValueError):
    """A user-supplied file or value cannot be used; the message says why and how to fix it.

    The command line maps this error to exit code 2 ("invalid input").
    """


class SchemaError(InputError):
    """Data does not follow the data contract (columns, types, allowed values, keys)."""


class ParameterError(InputError):
    """A function or command was called with an invalid parameter."""


class TooLittleDataError(InputError):
    """The data are too thin for what was asked: a model to train, predictions to give.

    A data condition, not a mistake in the call. The analyses (``run_churn``, ``run_clv`` and
    their snapshot parts) never let it out: they return a result whose ``status`` is
    ``TOO_LITTLE_DATA`` and whose message says what is missing, as the house style asks of
    data conditions. Only the calls that have no result to carry a status raise it: training
    a churn model or backtesting on too short a history, and predictions of a CLV model that
    refused its data (fewer repeat buyers or a shorter history than it needs). It is an
    :class:`InputError`, so the command line exits with code 2, because the fix is the user's:
    load a longer history, pick a later date or a shorter horizon, or accept unreliable
    predictions (``check_data=False``).

    Parameters
    ----------
    message
        What is missing and how to get it, in the language active when it is raised.
    key, facts
        The message's key in the locale catalogue and its fields (numbers, ISO dates), so that
        a result can word the same condition again in its reader's language.
    """

    def __init__(self, message: str, *, key: str = "", facts: dict[str, object] | None = None
                 ) -> None:
        super().__init__(message)
        self.key = key
        self.facts = dict(facts or {})


class UnsafeOutputError(InputError):
    """An output path would replace the store, a model, the settings, an input or a file.

    Outputs never clobber inputs: the message names the path, why it is refused and the fix.
    """


class StoreError(WorkbenchError, RuntimeError):
    """The store cannot be opened or written (locked, missing, unsupported backend)."""


class NotFittedError(WorkbenchError, AttributeError):
    """A model was used before ``fit``."""


class WorkbenchWarning(UserWarning):
    """Something worked but deserves attention (the message says what to do)."""
