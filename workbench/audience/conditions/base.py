"""The shape of a condition type: its fields, how it compiles, its checks and its label.

A condition type is one unit: the module that declares it (:mod:`.customers`, :mod:`.orders`,
:mod:`.events`, :mod:`.snapshot`) gives its :class:`~workbench.audience.fields.FieldSpec`
list (with the store columns a form offers values from), the function that compiles it to an
Ibis predicate, and any check across its fields; its label is ``audience.type.<name>`` in
``workbench/i18n/locales/audience.toml``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.audience.fields import FieldSpec, check_field, check_ranges, did_you_mean
from workbench.errors import ParameterError
from workbench.i18n import tr

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from workbench.audience.context import CompileContext

__all__ = ["READS", "Compiler", "ConditionType"]

#: What a condition reads: ``customers`` conditions are column tests on the base table (never
#: cached); the others scan orders, events or the snapshot.
READS = ("customers", "orders", "events", "snapshot")

Compiler = Callable[["CompileContext", Mapping[str, Any]], "ir.BooleanValue"]


@dataclass(frozen=True, slots=True)
class ConditionType:
    """A kind of condition: its fields, what it reads and how it becomes a predicate.

    Parameters
    ----------
    name
        The ``type`` written in definition files.
    fields
        Its fields, in the order a form shows them.
    reads
        One of :data:`READS`.
    compile
        ``compile(ctx, fields)``: a boolean expression over ``ctx.base`` (the customers) for
        the validated ``fields``; NULL counts as "does not match".
    check
        ``check(owner, fields)``: raises :class:`~workbench.errors.ParameterError` for a
        combination of fields this type refuses (besides :func:`check_ranges`).
    help
        What it selects, for developers.
    """

    name: str
    fields: tuple[FieldSpec, ...]
    reads: str
    compile: Compiler
    check: Callable[[str, Mapping[str, Any]], None] | None = None
    help: str = ""

    def spec(self, name: str) -> FieldSpec:
        """Return the spec of one field."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def label(self, language: str | None = None) -> str:
        """Return the type's name for people (``cart`` -> "Cart contents")."""
        return tr(f"audience.type.{self.name}", language=language)

    def initial(self) -> dict[str, Any]:
        """Return the fields a condition added in a form starts with."""
        return {f.name: f.initial() for f in self.fields}

    def defaults(self) -> dict[str, Any]:
        """Return each field's default in canonical form (what a file may leave out)."""
        return {f.name: None if f.default is None else check_field(self.name, f, f.default)
                for f in self.fields}

    def validate(self, owner: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Return every field validated, defaults filling those not given.

        Raises
        ------
        ParameterError
            An unknown field (with the closest known one), an invalid value or combination.
        """
        names = [f.name for f in self.fields]
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ParameterError(tr("audience.error.unknown_fields", owner=owner,
                                    unknown=unknown, allowed=sorted(names),
                                    hint=did_you_mean(unknown[0], names)))
        values = {f.name: check_field(owner, f, params.get(f.name, f.default))
                  for f in self.fields}
        check_ranges(owner, values)
        if self.check is not None:
            self.check(owner, values)
        return values
