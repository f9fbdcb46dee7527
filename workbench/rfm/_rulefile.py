"""Rule files people edit (segment and tier rules): reading them, and the checks they share.

Both are TOML files of ``[[segment]]`` or ``[[tier]]`` tables with a snake_case ``id``, a fixed
set of keys and ``en``/``ko`` texts. Reading is bounded and UTF-8 checked
(:mod:`workbench._userfiles`); every refusal names the file, the table's number and id, and the
fix, in the active language, and quotes file content only in short
(:func:`workbench._userfiles.short`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

from workbench._userfiles import parse_toml, read_text, short
from workbench.errors import InputError, ParameterError
from workbench.i18n import tr

__all__ = ["LANGUAGES", "RuleFile", "RuleSet"]

#: Languages every text of a rule file is given in.
LANGUAGES = ("en", "ko")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class RuleFile:
    """One rule file being read: where it came from, and the checks worded for its kind.

    Parameters
    ----------
    kind
        ``segment`` or ``tier``: the name of its tables (``[[segment]]``) and of its messages
        (``rfm.rules.<kind>.*``).
    source
        The path shown in messages.
    """

    def __init__(self, kind: str, source: str) -> None:
        self.kind, self.source = kind, source

    @classmethod
    def read(cls, kind: str, path: str | Path | None, *, default_text: Callable[[], str],
             default_source: str) -> tuple[RuleFile, dict[str, Any]]:
        """Return the file and its parsed TOML (``default_text()`` when ``path`` is ``None``).

        Raises
        ------
        InputError
            The file does not exist or is not UTF-8 TOML.
        """
        source = default_source if path is None else str(path)
        if path is not None and not Path(path).is_file():
            raise InputError(tr(f"rfm.rules.{kind}.missing_file", source=repr(source)))
        text = default_text() if path is None else read_text(path)  # bounded, UTF-8 checked
        return cls(kind, source), parse_toml(text, source=source)

    def tables(self, raw: dict[str, Any]) -> list[Any]:
        """Return the ``[[kind]]`` tables of the parsed file.

        Raises
        ------
        InputError
            There is none.
        """
        tables = raw.get(self.kind)
        if not isinstance(tables, list) or not tables:
            raise self.fail(f"{self.kind}.no_tables", source=repr(self.source))
        return tables

    def where(self, number: int, rule_id: str | None = None) -> str:
        """Return "segment rules 'file', rule 3 ('at_risk')" in the active language."""
        text = tr(f"rfm.rules.{self.kind}.where", source=repr(self.source), number=number)
        return text if rule_id is None else f"{text} ({short(rule_id)})"

    @staticmethod
    def fail(message: str, **fields: Any) -> InputError:
        """Return the error ``rfm.rules.<message>`` with ``fields`` (its ``where`` among them)."""
        return InputError(tr(f"rfm.rules.{message}", **fields))

    def table(self, table: Any, number: int, *, keys: set[str], example_id: str) -> str:
        """Check a table's type, id and keys; return its id.

        Raises
        ------
        InputError
            Not a table, an id that is not snake_case, or a key that is not in ``keys``.
        """
        where = self.where(number)
        if not isinstance(table, dict):
            raise self.fail("not_table", where=where, kind=self.kind, got=short(table))
        rule_id = table.get("id")
        if not isinstance(rule_id, str) or not _ID.match(rule_id):
            raise self.fail("bad_id", where=where, example=repr(example_id), got=short(rule_id))
        unknown = sorted(set(table) - keys)
        if unknown:
            raise self.fail("unknown_keys", where=self.where(number, rule_id), unknown=unknown,
                            allowed=sorted(keys))
        return rule_id

    def texts(self, value: Any, name: str, where: str, *,
              example: tuple[str, str] = ("...", "...")) -> dict[str, str]:
        """Return ``{"en": ..., "ko": ...}`` from a table of non-empty texts.

        Raises
        ------
        InputError
            A language is missing or empty; the message shows ``example`` as the fix.
        """
        if not isinstance(value, dict) or not all(
                isinstance(value.get(lang), str) and value[lang].strip() for lang in LANGUAGES):
            raise self.fail("texts", where=where, name=name, got=short(value), en=example[0],
                            ko=example[1])
        return {lang: value[lang] for lang in LANGUAGES}

    def unique(self, ids: Sequence[str]) -> None:
        """Refuse an id used by an earlier table.

        Raises
        ------
        InputError
            Names the first repeated id and its table's number.
        """
        seen: set[str] = set()
        for number, rule_id in enumerate(ids, start=1):
            if rule_id in seen:
                raise self.fail(f"{self.kind}.duplicate", where=self.where(number),
                                id=repr(rule_id))
            seen.add(rule_id)


class RuleSet:
    """What loaded segment and tier rules share: rules in their order, found by id.

    Subclasses are frozen dataclasses with ``rules`` (each with an ``id``) and ``source``.
    """

    kind: ClassVar[str]
    rules: tuple[Any, ...]
    source: str

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    @property
    def ids(self) -> tuple[str, ...]:
        """Ids in rule order, which is also the display order (tiers: highest first)."""
        return tuple(rule.id for rule in self.rules)

    def find(self, rule_id: str) -> Any:
        """Return the rule with ``rule_id``.

        Raises
        ------
        ParameterError
            No rule has that id; the message lists the ids there are.
        """
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise ParameterError(tr(f"rfm.rules.{self.kind}.unknown", source=self.source,
                                id=repr(rule_id), known=list(self.ids)))
