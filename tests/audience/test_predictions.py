"""Audience conditions and the export field on the next-order predictions of the snapshot."""

from __future__ import annotations

from datetime import timedelta

import ibis
import pandas as pd
import pytest

from tests.audience.conftest import AS_OF, SETTINGS, write_tiny
from workbench.audience import Audience, Condition, Group
from workbench.audience.personalise import FIELDS, field_columns
from workbench.data import connect, write_store
from workbench.errors import ParameterError
from workbench.i18n import tr

# Hand-made predictions. Shares "at least as likely" (ties share the larger one):
# 30 days: A 0.9 (1/4), B and D 0.6 (3/4), C 0.2 (4/4); 7 days: A .5, D .3, B .1, C .05;
# 90 days: A .95 (1/4), B .8 (2/4), D .7 (3/4), C .4 (4/4). E has none (null).
P = {"A": (0.5, 0.9, 0.95), "B": (0.1, 0.6, 0.8), "C": (0.05, 0.2, 0.4), "D": (0.3, 0.6, 0.7),
     "E": (None, None, None)}
NEXT = {"A": 3, "B": 14, "C": 40, "D": 0, "E": None}  # days after AS_OF


def _snapshot(day) -> pd.DataFrame:
    ids = list(P)
    frame = pd.DataFrame({"customer_id": ids, "as_of": [day] * len(ids)})
    for i, h in enumerate((7, 30, 90)):
        frame[f"p_order_{h}d"] = pd.array([P[c][i] for c in ids], dtype="Float64")
    frame["next_order_date"] = [None if NEXT[c] is None else day + timedelta(days=NEXT[c])
                                for c in ids]
    return frame


def write_predictions(path, day=AS_OF) -> None:
    write_tiny(path)
    with write_store(path, settings=SETTINGS) as w:
        w.reset_table("snapshot_customers")
        w.write("snapshot_customers", _snapshot(day))
        w.reset_table("snapshot_meta")
        w.write("snapshot_meta", pd.DataFrame({
            "as_of": [day], "refreshed_at": [pd.Timestamp("2026-11-16 01:00", tz="UTC")],
            "customers": [5]}))


@pytest.fixture(scope="module")
def tiny_predictions(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny_predictions") / "tiny.duckdb"
    write_predictions(path)
    con = connect(path, settings=SETTINGS)
    yield con
    con.disconnect()


def members(con, kind, **fields) -> tuple[list[str], list]:
    aud = Audience(Group("and", (Condition.make(kind, **fields),)), con, as_of=AS_OF,
                   settings=SETTINGS)
    return sorted(aud.members(limit=None)["customer_id"]), aud.notes


@pytest.mark.parametrize(("fields", "expected"), [
    ({"window_days": 30, "min_probability": 0.5}, ["A", "B", "D"]),
    ({"window_days": 30, "min_probability": None, "top_percent": 25}, ["A"]),
    ({"window_days": 30, "min_probability": None, "top_percent": 50}, ["A"]),  # B, D tie: out
    ({"window_days": 30, "min_probability": None, "top_percent": 75}, ["A", "B", "D"]),
    ({"window_days": 7, "min_probability": 0.3}, ["A", "D"]),
    ({"window_days": 90, "min_probability": 0.5, "top_percent": 50}, ["A", "B"]),
    ({"window_days": 90, "min_probability": 0.75, "top_percent": 100}, ["A", "B"]),
    ({"window_days": 90, "min_probability": 0.0}, ["A", "B", "C", "D"]),  # E: null, never
], ids=["min30", "top25", "ties_out", "ties_in", "min7", "both90", "min_top_all", "all"])
def test_likely_to_buy(tiny_predictions, fields, expected):
    assert members(tiny_predictions, "likely_to_buy", **fields)[0] == expected


@pytest.mark.parametrize(("within", "expected"), [
    (0, ["D"]), (3, ["A", "D"]), (13, ["A", "D"]), (14, ["A", "B", "D"]),
    (90, ["A", "B", "C", "D"])])
def test_next_order_due(tiny_predictions, within, expected):
    assert members(tiny_predictions, "next_order_due", within_days=within)[0] == expected


def test_defaults_and_bounds():
    c = Condition.make("likely_to_buy")
    assert (c.params["window_days"], c.params["min_probability"]) == (30, 0.5)
    assert Condition.make("next_order_due").params["within_days"] == 14
    with pytest.raises(ParameterError, match="min_probability"):
        Condition.make("likely_to_buy", min_probability=None)
    with pytest.raises(ParameterError, match="window_days"):
        Condition.make("likely_to_buy", window_days=14)


def test_an_older_snapshot_is_used_with_a_note(tmp_path):
    path = tmp_path / "old.duckdb"
    day = AS_OF - timedelta(days=2)
    write_predictions(path, day)
    con = connect(path, settings=SETTINGS)
    # dates are absolute: from the audience day (AS_OF), A (day + 3) is 1 day ahead
    found, notes = members(con, "next_order_due", within_days=1)
    assert found == ["A"]
    assert notes == [tr("audience.note.older_snapshot", type="next_order_due",
                        column="next_order_date", day=str(day), as_of=str(AS_OF))]


def test_labels_in_both_languages():
    likely = Condition.make("likely_to_buy").kind
    due = Condition.make("next_order_due").kind
    assert (likely.label("en"), likely.label("ko")) == ("Likely to buy", "구매 가능성 높음")
    assert (due.label("en"), due.label("ko")) == ("Next order expected soon",
                                                  "다음 주문 예정일 임박")
    assert tr("audience.field.window_days", language="ko") == "기간(일: 7, 30, 90)"


def test_export_field(tiny_predictions):
    ids = ibis.memtable({"customer_id": ["A", "C", "E"]})
    cells = field_columns(tiny_predictions, ids, ["next_order_date"],
                          cutoff=pd.Timestamp(AS_OF).tz_localize("Asia/Seoul"))
    assert cells["next_order_date"].to_dict() == {"A": "2026-11-19", "C": "2026-12-26"}
    assert FIELDS["next_order_date"].help("ko").startswith("90일 안에 주문한다면")
