"""Write the data contract's documents, in English and Korean, from :mod:`workbench.data.schema`.

``docs/data-contract.md`` and ``docs/data-contract.ko.md`` describe the canonical tables (in
load order) and the per-customer snapshot: each table's description and key, and per column
its type, marks (key, required, money, personal data, non-negative), allowed values and
description. The schema is the single source: a test regenerates both files and compares them
with the committed ones, and checks that every snapshot column is described in both languages.
Run ``python -m workbench.data.contract_docs`` after adding a column.

Examples
--------
>>> text = contract_markdown("ko")
>>> text.splitlines()[0]
'# 데이터 계약'
>>> "| `customer_id` | 텍스트 (`VARCHAR`) | 키, 필수 |" in text
True
"""

from __future__ import annotations

import sys
from pathlib import Path

from workbench.data.schema import CANONICAL_TABLES, SQL_TYPES, TABLES, Column, Table
from workbench.i18n import tr

__all__ = ["DOC_FILES", "DOCUMENTED_TABLES", "contract_markdown", "write_contract_docs"]

#: The tables the documents describe, in order: the canonical ones, then the snapshot.
DOCUMENTED_TABLES = (*CANONICAL_TABLES, "snapshot_customers")
#: Language -> file name under ``docs/``.
DOC_FILES = {"en": "data-contract.md", "ko": "data-contract.ko.md"}


def _cell(text: str) -> str:
    """Return ``text`` safe inside a Markdown table cell (pipes escaped, one line)."""
    return " ".join(text.replace("|", "\\|").split())


def _description(item: Column | Table, language: str) -> str:
    # a Korean line not written yet falls back to the English one rather than a blank cell
    if language == "ko" and item.description_ko:
        return item.description_ko
    return item.description


def _column_row(table: Table, column: Column, language: str) -> str:
    kind = f"{tr(f'contract.kind.{column.kind}', language=language)} (`{SQL_TYPES[column.kind]}`)"
    flags = (("key", column.name in table.key), ("required", column.required),
             ("money", column.money), ("pii", column.pii), ("nonnegative", column.nonnegative))
    marks = ", ".join(tr(f"contract.mark.{name}", language=language) for name, on in flags if on)
    text = _description(column, language)
    if column.allowed:
        allowed = ", ".join(f"`{v}`" for v in column.allowed)
        text = f"{text} ({tr('contract.allowed', language=language)}: {allowed})".lstrip()
    return f"| `{column.name}` | {kind} | {marks} | {_cell(text)} |"


def _table_section(table: Table, language: str) -> list[str]:
    key = ", ".join(f"`{k}`" for k in table.key)
    out = [f"## {table.name}", "", _description(table, language), ""]
    if not table.canonical:
        out += [tr("contract.snapshot_note", language=language), ""]
    out += [f"{tr('contract.key', language=language)}: {key}", ""]
    head = [tr(f"contract.{h}", language=language)
            for h in ("column", "type", "mark_header", "description")]
    out += ["| " + " | ".join(head) + " |", "| --- | --- | --- | --- |"]
    out += [_column_row(table, c, language) for c in table.columns]
    return [*out, ""]


def contract_markdown(language: str = "en") -> str:
    """Return the data contract as Markdown in ``language`` (``en`` or ``ko``)."""
    tables = [TABLES[name] for name in DOCUMENTED_TABLES]
    out = [f"# {tr('contract.title', language=language)}", "",
           tr("contract.generated", language=language), "",
           tr("contract.intro", language=language), "",
           tr("contract.marks", language=language), "",
           f"{tr('contract.tables', language=language)}: "
           + ", ".join(f"[{t.name}](#{t.name})" for t in tables), ""]
    for table in tables:
        out += _table_section(table, language)
    return "\n".join(out).rstrip("\n") + "\n"


def write_contract_docs(folder: str | Path | None = None) -> list[Path]:
    """Write both documents into ``folder`` (default: the project's ``docs/``); return the paths."""
    target = Path(folder) if folder is not None else Path(__file__).resolve().parents[2] / "docs"
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for language, name in DOC_FILES.items():
        path = target / name
        path.write_text(contract_markdown(language), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":  # python -m workbench.data.contract_docs [FOLDER]
    for written in write_contract_docs(sys.argv[1] if len(sys.argv) > 1 else None):
        sys.stdout.write(f"{written}\n")
