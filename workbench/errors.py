"""Exception and warning hierarchy.

Dual inheritance follows scikit-learn and Ibis: a ``SchemaError`` is also a ``ValueError`` so
callers that already catch ``ValueError`` keep working.
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "InputError",
    "NotFittedError",
    "ParameterError",
    "SchemaError",
    "StoreError",
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


class UnsafeOutputError(InputError):
    """An output path would replace the store, a model, the settings, an input or a file.

    Outputs never clobber inputs: the message names the path, why it is refused and the fix.
    """


class StoreError(WorkbenchError, RuntimeError):
    """The store cannot be opened or written (locked, missing, unsupported backend)."""


class NotFittedError(WorkbenchError, AttributeError):
    """A model was used before ``fit``."""


class ConvergenceError(WorkbenchError, RuntimeError):
    """An optimiser did not converge."""


class WorkbenchWarning(UserWarning):
    """Something worked but deserves attention (the message says what to do)."""
