r"""Read user-written YAML and TOML definitions with a bounded cost and clear refusals.

Saved audiences, column mappings, segment and tier rules and ``workbench.toml`` are small files
that people write by hand. Each is read through :func:`read_yaml` or :func:`read_toml`, which

1. refuse a file bigger than ``max_bytes`` (:data:`MAX_BYTES`) before reading it;
2. decode UTF-8 (with or without a byte-order mark) and name the first byte that is not UTF-8
   (a CP949 export, a binary file);
3. parse YAML with ``_Loader``, a ``yaml.SafeLoader`` that refuses anchors and aliases
   (a 1 KB "billion laughs" file otherwise expands to gigabytes), duplicate keys (PyYAML keeps
   the last value silently), tags other than the core ones, nesting deeper than ``max_depth``
   and more than ``max_nodes`` values; dates stay text, so ``2026-13-45`` reaches the caller's
   validation instead of failing inside PyYAML;
4. parse TOML with :mod:`tomllib`, turning its errors (and a ``RecursionError`` on deeply
   nested arrays) into messages with the line.

Every refusal is a :class:`UserFileError`: a :class:`~workbench.errors.ParameterError` (so an
:class:`~workbench.errors.InputError`, exit code 2 on the command line) whose message is the
caller's ``context`` message (fields ``path`` and ``detail``) in the active language. File
content appears in messages only as a short, truncated value (:func:`short`).

Examples
--------
>>> parse_yaml("a: 1\nb: [x, 2026-11-16]\n", source="x.yaml")
{'a': 1, 'b': ['x', '2026-11-16']}
>>> parse_yaml("a: &x [1]\nb: *x\n", source="x.yaml", language="en")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
workbench._userfiles.UserFileError: file 'x.yaml': line 1: YAML anchors (&) and aliases (*) ...
>>> parse_yaml("a: 1\na: 2\n", source="x.yaml", language="en")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
workbench._userfiles.UserFileError: file 'x.yaml': line 2: the key 'a' appears twice (first ...
"""

from __future__ import annotations

import codecs
import os
import re
import stat
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from workbench.errors import ParameterError
from workbench.i18n import tr

__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "UserFileError", "parse_toml", "parse_yaml",
           "read_text", "read_toml", "read_yaml", "short"]

#: Largest definition file read (256 KiB): the biggest shipped definition is about 3 KB.
MAX_BYTES = 256 * 1024
#: Deepest nesting of lists and mappings; audience rules nest a few groups, mappings three.
MAX_DEPTH = 50
#: Most values (scalars, lists and mappings) in one YAML file: a shipped recipe holds under 50,
#: and PyYAML (pure Python) composes about 20,000 a second on a busy 2-core machine.
MAX_NODES = 10_000
#: Context message used when the caller gives none (fields ``path`` and ``detail``).
DEFAULT_CONTEXT = "load.file.invalid"
_SHORT = 40
_YAML = "tag:yaml.org,2002:"
_CORE_TAGS = frozenset(_YAML + t for t in ("null", "bool", "int", "float", "str", "seq", "map"))


class UserFileError(ParameterError):
    """A user-written definition file cannot be used; ``detail`` says why (and the line).

    ``path`` is the file named in the message, ``detail`` the translated reason without the
    file (what ``workbench audience list`` shows beside an invalid file).
    """

    def __init__(self, message: str, *, path: str, detail: str) -> None:
        super().__init__(message)
        self.path = path
        self.detail = detail


def short(value: Any, limit: int = _SHORT) -> str:
    """Return ``repr(value)`` cut to ``limit`` characters, for quoting file content in messages.

    >>> short("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"
    """
    text = repr(value)
    if len(text) <= limit:
        return text
    tail = text[0] if text[0] in "'\"" else ""
    return text[:limit - 3 - len(tail)] + "..." + tail


def _fail(source: str, detail: str, context: str, language: str | None,
          line: int | None = None) -> UserFileError:
    if line is not None:
        detail = tr("load.file.at_line", language=language, line=line, detail=detail)
    return UserFileError(tr(context, language=language, path=source, detail=detail),
                         path=source, detail=detail)


# -- bytes and text -----------------------------------------------------------------------------


def read_text(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES,
              context: str = DEFAULT_CONTEXT, language: str | None = None) -> str:
    r"""Return a file's text, refusing big, special or non-UTF-8 files.

    Parameters
    ----------
    path
        The file.
    max_bytes
        Largest size accepted; a bigger file is refused before it is read.
    context
        Message key wrapping the reason, with fields ``path`` and ``detail``.
    language
        Language of the message (default: the active one).

    Returns
    -------
    str
        The text, without a UTF-8 byte-order mark.

    Raises
    ------
    UserFileError
        The file cannot be opened, is not a regular file, is too big, or is not UTF-8.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     p = Path(d) / "x.yaml"
    ...     _ = p.write_bytes(codecs.BOM_UTF8 + "name: 서울\n".encode())
    ...     read_text(p)
    'name: 서울\n'
    """
    source = str(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise _fail(source, tr("load.file.not_a_file", language=language), context,
                        language)
        if info.st_size > max_bytes:
            raise _fail(source, tr("load.file.too_big", language=language, size=info.st_size,
                                   limit=max_bytes), context, language)
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # the file may have grown since the stat
    except OSError as exc:
        raise _fail(source, tr("load.file.unreadable", language=language,
                               error=exc.strerror or type(exc).__name__), context,
                    language) from None
    if len(data) > max_bytes:
        raise _fail(source, tr("load.file.too_big", language=language, size=len(data),
                               limit=max_bytes), context, language)
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        raise _fail(source, tr("load.file.not_utf8", language=language, offset=offset,
                               bytes=data[offset:offset + 4].hex(" ")),
                    context, language, line=data.count(b"\n", 0, offset) + 1) from None


# -- YAML ---------------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, mark: Any, detail: str) -> None:
        super().__init__(detail)
        self.line = mark.line + 1 if mark is not None else None
        self.detail = detail


@cache
def _loader_class() -> type:
    """Return :class:`_Loader`, built once on first use."""
    class _Loader(yaml.SafeLoader):
        """``yaml.SafeLoader`` without aliases, duplicate keys, exotic tags, dates or runaway size.

        Implicit resolution keeps null, bool, int and float; timestamps, merge keys (``<<``) and
        ``=`` stay text, so only the core tags of :data:`_CORE_TAGS` can come out of a file.
        """

        yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag in _CORE_TAGS]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}

        def __init__(self, text: str, *, max_depth: int, max_nodes: int,
                     language: str | None) -> None:
            super().__init__(text)
            self.max_depth, self.max_nodes, self.language = max_depth, max_nodes, language
            self.depth = self.nodes = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            """Compose one node after checking anchors, aliases, tags, depth and count."""
            event = self.peek_event()
            lang = self.language
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
                raise _Refused(event.start_mark, tr("load.file.alias", language=lang))
            tag = getattr(event, "tag", None)
            if tag not in (None, "!") and tag not in _CORE_TAGS:
                shown = "!!" + tag[len(_YAML):] if tag.startswith(_YAML) else tag
                raise _Refused(event.start_mark, tr("load.file.tag", language=lang,
                                                    tag=short(shown)))
            self.nodes += 1
            if self.nodes > self.max_nodes:
                raise _Refused(event.start_mark, tr("load.file.too_many_values", language=lang,
                                                    limit=self.max_nodes))
            self.depth += 1
            if self.depth > self.max_depth:
                raise _Refused(event.start_mark, tr("load.file.too_deep", language=lang,
                                                    limit=self.max_depth))
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

        def construct_mapping(self, node: Any, deep: bool = False) -> dict:
            """Construct a mapping, refusing a key that appears twice."""
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: PyYAML's own error names it
                    continue
                if first is not None:
                    raise _Refused(key_node.start_mark, tr(
                        "load.file.duplicate_key", language=self.language, name=short(key),
                        first=first))
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    return _Loader


def _syntax_problem(exc: yaml.YAMLError) -> tuple[str, int | None]:
    # PyYAML's str(exc) quotes the offending lines of the file; keep only the problem.
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
    return " ".join(str(problem).split())[:120], (mark.line + 1 if mark is not None else None)


def parse_yaml(text: str, *, source: str, context: str = DEFAULT_CONTEXT,
               max_depth: int = MAX_DEPTH, max_nodes: int = MAX_NODES,
               language: str | None = None) -> Any:
    r"""Parse one YAML document safely (see the module docstring for what is refused).

    Parameters
    ----------
    text
        The YAML text.
    source
        Name of the file, for messages.
    context
        Message key wrapping the reason, with fields ``path`` and ``detail``.
    max_depth
        Deepest nesting of lists and mappings accepted.
    max_nodes
        Most values accepted.
    language
        Language of the message (default: the active one).

    Returns
    -------
    Any
        The data: ``None``, ``bool``, ``int``, ``float``, ``str``, lists and dicts.

    Raises
    ------
    UserFileError
        The text is not valid YAML or uses something refused; the message gives the line.

    Examples
    --------
    >>> parse_yaml("created_at: 2026-13-45\nn: ~\n", source="x.yaml")
    {'created_at': '2026-13-45', 'n': None}
    >>> parse_yaml("!!python/object/apply:os.system [ls]", source="x",
    ...            language="en")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    workbench._userfiles.UserFileError: file 'x': line 1: the tag '!!python/object/apply:os...
    """
    loader = None
    try:
        loader = _loader_class()(text, max_depth=max_depth, max_nodes=max_nodes, language=language)
        return loader.get_single_data()
    except _Refused as exc:
        raise _fail(source, exc.detail, context, language, line=exc.line) from None
    except yaml.reader.ReaderError as exc:  # a control character; the file is not text
        code = ord(exc.character) if isinstance(exc.character, str) else exc.character
        raise _fail(source, tr("load.file.control_char", language=language, char=f"U+{code:04X}"),
                    context, language, line=text.count("\n", 0, exc.position) + 1) from None
    except yaml.YAMLError as exc:
        problem, line = _syntax_problem(exc)
        raise _fail(source, tr("load.file.syntax", language=language, format="YAML",
                               error=problem), context, language, line=line) from None
    finally:
        if loader is not None:
            loader.dispose()


def read_yaml(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES,
              context: str = DEFAULT_CONTEXT, language: str | None = None, **limits: int
              ) -> Any:
    """Read and parse a YAML file with :func:`read_text` and :func:`parse_yaml`.

    ``limits`` are ``max_depth`` and ``max_nodes``; the other parameters are those of
    :func:`read_text`.
    """
    text = read_text(path, max_bytes=max_bytes, context=context, language=language)
    return parse_yaml(text, source=str(path), context=context, language=language, **limits)


# -- TOML ---------------------------------------------------------------------------------------

_TOML_WHERE = re.compile(r"\s*\(at (?:line (\d+), column \d+|end of document)\)$")


def _depth(value: Any) -> int:
    """Return how deeply lists and tables nest (walked without recursion)."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        node, level = todo.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level + 1)
            todo += [(v, level + 1) for v in (node.values() if isinstance(node, dict) else node)]
    return deepest


def parse_toml(text: str, *, source: str, context: str = DEFAULT_CONTEXT,
               max_depth: int = MAX_DEPTH, language: str | None = None) -> dict[str, Any]:
    r"""Parse TOML text, turning :mod:`tomllib` errors into messages with the line.

    Parameters are those of :func:`parse_yaml` (TOML has no aliases, and its size bounds the
    number of values).

    Examples
    --------
    >>> parse_toml("a = 1\nb = [1,\n", source="x.toml", language="en")
    Traceback (most recent call last):
    ...
    workbench._userfiles.UserFileError: file 'x.toml': line 3: not valid TOML (Invalid value).
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_WHERE.search(message)
        line = (int(where.group(1)) if where and where.group(1)
                else text.count("\n") + 1)  # "end of document"
        problem = message[:where.start()] if where else message
        raise _fail(source, tr("load.file.syntax", language=language, format="TOML",
                               error=" ".join(problem.split())[:120]),
                    context, language, line=line) from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively
        raw = None
    if raw is None or _depth(raw) > max_depth:
        raise _fail(source, tr("load.file.too_deep", language=language, limit=max_depth),
                    context, language)
    return raw


def read_toml(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES,
              context: str = DEFAULT_CONTEXT, language: str | None = None,
              max_depth: int = MAX_DEPTH) -> dict[str, Any]:
    """Read and parse a TOML file with :func:`read_text` and :func:`parse_toml`."""
    text = read_text(path, max_bytes=max_bytes, context=context, language=language)
    return parse_toml(text, source=str(Path(path)), context=context, max_depth=max_depth,
                      language=language)
