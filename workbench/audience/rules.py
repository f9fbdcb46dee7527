"""Audience definitions as data: conditions, AND/OR/NOT groups, and their YAML form.

A definition is a tree of :class:`Group` (``and`` / ``or``, optionally negated) whose leaves are
:class:`Condition` objects: a condition *type* from :data:`CONDITION_TYPES` plus its fields.
Every field is validated against the type's :class:`~workbench.audience.fields.FieldSpec`
when a condition is built, so a definition that exists is a valid one; nothing in it is ever
evaluated as code, and the compiler (:mod:`workbench.audience.compile`) passes every value to
the backend as an Ibis literal. Files are saved and listed by :mod:`workbench.audience.storage`;
older layouts are read through :func:`~workbench.audience.migration.migrate`::

    schema_version: 2
    name: cart_abandoners_sms
    description: Members who left items in the cart
    purpose: cart reminder (+1 h)
    channel: sms
    is_ad: true
    author: kim
    created_at: '2026-11-16T10:00:00+00:00'
    updated_at: '2026-11-16T10:00:00+00:00'
    version: 1
    rules:
      op: and
      conditions:
      - {type: consent, channel: sms}
      - {type: cart, min_age: 1h, max_age: 24h}

Windows are durations before the audience's cut-off (``as_of``): ``"14d"`` is fourteen days,
``"1h"`` one hour, ``"2w"`` two weeks; a bare number means days. ``from_ago: 14d, to_ago: 7d``
is the half-open window ``[cutoff - 14 days, cutoff - 7 days)``.

Examples
--------
>>> d = AudienceDefinition.from_dict({
...     "name": "vip", "channel": "sms",
...     "rules": {"op": "and", "conditions": [
...         {"type": "orders", "from_ago": "90d", "min_count": 3}]}})
>>> d.rules.items[0].get("min_count"), d.rules.items[0].get("from_ago")
(3, '90d')
>>> Condition.make("orders", min_count="x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
workbench.errors.ParameterError: condition 'orders': 'min_count' must be a whole number; ...
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import yaml

from workbench._userfiles import UserFileError, parse_yaml, short
from workbench.audience.compliance import check_channel
from workbench.audience.conditions import CONDITION_TYPES, ConditionType
from workbench.audience.durations import cooldown_duration
from workbench.audience.fields import did_you_mean
from workbench.audience.migration import SCHEMA_VERSION, migrate
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["FILE_CONTEXT", "NAME", "AudienceDefinition", "Condition", "Group"]

#: A definition's name: it is also its file name.
NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
#: Message wrapped around any problem with a definition file (fields ``path``, ``detail``).
FILE_CONTEXT = "audience.file_invalid"
_MAX_FREE_TEXT = 2000


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition: a type from :data:`CONDITION_TYPES` and its validated fields.

    Build it with :meth:`make`, which fills defaults and validates; ``negate`` turns it into
    NOT.
    """

    type: str
    params: dict[str, Any] = field(default_factory=dict)
    negate: bool = False

    @classmethod
    def make(cls, type: str, *, negate: bool = False, **params: Any) -> Condition:  # noqa: A002
        """Return a validated condition; defaults fill the fields not given.

        Raises
        ------
        ParameterError
            An unknown type or field (with the closest known one), or an invalid value.
        """
        if not isinstance(type, str) or type not in CONDITION_TYPES:
            raise ParameterError(tr("audience.error.unknown_type", got=short(type),
                                    known=sorted(CONDITION_TYPES),
                                    hint=did_you_mean(type, CONDITION_TYPES)))
        owner = tr("audience.where.condition", type=short(type))
        if not isinstance(negate, bool):
            raise ParameterError(tr("audience.error.not_bool", where=f"{owner}: 'not'",
                                    got=short(negate)))
        return cls(type, CONDITION_TYPES[type].validate(owner, params), negate)

    @property
    def kind(self) -> ConditionType:
        """The condition's type (its fields, compiler and label)."""
        return CONDITION_TYPES[self.type]

    def get(self, name: str) -> Any:
        """Return a field's value."""
        return self.params[name]

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form: ``type``, the fields that differ from defaults, ``not``."""
        out: dict[str, Any] = {"type": self.type}
        defaults = self.kind.defaults()
        for f in self.kind.fields:
            value = self.params.get(f.name)
            if value != defaults[f.name] or f.required:
                out[f.name] = list(value) if isinstance(value, tuple) else value
        if self.negate:
            out["not"] = True
        return out


@dataclass(frozen=True, slots=True)
class Group:
    """Conditions and groups combined with ``and`` or ``or``; ``negate`` makes it NOT."""

    op: str = "and"
    items: tuple[Condition | Group, ...] = ()
    negate: bool = False

    def __post_init__(self) -> None:
        if self.op not in ("and", "or"):
            raise ParameterError(tr("audience.error.group_op", got=short(self.op)))
        object.__setattr__(self, "items", tuple(self.items))

    def conditions(self) -> list[Condition]:
        """Return every condition of the tree, depth first."""
        out: list[Condition] = []
        for item in self.items:
            out.extend(item.conditions() if isinstance(item, Group) else [item])
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form."""
        out: dict[str, Any] = {"op": self.op,
                               "conditions": [i.to_dict() for i in self.items]}
        if self.negate:
            out["not"] = True
        return out

    @classmethod
    def from_dict(cls, data: Any, where: str = "rules") -> Group:
        """Build a group from its YAML form (validated); ``where`` starts error messages."""
        if not isinstance(data, Mapping):
            raise ParameterError(tr("audience.error.group_shape", where=where,
                                    got=type(data).__name__))
        _refuse_unknown_keys(data, ("conditions", "not", "op"), where)
        items = data.get("conditions") or []
        if not isinstance(items, list):
            raise ParameterError(tr("audience.error.conditions_list", where=where))
        built = [cls._item(item, tr("audience.where.item", where=where, number=i))
                 for i, item in enumerate(items, 1)]
        negate = data.get("not", False)
        if not isinstance(negate, bool):
            raise ParameterError(tr("audience.error.not_bool", where=f"{where}: 'not'",
                                    got=short(negate)))
        return cls(data.get("op", "and"), tuple(built), negate)

    @classmethod
    def _item(cls, item: Any, where: str) -> Condition | Group:
        if isinstance(item, Mapping) and "conditions" in item:
            return cls.from_dict(item, where)
        if not isinstance(item, Mapping) or "type" not in item:
            raise ParameterError(tr("audience.error.item_shape", where=where,
                                    known=sorted(CONDITION_TYPES), got=short(item)))
        fields = {str(k): v for k, v in item.items() if k not in ("type", "not")}
        try:
            return Condition.make(item["type"], negate=item.get("not", False), **fields)
        except ParameterError as exc:
            raise ParameterError(f"{where}: {exc}") from None


def _refuse_unknown_keys(data: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(data) - set(allowed), key=str)
    if unknown:
        raise ParameterError(tr("audience.error.unknown_keys", where=where,
                                unknown=short(unknown, 80), allowed=sorted(allowed)))


_META = ("name", "description", "purpose", "channel", "is_ad", "author", "created_at",
         "updated_at", "version", "schema_version", "rules", "cooldown")


@dataclass(frozen=True, slots=True)
class AudienceDefinition:
    """A named, versioned audience definition.

    Parameters
    ----------
    name
        File-safe id: lower-case letters, digits, ``_`` and ``-`` (at most 64).
    description, purpose
        Free text for people; ``purpose`` is recorded with every export (PIPA: the reason for a
        download).
    channel
        Default channel of exports: one of ``sms``, ``lms``, ``email``, ``push``,
        ``alimtalk``, ``friendtalk`` (``kakao``, from before 2026-12, still reads; exports take
        it as ``friendtalk`` for an ad and ``alimtalk`` otherwise).
    is_ad
        An advertising message: the consent and night-time rules apply at export.
    author
        Who wrote it.
    created_at, updated_at
        Set by :func:`~workbench.audience.save_definition`.
    version
        Incremented by :func:`~workbench.audience.save_definition` whenever the content
        changes.
    rules
        The conditions.
    cooldown
        ``--since-last-export``: customers exported for this audience less than this long
        before (or after) the send are left out (``"24h"``, ``"2d"``; at least one hour).
        ``None`` (files without the key): 24 hours
        (:data:`workbench.audience.history.DEFAULT_COOLDOWN`).
    """

    name: str
    rules: Group = field(default_factory=Group)
    description: str = ""
    purpose: str = ""
    channel: str = "sms"
    is_ad: bool = True
    author: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 1
    schema_version: int = SCHEMA_VERSION
    cooldown: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not NAME.match(self.name):
            raise ParameterError(tr("audience.error.name", got=short(self.name)))
        owner = tr("audience.where.audience", name=short(self.name))
        check_channel(self.channel, owner)
        for name in ("description", "purpose", "author"):
            value = getattr(self, name)
            if not isinstance(value, str) or len(value) > _MAX_FREE_TEXT:
                raise ParameterError(tr("audience.error.long_text", owner=owner, name=repr(name),
                                        got=type(value).__name__))
        if not isinstance(self.is_ad, bool):
            raise ParameterError(tr("audience.error.not_bool", where=f"{owner}: 'is_ad'",
                                    got=short(self.is_ad)))
        if not isinstance(self.version, int) or isinstance(self.version, bool) or self.version < 1:
            raise ParameterError(tr("audience.error.version", owner=owner,
                                    got=short(self.version)))
        if not isinstance(self.rules, Group):
            raise ParameterError(tr("audience.error.rules_type", owner=owner))
        for name in ("created_at", "updated_at"):
            object.__setattr__(self, name, _as_datetime(getattr(self, name), name, owner))
        if self.cooldown is not None:
            object.__setattr__(self, "cooldown", cooldown_duration(self.cooldown, owner))

    def replace(self, **changes: Any) -> AudienceDefinition:
        """Return a copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the YAML form (current schema version)."""
        return {
            "schema_version": SCHEMA_VERSION, "name": self.name,
            "description": self.description, "purpose": self.purpose,
            "channel": self.channel, "is_ad": self.is_ad, "author": self.author,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "version": self.version, "rules": self.rules.to_dict(),
            # Only when set: files written before the key existed stay byte-for-byte the same.
            **({"cooldown": self.cooldown} if self.cooldown is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: Any) -> AudienceDefinition:
        """Build a definition from its YAML form, migrating older schema versions."""
        if not isinstance(data, Mapping):
            raise ParameterError(tr("audience.error.definition_shape", got=type(data).__name__))
        data = migrate(dict(data))
        owner = tr("audience.where.audience", name=short(data.get("name")))
        _refuse_unknown_keys(data, _META, owner)
        rules = Group.from_dict(data.get("rules") or {"op": "and", "conditions": []},
                                tr("audience.where.rules", owner=owner))
        kwargs = {k: data[k] for k in _META if k in data and k not in ("rules", "schema_version")
                  and data[k] is not None}
        if "name" not in kwargs:
            raise ParameterError(tr("audience.error.no_name"))
        return cls(rules=rules, **kwargs)

    def to_yaml(self) -> str:
        """Return the YAML text (``yaml.safe_dump``: no tags, no code)."""
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = "<text>") -> AudienceDefinition:
        """Parse YAML text safely and validate it.

        The parser (:func:`workbench._userfiles.parse_yaml`) never executes tags and refuses
        aliases, duplicate keys, deep nesting and other tags than the core ones; dates stay
        text and are checked here.

        Raises
        ------
        UserFileError
            A :class:`~workbench.errors.ParameterError` naming ``source``, what is wrong (the
            line when known) and the fix.
        """
        return cls.from_file_data(parse_yaml(text, source=source, context=FILE_CONTEXT),
                                  source=source)

    @classmethod
    def from_file_data(cls, data: Any, *, source: str) -> AudienceDefinition:
        """Build a definition from a parsed file; a problem names ``source`` and the fix.

        Raises
        ------
        UserFileError
            Whatever :meth:`from_dict` refuses, as one paragraph naming the file.
        """
        try:
            return cls.from_dict(data)
        except ParameterError as exc:
            detail = str(exc).rstrip(".?")  # the message adds its own full stop
            raise UserFileError(tr(FILE_CONTEXT, path=source, detail=detail), path=source,
                                detail=detail) from None

    def content_key(self) -> dict[str, Any]:
        """Return the parts whose change makes a new version (not times, version, author)."""
        d = self.to_dict()
        return {k: d[k] for k in ("description", "purpose", "channel", "is_ad", "rules",
                                  "cooldown") if k in d}


def _as_datetime(value: Any, name: str, owner: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ParameterError(tr("audience.error.timestamp", owner=owner, name=repr(name),
                                got=short(value))) from None
