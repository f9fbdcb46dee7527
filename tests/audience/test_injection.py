"""SQL injection attempts in every text field: treated as data, the tables survive, counts hold."""

from __future__ import annotations

import pytest

from tests.audience.conftest import AS_OF, SETTINGS
from workbench.audience import Audience, AudienceDefinition, Condition, Group, save_definition

ATTACKS = [
    "'; DROP TABLE customers; --",
    "\"; DROP TABLE customers; --",
    "x' OR '1'='1",
    "%",
    "_",
    "서울') OR 1=1 --",
    "\\'; DELETE FROM orders; --",
    "); DROP TABLE events; SELECT (1",
]

TEXT_FIELDS = [
    ("region", lambda a: Condition.make("region", values=[a])),
    ("tier", lambda a: Condition.make("tier", values=[a])),
    ("rfm segment", lambda a: Condition.make("rfm_segment", values=[a])),
    ("order products", lambda a: Condition.make("orders", products=[a])),
    ("order categories", lambda a: Condition.make("orders", categories=[a])),
    ("cart products", lambda a: Condition.make("cart", products=[a])),
    ("cart categories", lambda a: Condition.make("cart", categories=[a])),
    ("viewed products", lambda a: Condition.make("product_views", products=[a])),
    ("viewed categories", lambda a: Condition.make("product_views", categories=[a])),
    ("search query", lambda a: Condition.make("searches", query=a, from_ago="3650d")),
    ("replenishment keys", lambda a: Condition.make("replenishment_due", keys=[a],
                                                      min_repeats=1, due_within_days=365,
                                                      max_overdue_days=365)),
]


def _tables(con) -> dict[str, int]:
    return {t: int(con.table(t).count().execute())
            for t in ("customers", "orders", "events", "order_items")}


@pytest.mark.parametrize("attack", ATTACKS)
@pytest.mark.parametrize("make", [f[1] for f in TEXT_FIELDS], ids=[f[0] for f in TEXT_FIELDS])
def test_injection_is_just_a_value(tiny, make, attack):
    before = _tables(tiny)
    aud = Audience(Group("and", (make(attack),)), tiny, as_of=AS_OF, settings=SETTINGS)
    n = aud.count()
    sql = aud.to_sql()
    # No value matches an attack string except the search B really typed (conftest.py).
    searched = make is TEXT_FIELDS[9][1] and attack == ATTACKS[0]
    assert n == (1 if searched else 0)
    negated = Audience(Group("and", (make(attack),), negate=True), tiny, as_of=AS_OF,
                       settings=SETTINGS)
    assert negated.count() == 5 - n
    assert _tables(tiny) == before
    # The value appears in the SQL only as one quoted literal, its quotes doubled.
    literal = attack.strip().lower() if make is TEXT_FIELDS[9][1] else attack
    quoted = "'" + literal.replace("'", "''") + "'"
    assert quoted in sql


def test_free_text_fields_are_stored_as_text(tiny, tmp_path):
    attack = ATTACKS[0]
    d = AudienceDefinition("safe", rules=Group("and", (Condition.make("searches", query=attack,
                                                                      from_ago="3650d"),)),
                           description=attack, purpose=attack, author=attack)
    saved = save_definition(d, tmp_path)
    text = (tmp_path / "safe.yaml").read_text(encoding="utf-8")
    assert attack in text
    from workbench.audience import load_definition

    assert load_definition("safe", tmp_path) == saved
    assert Audience(saved, tiny, as_of=AS_OF, settings=SETTINGS).count() == 1  # B searched it
    assert _tables(tiny)["customers"] == 5
