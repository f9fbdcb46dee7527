"""The checks segment and tier rule files share: worded in the reader's language, content short."""

import re

import pytest

from workbench.errors import InputError
from workbench.i18n import set_language
from workbench.rfm import load_segment_rules, load_tier_rules
from workbench.rfm._rulefile import RuleFile


def _write(tmp_path, text, name="rules.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_where_names_the_file_the_table_and_its_id():
    file = RuleFile("tier", "my.toml")
    assert file.where(2) == "tier rules 'my.toml', tier 2"
    assert file.where(2, "gold") == "tier rules 'my.toml', tier 2 ('gold')"
    set_language("ko")
    where = RuleFile("segment", "my.toml").where(3, "vip")
    assert where == "세그먼트 규칙 'my.toml', 3번째 규칙 ('vip')"


@pytest.mark.parametrize("long_id", ["X" * 200, "x" * 200], ids=["invalid", "valid"])
def test_file_content_is_quoted_in_short(tmp_path, long_id):
    path = _write(tmp_path, f'[[tier]]\nid = "{long_id}"\nmin_spend = 0\nmin_orders = 0\n')
    with pytest.raises(InputError, match=r"'[xX]{30,}\.\.\.'") as info:
        load_tier_rules(path)
    assert long_id not in str(info.value)


def test_repeated_ids_are_found_for_both_kinds():
    with pytest.raises(InputError, match=re.escape("tier rules 'f', tier 3: id 'a' is used by "
                                                   "an earlier tier. Give each tier its own id.")):
        RuleFile("tier", "f").unique(["a", "b", "a"])
    RuleFile("segment", "f").unique(["a", "b"])  # no repeat: no error


@pytest.mark.parametrize(
    ("load", "text", "korean"),
    [
        (load_segment_rules, "version = 1\n", "[[segment]] 표가 없습니다"),
        (load_tier_rules, '[[tier]]\nid = "Gold"\n', "'id'는 'gold' 같은 snake_case 텍스트여야"),
        (load_tier_rules, '[[tier]]\nid = "a"\nmin_spend = 0\nmin_orders = 0\nlabel = 3\n',
         "'label'에는 비어 있지 않은 'en'과 'ko' 텍스트가 있어야 합니다"),
    ],
    ids=["no-segments", "tier-id", "tier-label"],
)
def test_refusals_in_korean(tmp_path, load, text, korean):
    path = _write(tmp_path, text)
    set_language("ko")
    with pytest.raises(InputError, match=re.escape(korean)) as info:
        load(path)
    assert str(path) in str(info.value)


def test_a_missing_file_in_korean():
    set_language("ko")
    # the particle follows the file name's last sound (toml: 이), not the written 이(가)
    with pytest.raises(InputError, match="세그먼트 규칙: 파일 'nope.toml'이 없습니다"):
        load_segment_rules("nope.toml")
