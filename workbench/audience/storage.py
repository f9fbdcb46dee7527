"""Saved audiences on disk: where they live, loading, listing, saving with versions.

Definitions are YAML files ``<name>.yaml`` in the audiences folder, ``audiences/`` next to the
store file (:func:`audiences_dir`); exports go to ``exports/`` beside it (:func:`export_path`).
Every file is read through :func:`workbench._userfiles.read_yaml` with the limits of
:data:`MAX_DEFINITION_BYTES`, and written to a temporary name and renamed, so a reader never
sees half a file.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as d:
...     saved = save_definition(AudienceDefinition("ok", rules=Group()), Path(d))
...     load_definition("ok", Path(d)) == saved, [p.name for p in list_definitions(Path(d))]
(True, ['ok.yaml'])
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from workbench._userfiles import read_yaml, short
from workbench.audience.fields import did_you_mean
from workbench.audience.recipes import RECIPES, load_recipe
from workbench.audience.rules import FILE_CONTEXT, NAME, AudienceDefinition, Group
from workbench.data.spark import is_spark, lake_path
from workbench.errors import InputError, ParameterError
from workbench.i18n import tr
from workbench.settings import Settings, load_settings

__all__ = ["MAX_DEFINITION_BYTES", "SavedDefinition", "audiences_dir", "export_path",
           "list_definitions", "load_definition", "new_definition", "save_definition",
           "saved_definitions"]

#: Largest saved audience file read (256 KiB; a definition is a few kilobytes).
MAX_DEFINITION_BYTES = 256 * 1024


def audiences_dir(settings: Settings | None = None) -> Path:
    """Return the folder of saved audiences: ``audiences/`` next to the store file.

    With the default store ``data/workbench.duckdb`` this is ``data/audiences/``; with a URL
    store it is ``data/audiences`` in the working folder; with a Spark lake
    (``spark:/data/lake``), ``audiences/`` beside the lake folder (``/data/audiences``).
    """
    store = (settings or load_settings()).store
    if is_spark(store):
        return lake_path(store).parent / "audiences"
    if "://" in store:
        return Path("data") / "audiences"
    return Path(store).parent / "audiences"


def export_path(name: str, folder: Path, *, at: datetime) -> Path:
    """Return the path of a new export: ``exports/<name>-<YYYYmmdd-HHMMSS>.csv``.

    A second export within the same second (two clicks) gets ``-2``, ``-3`` ... instead of
    being refused for an existing file.

    Parameters
    ----------
    name
        The audience's name.
    folder
        The audiences folder; ``exports/`` is its sibling.
    at
        When the export is made (the shop's local time).

    >>> export_path("vip", Path("data/audiences"), at=datetime(2026, 11, 16, 10, 0)).as_posix()
    'data/exports/vip-20261116-100000.csv'
    """
    stem = folder.parent / "exports" / f"{name}-{at:%Y%m%d-%H%M%S}"
    path, n = stem.with_name(stem.name + ".csv"), 1
    while path.exists() or path.is_symlink() or _arm_files(path):
        n += 1
        path = stem.with_name(f"{stem.name}-{n}.csv")
    return path


def _arm_files(path: Path) -> bool:
    """Return whether per-arm files of an export to ``path`` exist (``x.A.csv``)."""
    if not path.parent.is_dir():
        return False
    prefix = path.stem + "."
    return any(p.name.startswith(prefix) and p.suffix == ".csv" for p in path.parent.iterdir())


def new_definition() -> AudienceDefinition:
    """Return the empty definition a builder starts from ("from scratch")."""
    return AudienceDefinition("new_audience", rules=Group())


def _path_for(name_or_path: str | Path, directory: Path | None) -> Path:
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        return Path(text)
    if not NAME.match(text):
        raise ParameterError(tr("audience.error.file_name", got=short(text)))
    return (directory or audiences_dir()) / f"{text}.yaml"


def load_definition(name_or_path: str | Path, directory: Path | None = None
                    ) -> AudienceDefinition:
    """Load a saved audience by name (from ``directory``) or path; recipes by their name too.

    The file is read by :func:`workbench._userfiles.read_yaml`: at most
    :data:`MAX_DEFINITION_BYTES`, UTF-8, no anchors or aliases, no duplicate keys, only core
    tags, at most 50 levels deep; dates stay text and are checked with the other fields.

    Raises
    ------
    InputError
        No such file (the message lists the saved audiences and recipes), or invalid content
        (a ``UserFileError`` naming the file, the line when known and the fix).
    """
    path = _path_for(name_or_path, directory)
    if path.exists():
        return _read_definition(path)
    if str(name_or_path) in RECIPES:
        return load_recipe(str(name_or_path))
    saved = [p.stem for p in list_definitions(directory)]
    raise InputError(tr("audience.error.not_found", name=repr(str(name_or_path)),
                        folder=repr(str(path.parent)), saved=saved or tr("audience.none"),
                        recipes=sorted(RECIPES),
                        hint=did_you_mean(name_or_path, [*saved, *RECIPES])))


def _read_definition(path: Path) -> AudienceDefinition:
    data = read_yaml(path, max_bytes=MAX_DEFINITION_BYTES, context=FILE_CONTEXT)
    return AudienceDefinition.from_file_data(data, source=str(path))


def list_definitions(directory: Path | None = None) -> list[Path]:
    """Return the saved audience files, sorted by name."""
    folder = directory or audiences_dir()
    return sorted(folder.glob("*.yaml")) if folder.exists() else []


@dataclass(frozen=True, slots=True)
class SavedDefinition:
    """One file of :func:`saved_definitions`: its definition, or why it cannot be used."""

    path: Path
    definition: AudienceDefinition | None = None
    problem: str = ""


def saved_definitions(directory: Path | None = None) -> list[SavedDefinition]:
    r"""Read every saved audience file; an invalid one is reported, not raised.

    One broken or hostile file must not hide the others (``workbench audience list``, the
    builder's start picker). Each file is read with the limits of :func:`load_definition`.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = (Path(d) / "bad.yaml").write_text("a: &x 1\nb: *x\n", encoding="utf-8")
    ...     save_definition(AudienceDefinition("ok", rules=Group()), Path(d)).version
    ...     [(s.path.name, s.definition is None) for s in saved_definitions(Path(d))]
    1
    [('bad.yaml', True), ('ok.yaml', False)]
    """
    found = []
    for path in list_definitions(directory):
        try:
            found.append(SavedDefinition(path, _read_definition(path)))
        except InputError as exc:  # errors as data: the caller shows them beside the others
            found.append(SavedDefinition(path, problem=getattr(exc, "detail", None) or str(exc)))
    return found


def save_definition(definition: AudienceDefinition, directory: Path | None = None, *,
                    now: datetime | None = None) -> AudienceDefinition:
    """Save a definition as ``<directory>/<name>.yaml`` and return what was saved.

    A new file gets version 1 and ``created_at = now``; saving changed content over an
    existing file increments its version and keeps its ``created_at``; saving unchanged content
    changes nothing. The file is written to a temporary name and renamed, so a reader never
    sees half a file.

    Parameters
    ----------
    definition
        What to save.
    directory
        Folder (default :func:`audiences_dir`).
    now
        Time stamp to record (default: the current time, UTC; bookkeeping only).
    """
    folder = directory or audiences_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{definition.name}.yaml"
    now = now or datetime.now(UTC)
    saved = definition.replace(created_at=definition.created_at or now, updated_at=now,
                               version=1)
    if path.exists():
        old = _read_definition(path)
        if old.content_key() == definition.content_key() and old.author == definition.author:
            return old
        saved = definition.replace(created_at=old.created_at or now, updated_at=now,
                                   version=old.version + 1)
    fd, tmp = tempfile.mkstemp(prefix=f".{definition.name}.", suffix=".tmp", dir=folder)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(saved.to_yaml())
    os.replace(tmp, path)
    return saved
