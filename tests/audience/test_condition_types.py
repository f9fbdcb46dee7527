"""Each condition type is one unit: fields, compiler, the options a form offers, its labels."""

from __future__ import annotations

import pytest

from workbench.audience import CONDITION_TYPES, Condition, OptionSource
from workbench.audience.conditions import (
    READS,
    customers,
    events,
    members,
    orders,
    predictions,
    recommend,
    snapshot,
    uplift,
    value_range,
)
from workbench.audience.fields import CATEGORIES, PRODUCTS
from workbench.data.schema import TABLES
from workbench.data.snapshot import SNAPSHOT_TABLE
from workbench.i18n import _catalog


def test_every_declared_type_is_registered_once():
    declared = [t.name for m in (customers, members, orders, events, snapshot, uplift, predictions,
                                 recommend, value_range)
                for t in m.TYPES]
    assert sorted(declared) == sorted(CONDITION_TYPES) and len(declared) == len(set(declared))
    # the builder's list keeps the order it always had
    assert list(CONDITION_TYPES)[:4] == ["consent", "signup", "membership", "region"]


@pytest.mark.parametrize("name", list(CONDITION_TYPES))
def test_every_type_has_its_labels_and_a_compiler(name):
    kind = CONDITION_TYPES[name]
    catalog = _catalog()
    assert kind.reads in READS and callable(kind.compile)
    assert f"audience.type.{name}" in catalog
    for spec in kind.fields:
        assert f"audience.field.{spec.name}" in catalog, spec.name
        assert f"audience.kind.{spec.kind}" in catalog, spec.kind
        for choice in spec.choices:
            if isinstance(choice, str) and spec.kind != "choices":  # statuses show as written
                assert f"audience.choice.{choice}" in catalog, choice


@pytest.mark.parametrize("name", list(CONDITION_TYPES))
def test_a_condition_added_in_a_form_is_valid(name):
    kind = CONDITION_TYPES[name]
    start = {k: v for k, v in kind.initial().items() if not kind.spec(k).required or v}
    required_texts = {s.name: ["x"] for s in kind.fields if s.required and s.kind == "texts"}
    required_text = {s.name: "q" for s in kind.fields if s.required and s.kind == "text"}
    c = Condition.make(name, **{**start, **required_texts, **required_text})
    assert c.kind is kind


def test_snapshot_conditions_read_columns_the_snapshot_has():
    columns = set(TABLES[SNAPSHOT_TABLE].names)
    for kind in snapshot.TYPES:
        (source,) = kind.spec("values").options
        assert source.table == SNAPSHOT_TABLE and source.column in columns, kind.name


def test_options_come_from_the_store(tiny):
    region = CONDITION_TYPES["region"].spec("values")
    assert region.read_options(tiny) == [("대구", "대구"), ("부산", "부산"), ("서울", "서울")]
    assert CATEGORIES.read(tiny) == [("beauty", "beauty"), ("food", "food"), ("pet", "pet")]
    assert PRODUCTS.read(tiny) == [("P1 시카 크림", "P1"), ("P2 현미", "P2"), ("P3 사료", "P3")]
    keys = CONDITION_TYPES["replenishment_due"].spec("keys")
    assert keys.searchable() and [v for _, v in keys.read_options(tiny)] == [
        "beauty", "food", "pet", "P1", "P2", "P3"]
    tier = CONDITION_TYPES["tier"].spec("values")
    assert [v for _, v in tier.read_options(tiny)] == ["bronze", "gold", "silver"]
    # a store without the table or the column offers nothing (the form shows the chosen values)
    assert OptionSource("nowhere", "x").read(tiny) == []
    assert OptionSource("customers", "no_column").read(tiny) == []
    assert OptionSource("customers", "region").read(None) == []


def test_labels_follow_the_language():
    cart = CONDITION_TYPES["cart"]
    assert (cart.label("en"), cart.label("ko")) == ("Cart contents", "장바구니")
