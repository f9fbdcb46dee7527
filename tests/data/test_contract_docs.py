"""The data contract's documents: generated from the schema, both languages, every column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workbench.data.contract_docs import (
    DOC_FILES,
    DOCUMENTED_TABLES,
    contract_markdown,
    write_contract_docs,
)
from workbench.data.schema import TABLES

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("language", sorted(DOC_FILES))
def test_committed_docs_equal_a_new_run(language):
    committed = (DOCS / DOC_FILES[language]).read_text(encoding="utf-8")
    assert committed == contract_markdown(language), (
        f"docs/{DOC_FILES[language]} is out of date: run 'python -m workbench.data.contract_docs'")


def test_every_snapshot_column_is_described_in_english_and_korean():
    missing = [c.name for c in TABLES["snapshot_customers"].columns
               if not (c.description.strip() and c.description_ko.strip())]
    assert not missing, f"snapshot columns without description and description_ko: {missing}"


@pytest.mark.parametrize("table", DOCUMENTED_TABLES)
def test_every_documented_table_is_described_in_both_languages(table):
    t = TABLES[table]
    assert t.description and t.description_ko
    assert all(c.description and c.description_ko for c in t.columns), table


_HANGUL = re.compile("[\uac00-\ud7a3]")


def test_korean_descriptions_are_korean_and_the_docs_list_every_column():
    for table in DOCUMENTED_TABLES:
        for column in TABLES[table].columns:
            assert _HANGUL.search(column.description_ko), (table, column.name)
    ko, en = contract_markdown("ko"), contract_markdown("en")
    for table in DOCUMENTED_TABLES:
        assert f"## {table}\n" in ko and f"## {table}\n" in en
        for column in TABLES[table].columns:
            assert f"| `{column.name}` |" in ko
    # marks: money and personal data
    assert "| `amount` | 실수 (`DOUBLE`) | 필수, 금액, ≥ 0 | 실제 결제한 순금액 |" in ko
    assert "| `phone` | text (`VARCHAR`) | personal | Digits only, e.g. 01012345678 |" in en


def test_write_contract_docs_writes_both_files(tmp_path):
    paths = write_contract_docs(tmp_path)
    assert sorted(p.name for p in paths) == sorted(DOC_FILES.values())
    korean = (tmp_path / "data-contract.ko.md").read_text(encoding="utf-8")
    assert korean.startswith("# 데이터 계약")
