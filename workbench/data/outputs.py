"""Where outputs may go: no command writes over the store, its models, salt, settings or inputs.

Every command that writes a path the user names (an audience export's ``--out``, the weekly
report's ``--out`` folder) checks it with :func:`check_output_file` or
:func:`check_output_folder` before it computes anything, and publishes the file by renaming a
finished temporary file over the name (:func:`publish`), so a failure never leaves half a file
and a symbolic or hard link never writes through to another file.

Refused, whatever ``force`` says:

- the store, its lock, its write-ahead log and the private folders of writes in progress;
- anything in ``models/`` next to the store, and the ``.salt`` of hashed customer keys;
- the settings file (``workbench.toml``);
- any DuckDB database, and any input of the same command (the message file of an export);
- a folder given where a file is expected.

Refused unless ``force``: any other existing file.

Examples
--------
>>> import tempfile, pathlib
>>> from workbench.settings import Settings
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> settings = Settings(store=str(folder / "shop.duckdb"))
>>> check_output_file(folder / "out.csv", settings=settings).name
'out.csv'
>>> check_output_file(folder / "models" / "churn.json", settings=settings)
Traceback (most recent call last):
...
workbench.errors.UnsafeOutputError: refusing to write '...': it is in the models folder ...
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from workbench.data.spark import is_spark, lake_path
from workbench.errors import UnsafeOutputError
from workbench.i18n import tr
from workbench.settings import Settings

__all__ = ["check_output_file", "check_output_folder", "private_temp_file", "protected_paths",
           "publish"]


def _resolved(path: str | os.PathLike[str]) -> Path:
    return Path(path).expanduser().resolve()


def protected_paths(settings: Settings) -> dict[str, Path]:
    """Return the files and folders outputs must never replace, by what they are."""
    out: dict[str, Path] = {}
    if settings.source:
        out["settings"] = _resolved(settings.source)
    if is_spark(settings.store):  # nothing is written into a lake but by its writer
        lake = lake_path(settings.store)
        out.update({"models": lake / "_models", "salt": lake / ".salt", "lake": lake})
        return out
    if "://" in settings.store:
        out["models"] = _resolved("models")
        return out
    store = _resolved(settings.store)
    out.update({"store": store, "store_lock": store.with_name(store.name + ".lock"),
                "store_wal": store.with_name(store.name + ".wal"),
                "models": store.parent / "models", "salt": store.parent / ".salt"})
    return out


def _reason(path: Path, settings: Settings, inputs: Iterable[str | os.PathLike[str]]
            ) -> str | None:
    """Return why ``path`` must never be written, or ``None``."""
    protected = protected_paths(settings)
    for kind, target in protected.items():
        if kind in ("models", "lake"):
            if path == target or target in path.parents:
                return tr(f"outputs.reason_{kind}", folder=str(target))
        elif path == target:
            return tr(f"outputs.reason_{kind}")
    store = protected.get("store")
    if store is not None and path.parent == store.parent and path.name.startswith(
            f".{store.name}."):
        return tr("outputs.reason_store_work")
    for given in inputs:
        if given is not None and path == _resolved(given):
            return tr("outputs.reason_input")
    if path.is_file() and _is_database(path):
        return tr("outputs.reason_database")
    return None


def _is_database(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return False
    return head[8:12] == b"DUCK" or head.startswith(b"SQLite format 3")


def check_output_file(path: str | os.PathLike[str], *, settings: Settings,
                      inputs: Iterable[str | os.PathLike[str]] = (), force: bool = False,
                      option: str = "--out") -> Path:
    """Return the resolved output file, or refuse it with a sentence that says what to do.

    Parameters
    ----------
    path
        The file the user asked for.
    settings
        Settings naming the store and the settings file.
    inputs
        Files the same command reads (never replaced, even with ``force``).
    force
        Replace an existing file that is not protected.
    option
        The option that named the path, for the message.

    Raises
    ------
    UnsafeOutputError
        The path is protected, a folder, or an existing file without ``force``.
    """
    shown = os.fspath(path)
    if not shown.strip():
        raise UnsafeOutputError(tr("outputs.empty", option=option))
    target = _resolved(path)
    if target.is_dir():
        raise UnsafeOutputError(tr("outputs.is_folder", path=shown, option=option))
    reason = _reason(target, settings, inputs)
    if reason is not None:
        raise UnsafeOutputError(tr("outputs.refused", path=shown, reason=reason, option=option))
    if (target.exists() or target.is_symlink()) and not force:
        raise UnsafeOutputError(tr("outputs.exists", path=shown, option=option))
    return target


def check_output_folder(path: str | os.PathLike[str], *, settings: Settings,
                        option: str = "--out") -> Path:
    """Return the resolved output folder, or refuse it (a file, or a protected location).

    Raises
    ------
    UnsafeOutputError
        The path is an existing file, the store's models folder or inside it, or the folder
        holding nothing but protected files.
    """
    shown = os.fspath(path)
    target = _resolved(path)
    if target.exists() and not target.is_dir():
        raise UnsafeOutputError(tr("outputs.not_folder", path=shown, option=option))
    models = protected_paths(settings).get("models")
    if models is not None and (target == models or models in target.parents):
        raise UnsafeOutputError(tr("outputs.refused", path=shown, option=option,
                                   reason=tr("outputs.reason_models", folder=str(models))))
    return target


@contextlib.contextmanager
def private_temp_file(target: Path) -> Iterator[Path]:
    """Yield a temporary file path beside ``target`` in a private folder, removed afterwards.

    The folder (mode 0700) is on the same file system as ``target``, so :func:`publish` can
    rename the file into place atomically; the file itself should be created with mode 0600.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield folder / target.name
    finally:
        for child in folder.iterdir():
            with contextlib.suppress(OSError):
                child.unlink()
        with contextlib.suppress(OSError):
            folder.rmdir()


def publish(tmp: Path, target: Path, *, force: bool) -> None:
    """Move a finished file into place: never over an existing file unless ``force``.

    Without ``force`` the file is hard-linked to its name, which fails if the name was taken
    since it was checked; with ``force`` it is renamed over it. Either way the old name's
    content is never written through (a link to the store stays the store).

    Raises
    ------
    UnsafeOutputError
        The name was taken in the meantime and ``force`` is off.
    """
    if force:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise UnsafeOutputError(tr("outputs.exists", path=str(target), option="--out")) from None
    except OSError:  # file systems without hard links: an exclusive create, then a rename
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.replace(tmp, target)
        return
    tmp.unlink()
