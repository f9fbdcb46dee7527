"""Older audience files keep loading: each schema version is turned into the current one.

Version 1 (files without ``schema_version``) wrote ``match: all|any`` and a flat ``filters``
list whose entries name their type under ``kind`` and negate with ``exclude: true``; version 2
writes ``rules: {op, conditions}`` with ``type`` and ``not``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench._userfiles import short
from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["SCHEMA_VERSION", "migrate"]

#: Version of the file layout written by :func:`workbench.audience.save_definition`.
SCHEMA_VERSION = 2


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Return a definition's mapping in the current schema version.

    Raises
    ------
    ParameterError
        A version newer than this workbench reads, or a version-1 file that is not one.

    Examples
    --------
    >>> migrate({"name": "x", "match": "any", "filters": [{"kind": "region", "values": ["서울"],
    ...          "exclude": True}]})["rules"]
    {'op': 'or', 'conditions': [{'type': 'region', 'values': ['서울'], 'not': True}]}
    """
    owner = tr("audience.where.audience", name=short(data.get("name")))
    # Version 1 files carry no schema_version; a hand-written file without one but in the
    # current layout (``rules``) is read as current.
    legacy = "filters" in data or "match" in data
    version = data.get("schema_version", 1 if legacy else SCHEMA_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ParameterError(tr("audience.error.schema_version", owner=owner, got=short(version)))
    if version > SCHEMA_VERSION:
        raise ParameterError(tr("audience.error.newer", owner=owner, version=version,
                                supported=SCHEMA_VERSION))
    if version == 1:
        data = _from_version_1(data, owner)
    return data


def _from_version_1(data: dict[str, Any], owner: str) -> dict[str, Any]:
    match = data.pop("match", "all")
    if match not in ("all", "any"):
        raise ParameterError(tr("audience.error.match", owner=owner, got=short(match)))
    conditions = []
    for f in data.pop("filters", []) or []:
        if not isinstance(f, Mapping) or "kind" not in f:
            raise ParameterError(tr("audience.error.filter_kind", owner=owner, got=short(f)))
        c = {"type": f["kind"], **{k: v for k, v in f.items() if k not in ("kind", "exclude")}}
        if f.get("exclude"):
            c["not"] = True
        conditions.append(c)
    data["rules"] = {"op": "and" if match == "all" else "or", "conditions": conditions}
    data["schema_version"] = SCHEMA_VERSION
    return data
