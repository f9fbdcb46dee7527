"""The audience condition "likely to respond": top N% by the snapshot's uplift_score."""

from __future__ import annotations

import duckdb
import pytest

from tests.audience.conftest import AS_OF, SETTINGS
from tests.uplift.conftest import write_uplift_tiny
from workbench.audience import Audience, Condition, Group
from workbench.data import connect
from workbench.errors import ParameterError
from workbench.i18n import tr


def members(con, **fields) -> tuple[list[str], list[str]]:
    aud = Audience(Group("and", (Condition.make("likely_to_respond", **fields),)), con,
                   as_of=AS_OF, settings=SETTINGS)
    return sorted(aud.members(limit=None)["customer_id"]), aud.notes


# Scores: A 0.10, B 0.05, D 0.05, C -0.02, E none. Share of the scored four at or above each
# score (ties share the larger value): A 1/4, B and D 3/4, C 4/4.
@pytest.mark.parametrize(("fields", "expected"), [
    ({"top_percent": 25}, ["A"]),
    ({"top_percent": 50}, ["A"]),  # B and D tie: both out
    ({"top_percent": 75}, ["A", "B", "D"]),
    ({"top_percent": 100}, ["A", "B", "C", "D"]),
    ({"top_percent": 100, "min_score": 0.0}, ["A", "B", "D"]),
    ({"top_percent": 100, "min_score": 0.06}, ["A"]),
], ids=["top25", "ties_out", "ties_in", "all_scored", "positive", "min_score"])
def test_members(tiny_uplift, fields, expected):
    assert members(tiny_uplift, **fields)[0] == expected


def test_default_is_top_20_percent():
    assert Condition.make("likely_to_respond").params["top_percent"] == 20.0


def test_out_of_range_share_raises():
    with pytest.raises(ParameterError, match="top_percent"):
        Condition.make("likely_to_respond", top_percent=0)


def test_snapshot_without_scores_matches_nobody_with_a_note(tmp_path):
    path = tmp_path / "tiny.duckdb"
    write_uplift_tiny(path)
    raw = duckdb.connect(str(path))
    raw.execute("UPDATE snapshot_customers SET uplift_score = NULL")
    raw.close()
    con = connect(path, settings=SETTINGS)
    found, notes = members(con, top_percent=50)
    assert found == []
    assert notes == [tr("audience.note.uplift_missing")]


def test_labels_in_both_languages():
    kind = Condition.make("likely_to_respond").kind
    assert kind.label("en") == "Likely to respond" and kind.label("ko") == "반응 가능성 높음"
