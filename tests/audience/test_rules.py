"""Definitions: validation with clear errors, YAML round trips, versions and migrations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from workbench.audience import (
    CONDITION_TYPES,
    RECIPES,
    AudienceDefinition,
    Condition,
    Group,
    list_definitions,
    load_definition,
    load_recipe,
    save_definition,
)
from workbench.audience.durations import duration
from workbench.audience.migration import migrate
from workbench.errors import InputError, ParameterError

BAD = [
    ("unknown type", lambda: Condition.make("order", min_count=1),
     "unknown condition type 'order'.*Did you mean 'orders'"),
    ("unknown field", lambda: Condition.make("orders", min_cnt=1),
     r"condition 'orders': unknown field\(s\) \['min_cnt'\].*Did you mean 'min_count'"),
    ("not a number", lambda: Condition.make("orders", min_count="many"),
     "'min_count' must be a whole number; got 'many'. Fix: write a number"),
    ("fraction for a count", lambda: Condition.make("orders", min_count=1.5),
     "'min_count' must be a whole number"),
    ("negative", lambda: Condition.make("orders", min_count=-1), "'min_count' must be at least 0"),
    ("inverted range", lambda: Condition.make("orders", min_count=3, max_count=1),
     r"'min_count' \(3\) is greater than 'max_count' \(1\)"),
    ("inverted window", lambda: Condition.make("orders", from_ago="7d", to_ago="14d"),
     "the window starts .* at or after it ends.*from 14d to 7d"),
    ("bad duration", lambda: Condition.make("signup", from_ago="two weeks"),
     "'from_ago' must be a duration such as '14d'"),
    ("bad channel", lambda: Condition.make("consent", channel="smss"),
     "'channel' must be one of .*Did you mean 'sms'"),
    ("missing value", lambda: Condition.make("region"), "'values' is required"),
    ("bad status", lambda: Condition.make("orders", statuses=["paid", "shiped"]),
     "'shiped' is not allowed.*Did you mean 'shipped'"),
    ("bad month", lambda: Condition.make("birthday_month", month=13), "'month' must be one of"),
    ("empty cart", lambda: Condition.make("cart", min_items=0), "'min_items' must be at least 1"),
    ("bool as text", lambda: Condition.make("membership", is_member="yes"),
     "'is_member' must be true or false"),
    ("bad name", lambda: AudienceDefinition("Cart Abandoners!"), "'name' must be 1-64 lower-case"),
    ("injection in name", lambda: AudienceDefinition("x'; DROP TABLE customers; --"),
     "'name' must be"),
    ("bad channel on definition", lambda: AudienceDefinition("x", channel="fax"),
     "'channel' must be one of"),
    ("bad op", lambda: Group("xor"), "'op' must be 'and' or 'or'"),
]


@pytest.mark.parametrize("make,match", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_errors_name_the_field_and_the_fix(make, match):
    with pytest.raises(ParameterError, match=match):
        make()


def test_every_type_builds_with_its_defaults():
    required = {"channel": "sms", "values": ["x"], "query": "q", "products": ["P1"]}
    for name, ctype in CONDITION_TYPES.items():
        fields = {f.name: required[f.name] for f in ctype.fields if f.required}
        c = Condition.make(name, **fields)
        assert Condition.make(name, **{k: v for k, v in c.to_dict().items() if k != "type"}) == c


def test_yaml_round_trip_and_no_code_execution():
    d = load_recipe("vip").replace(description="설명 with 'quotes' and: colons")
    assert AudienceDefinition.from_yaml(d.to_yaml()) == d
    with pytest.raises(InputError, match="not valid YAML"):
        AudienceDefinition.from_yaml("name: [unclosed")
    # A Python tag is refused before anything is constructed, never executed.
    with pytest.raises(InputError, match="the tag '!!python/object/apply:os.system' is not "
                                         "allowed"):
        AudienceDefinition.from_yaml("!!python/object/apply:os.system ['echo hacked']")


def test_file_errors_name_the_file_and_item(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("name: x\nrules:\n  op: and\n  conditions:\n  - {type: orders, min_count: "
                    "lots}\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"x.yaml': audience 'x': rules, item 1: condition "
                                             r"'orders': 'min_count' must be a whole number"):
        load_definition(path)


def test_save_versions_and_duplicates(tmp_path):
    t0, t1 = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)
    d = load_recipe("vip").replace(name="my_vip", author="kim")
    first = save_definition(d, tmp_path, now=t0)
    assert (first.version, first.created_at, first.updated_at) == (1, t0, t0)
    assert save_definition(d, tmp_path, now=t1) == first  # unchanged content: no new version
    changed = d.replace(description="VIP, 4+ orders")
    second = save_definition(changed, tmp_path, now=t1)
    assert (second.version, second.created_at, second.updated_at) == (2, t0, t1)
    assert load_definition("my_vip", tmp_path) == second
    save_definition(second.replace(name="my_vip_copy", created_at=None), tmp_path, now=t1)
    assert [p.stem for p in list_definitions(tmp_path)] == ["my_vip", "my_vip_copy"]
    with pytest.raises(InputError, match="not found.*Did you mean 'my_vip'"):
        load_definition("my_vipp", tmp_path)


def test_loading_a_version_1_file(tmp_path):
    old = {"name": "old_one", "channel": "email", "match": "any", "filters": [
        {"kind": "region", "values": ["서울"]},
        {"kind": "orders", "from_ago": 90, "min_count": 3, "exclude": True}]}
    (tmp_path / "old_one.yaml").write_text(yaml.safe_dump(old, allow_unicode=True), "utf-8")
    d = load_definition("old_one", tmp_path)
    assert d.rules.op == "or" and d.channel == "email"
    assert d.rules.items[1] == Condition.make("orders", from_ago="90d", min_count=3, negate=True)
    assert AudienceDefinition.from_yaml(d.to_yaml()).to_dict()["schema_version"] == 2
    with pytest.raises(ParameterError, match="newer workbench"):
        migrate({"name": "x", "schema_version": 99})


def test_recipes_load():
    assert len(RECIPES) == 19
    for name in RECIPES:
        d = load_recipe(name)
        assert d.name == name and d.rules.conditions()
    with pytest.raises(InputError, match="Did you mean 'vip'"):
        load_recipe("vipp")


@given(st.integers(0, 5000), st.sampled_from(["h", "d", "w", ""]))
def test_duration_canonical_form_is_stable(n, unit):
    text = duration(f"{n}{unit}")
    assert duration(text) == text
    assert text.endswith(("h", "d"))
