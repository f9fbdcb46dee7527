"""Page results kept next to the store, so a dashboard opens without running its analysis.

A page's analysis at 100k customers takes seconds (CLV fits two models and checks them on a
holdout; cohorts measure every purchase cycle); a manager opening the page should not wait for
it, and a form control (the CLV horizon, the churn band rule) should answer at once. So the
result a page computes is written to ``cache/`` next to the store (beside ``models/``), and
``workbench refresh`` fills it for each page's default parameters and the values its form
offers (:func:`warm`), in English and Korean. A page reads a cached result only when it was
computed

- from the same store file: the key holds the file's device, inode, modification time and size.
  Every write (load, refresh, sample) replaces the file (:func:`workbench.data.write_store`),
  so any change of data misses;
- with the same parameters (all of them but ``mode``) and the same settings;
- by the same code: the key holds a digest of the package's files (their names, sizes and
  modification times) and its version;
- with the same saved models (``models/``: a retrained churn model misses) and the same files
  named by parameters (an A/B test's CSV).

The format is ours, not pickle: a result is a tree of dataclasses, enums, dates, numbers, text,
tuples, dicts and DataFrames. The tree is JSON and each DataFrame is Arrow IPC (Feather), in
one zip file.
Reading it never runs code from the file: a class named in it must be a dataclass or an enum
defined in ``workbench`` and is filled field by field, without calling its constructor. A
result holding anything else (a fitted model, a connection) is simply not cached.
Files are written whole (a temporary file, then a rename), readable by the owner only (mode
0600, like the store), and files of other versions of the store are removed as new ones come.
A store given as a URL (a warehouse), or a folder that cannot be written, has no cache: pages
compute as before. ``WORKBENCH_PAGE_CACHE=0`` turns the cache off.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import importlib
import io
import json
import logging
import os
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

import workbench
from workbench.data.store import is_spark, is_url

__all__ = ["Uncacheable", "cache_dir", "decode", "encode", "enabled", "load", "result_key",
           "save"]

log = logging.getLogger(__name__)

#: File name suffix of a cached result.
SUFFIX = ".wbpage"
#: Largest cached file read back (bytes); a bigger one is ignored (a page result at 100k
#: customers is a few MB: frames of segments, bands and top lists, not of every customer).
MAX_FILE = 256 * 1024 * 1024
#: Most cached files kept for one version of the store.
MAX_FILES = 400
_TREE = "tree.json"


class Uncacheable(TypeError):
    """A result holds something the cache does not write (a model, a connection)."""


def enabled() -> bool:
    """Tell whether pages use the cache (``WORKBENCH_PAGE_CACHE=0`` turns it off)."""
    return os.environ.get("WORKBENCH_PAGE_CACHE", "1").strip().lower() not in ("0", "false",
                                                                              "no", "off")


def cache_dir(store: str) -> Path | None:
    """Return the cache folder of a store file (``cache/`` beside it), or ``None`` for a URL."""
    if not store or is_url(store) or is_spark(store) or store == ":memory:":
        return None  # a Spark lake's pages read its serving file (workbench.data.serving)
    return Path(store).expanduser().resolve().parent / "cache"


# ---------------------------------------------------------------------------------- the key
def _stamp(path: Path) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size]


_CODE: str | None = None


def _code_digest() -> str:
    """Return a digest of the package's files: a changed module or rule file misses."""
    global _CODE
    if _CODE is None:
        root = Path(workbench.__file__).parent
        h = hashlib.sha256(workbench.__version__.encode())
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".toml") and path.is_file():
                st = path.stat()
                h.update(f"{path.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        _CODE = h.hexdigest()[:16]
    return _CODE


def store_version(store: str) -> str | None:
    """Return a short digest of the store file's identity (``None``: no cache for it)."""
    folder = cache_dir(store)
    if folder is None:
        return None
    stamp = _stamp(Path(store).expanduser().resolve())
    if stamp is None:
        return None
    return hashlib.sha256(json.dumps(stamp).encode()).hexdigest()[:16]


def _models_stamp(store: str) -> list[Any]:
    folder = Path(store).expanduser().resolve().parent / "models"
    if not folder.is_dir():
        return []
    return sorted([p.name, *(_stamp(p) or [])] for p in folder.iterdir())


def result_key(page: str, params: Any, settings: Any, store: str) -> tuple[str, str] | None:
    """Return ``(store version, key)`` for a page's result, or ``None`` when not cacheable.

    The key is a digest of the page's name, every parameter but ``mode`` and ``store`` (the
    store is in the version), the settings (but
    where they were read from and the lock wait), the code, the saved models and the stamp of
    every file a text parameter names.
    """
    version = store_version(store)
    if version is None:
        return None
    values = {f.name: getattr(params, f.name) for f in dataclasses.fields(params)
              if f.name not in ("mode", "store")}
    files = {}
    for name, value in values.items():
        if isinstance(value, str) and value and name != "store" and not is_url(value):
            with contextlib.suppress(OSError, ValueError):
                path = Path(value).expanduser()
                if path.is_file():
                    files[name] = _stamp(path)
    config = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)
              if f.name not in ("source", "lock_timeout", "store")}
    payload = json.dumps([page, values, config, files, _models_stamp(store)], default=str,
                         sort_keys=True)
    # the code in the files' prefix too, so results of other code are removed as new ones come
    return f"{version}-{_code_digest()[:12]}", hashlib.sha256(payload.encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------------- encoding
def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _find_class(path: str, *, kind: str) -> type:
    """Return the workbench class named ``module:qualname``; refuse anything else."""
    module_name, _, qualname = path.partition(":")
    if not (module_name == "workbench" or module_name.startswith("workbench.")):
        raise ValueError(f"not a workbench class: {path!r}")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    ok = (isinstance(obj, type) and (dataclasses.is_dataclass(obj) if kind == "dc"
                                     else issubclass(obj, enum.Enum)))
    if not ok:
        raise ValueError(f"not a workbench {kind}: {path!r}")
    return obj


def _frame_bytes(frame: pd.DataFrame) -> tuple[bytes, dict[str, Any]]:
    """Return a frame as Arrow IPC (Feather) and what Feather cannot hold (labels, index).

    Feather, uncompressed, because a page waits for the read: the churn page's frames at 100k
    customers read in 26 ms from Feather and in 384 ms from Parquet (2.6 times the bytes).
    """
    index = frame.index
    default = isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1
    meta = {"columns": [_encode(c, []) for c in frame.columns],
            "multi": isinstance(frame.columns, pd.MultiIndex),
            "columns_name": _encode(frame.columns.name, []),
            "attrs": _encode(dict(frame.attrs), []),
            "index": None if default else [_encode(n, []) for n in index.names]}
    plain = frame.copy(deep=False)
    plain.columns = [f"c{i}" for i in range(frame.shape[1])]
    if not default:
        plain.index = plain.index.set_names([f"i{i}" for i in range(index.nlevels)])
        plain = plain.reset_index()
    meta["object"] = [str(c) for c, t in plain.dtypes.items() if pd.api.types.is_object_dtype(t)]
    buf = io.BytesIO()
    try:
        plain.to_feather(buf, compression="uncompressed")
    except Exception as exc:  # pyarrow refuses mixed object columns and the like
        raise Uncacheable(f"a frame Arrow cannot hold: {exc}") from None
    return buf.getvalue(), meta


def _frame_from(data: bytes, meta: dict[str, Any]) -> pd.DataFrame:
    frame = pd.read_feather(io.BytesIO(data))
    for name in meta.get("object", []):
        # pandas 3 reads text back as its ``str`` dtype with NaN for missing; a column that was
        # ``object`` (text from Ibis, None for missing) comes back as it was
        column = frame[name]
        if column.dtype != object:
            frame[name] = column.astype(object).where(column.notna(), None)
    if meta.get("index") is not None:
        names = [f"i{i}" for i in range(len(meta["index"]))]
        frame = frame.set_index(names)
        frame.index = frame.index.set_names([_decode(n, {}) for n in meta["index"]])
    labels = [_decode(c, {}) for c in meta["columns"]]
    # the labels' own type comes back (ints stay ints: cohort periods)
    frame.columns = pd.MultiIndex.from_tuples(labels) if meta["multi"] else pd.Index(labels)
    frame.columns.name = _decode(meta["columns_name"], {})
    frame.attrs.update(_decode(meta["attrs"], {}))
    return frame


def _encode(value: Any, blobs: list[bytes]) -> Any:
    if isinstance(value, enum.Enum):  # before str: Status is a str enum
        return {"$enum": _class_path(type(value)), "value": _encode(value.value, blobs)}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, pd.Timestamp):
        return {"$ts": value.isoformat() if value is not pd.NaT else None,
                "tz": None if value.tz is None else str(value.tz)}
    if value is pd.NaT:
        return {"$ts": None, "tz": None}
    if isinstance(value, datetime):  # the offset in the text, the zone's name beside it
        return {"$datetime": value.isoformat(), "tz": getattr(value.tzinfo, "key", None)}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, pd.DataFrame):
        data, meta = _frame_bytes(value)
        blobs.append(data)
        return {"$df": len(blobs) - 1, **meta}
    if isinstance(value, pd.Series):
        data, meta = _frame_bytes(value.to_frame(name=0 if value.name is None else value.name))
        blobs.append(data)
        return {"$series": len(blobs) - 1, "unnamed": value.name is None, **meta}
    if isinstance(value, np.ndarray):
        if value.dtype == object:
            raise Uncacheable("an object array")
        return {"$nd": value.tolist(), "dtype": value.dtype.str}
    if isinstance(value, tuple):
        return {"$tuple": [_encode(v, blobs) for v in value]}
    if isinstance(value, list):
        return {"$list": [_encode(v, blobs) for v in value]}
    if isinstance(value, dict):
        return {"$dict": [[_encode(k, blobs), _encode(v, blobs)] for k, v in value.items()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        if not cls.__module__.startswith("workbench"):
            raise Uncacheable(f"a {cls.__name__}")
        return {"$dc": _class_path(cls),
                "fields": {f.name: _encode(getattr(value, f.name), blobs)
                           for f in dataclasses.fields(value)}}
    raise Uncacheable(f"a {type(value).__name__}")


def _decode(value: Any, blobs: dict[int, Callable[[], bytes]]) -> Any:
    if not isinstance(value, dict):
        return value
    if "$tuple" in value:
        return tuple(_decode(v, blobs) for v in value["$tuple"])
    if "$list" in value:
        return [_decode(v, blobs) for v in value["$list"]]
    if "$dict" in value:
        return {_decode(k, blobs): _decode(v, blobs) for k, v in value["$dict"]}
    if "$date" in value:
        return date.fromisoformat(value["$date"])
    if "$datetime" in value:
        moment = datetime.fromisoformat(value["$datetime"])
        return moment.astimezone(ZoneInfo(value["tz"])) if value["tz"] else moment
    if "$ts" in value:
        if value["$ts"] is None:
            return pd.NaT
        stamp = pd.Timestamp(value["$ts"])
        return stamp.tz_convert(value["tz"]) if value["tz"] else stamp
    if "$df" in value:
        return _frame_from(blobs[value["$df"]](), value)
    if "$series" in value:
        frame = _frame_from(blobs[value["$series"]](), value)
        series = frame.iloc[:, 0]
        return series.rename(None) if value["unnamed"] else series
    if "$nd" in value:
        return np.array(value["$nd"], dtype=np.dtype(value["dtype"]))
    if "$enum" in value:
        return _find_class(value["$enum"], kind="enum")(_decode(value["value"], blobs))
    if "$dc" in value:
        cls = _find_class(value["$dc"], kind="dc")
        names = {f.name for f in dataclasses.fields(cls)}
        fields = value["fields"]
        if set(fields) != names:  # the class changed since the file was written
            raise ValueError(f"fields of {value['$dc']} changed")
        obj = object.__new__(cls)
        for name, item in fields.items():
            object.__setattr__(obj, name, _decode(item, blobs))
        return obj
    raise ValueError(f"unknown node {sorted(value)[:3]}")


def encode(result: Any) -> bytes:
    """Return a result as the cache's zip bytes; :class:`Uncacheable` if it cannot be."""
    blobs: list[bytes] = []
    tree = _encode(result, blobs)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(_TREE, json.dumps(tree, ensure_ascii=False))
        for i, blob in enumerate(blobs):
            z.writestr(f"{i}.arrow", blob)
    return buf.getvalue()


def decode(data: bytes | Path) -> Any:
    """Return the result held in cache bytes (or a file); ``ValueError`` if it is not one."""
    source = data if isinstance(data, Path) else io.BytesIO(data)
    try:
        with zipfile.ZipFile(source) as z:
            infos = {i.filename: i for i in z.infolist()}
            if _TREE not in infos or sum(i.file_size for i in infos.values()) > MAX_FILE:
                raise ValueError("not a page result, or too large")
            tree = json.loads(z.read(_TREE).decode("utf-8"))
            blobs = {int(n.removesuffix(".arrow")): (lambda n=n: z.read(n))
                     for n in infos if n.endswith(".arrow")}
            return _decode(tree, blobs)
    except (zipfile.BadZipFile, KeyError, TypeError, AttributeError, LookupError,
            json.JSONDecodeError, UnicodeDecodeError, OSError) as exc:
        raise ValueError(f"not a page result: {type(exc).__name__}") from None


# ---------------------------------------------------------------------------------- files
def _path(store: str, version: str, key: str) -> Path:
    return cache_dir(store) / f"{version}-{key}{SUFFIX}"  # type: ignore[operator]


def load(store: str, entry: tuple[str, str] | None) -> Any | None:
    """Return the cached result for ``entry`` (from :func:`result_key`), or ``None``."""
    if entry is None or not enabled():
        return None
    path = _path(store, *entry)
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE:
            return None
        return decode(path)
    except Exception as exc:  # a damaged or foreign file: compute instead, say so in the log
        log.warning("page cache: ignoring %s (%s)", path.name, exc)
        return None


def save(store: str, entry: tuple[str, str] | None, result: Any) -> bool:
    """Write ``result`` for ``entry``; return whether it was written (never raises)."""
    if entry is None or not enabled():
        return False
    folder = cache_dir(store)
    try:
        data = encode(result)
    except Uncacheable as exc:
        log.info("page cache: not caching a %s (%s)", type(result).__name__, exc)
        return False
    if folder.is_symlink():  # type: ignore[union-attr]
        log.info("page cache: %s is a link; not writing through it", folder)
        return False
    try:
        folder.mkdir(mode=0o700, exist_ok=True)  # type: ignore[union-attr]
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=SUFFIX, dir=folder)
        try:
            with os.fdopen(fd, "wb") as fh:  # mkstemp: mode 0600
                fh.write(data)
            os.replace(tmp, _path(store, *entry))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        _prune(folder, entry[0])  # type: ignore[arg-type]
        return True
    except OSError as exc:
        log.info("page cache: cannot write in %s (%s)", folder, exc)
        return False


def _prune(folder: Path, version: str) -> None:
    """Remove results of other store versions or code, and the oldest beyond :data:`MAX_FILES`."""
    current = []
    for path in folder.glob(f"*{SUFFIX}"):
        if path.name.startswith(".tmp-"):
            if time.time() - path.stat().st_mtime > 3600:  # a killed writer's leftover
                path.unlink(missing_ok=True)
        elif not path.name.startswith(version + "-"):
            path.unlink(missing_ok=True)
        else:
            current.append(path)
    if len(current) > MAX_FILES:
        current.sort(key=lambda p: p.stat().st_mtime)
        for path in current[:len(current) - MAX_FILES]:
            path.unlink(missing_ok=True)


def clear(store: str) -> int:
    """Remove every cached result of ``store``; return how many were removed."""
    folder = cache_dir(store)
    if folder is None or not folder.is_dir():
        return 0
    paths: Iterable[Path] = list(folder.glob(f"*{SUFFIX}"))
    for path in paths:
        path.unlink(missing_ok=True)
    return len(list(paths))
