"""Segment rules: full 5 x 5 coverage, first match wins, editable files, scaling, groups."""

import itertools
import re

import ibis
import pandas as pd
import pytest

from workbench.errors import InputError, ParameterError, SchemaError
from workbench.rfm.segments import (
    assign_segments,
    customer_groups,
    grid_score,
    load_segment_rules,
    rf_grid,
    segment_summary,
)

# The published R-F grid of segments.toml (rows R = 5..1, columns F = 1..5).
GRID = {
    5: ["new", "potential_loyalist", "potential_loyalist", "champions", "champions"],
    4: ["promising", "potential_loyalist", "potential_loyalist", "loyal", "loyal"],
    3: ["about_to_sleep", "about_to_sleep", "need_attention", "loyal", "loyal"],
    2: ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
    1: ["lost", "lost", "at_risk", "at_risk", "cant_lose"],
}
ELEVEN = ["champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
          "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost"]


def _rule(rule_id, r, f, m=None, label=None):
    m_line = f"m = {m}\n" if m else ""
    label = label or rule_id.title()
    return (f'[[segment]]\nid = "{rule_id}"\nr = {r}\nf = {f}\n{m_line}'
            f'label = {{ en = "{label}", ko = "{label} 고객" }}\n'
            'description = { en = "d", ko = "설명" }\naction = { en = "a", ko = "조치" }\n\n')


def _write(tmp_path, text, name="rules.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _cells():
    r, f = zip(*itertools.product(range(1, 6), repeat=2), strict=True)
    return ibis.memtable({"r_score": list(r), "f_score": list(f), "m_score": [3] * 25})


def test_default_rules_are_the_eleven_segments_with_korean_labels():
    rules = load_segment_rules()
    assert list(rules.ids) == ELEVEN
    for rule in rules:
        assert re.fullmatch("[a-z_]+", rule.id)
        assert re.search("[가-힣]", rule.label["ko"]) and rule.label["en"]
        assert rule.description["ko"] and rule.action["ko"] and rule.action["en"]
    assert len({r.label["ko"] for r in rules}) == 11


def test_every_rf_cell_maps_to_exactly_one_segment():
    rules = load_segment_rules()
    got = assign_segments(_cells(), rules).to_pandas()
    assert len(got) == 25 and got["segment"].notna().all()
    for row in got.itertuples():
        matching = [rule.id for rule in rules if rule.matches(row.r_score, row.f_score, 3)]
        assert matching and row.segment == matching[0]  # the first match wins
        assert row.segment == GRID[row.r_score][row.f_score - 1], (row.r_score, row.f_score)
        # M does not matter to the default rules.
        assert {rules.segment_for(row.r_score, row.f_score, m) for m in range(1, 6)} == {
            row.segment}
    assert set(got["segment"]) == set(ELEVEN)


def test_first_matching_rule_wins(tmp_path):
    narrow_first = _write(tmp_path, _rule("top", "[5, 5]", "[5, 5]")
                          + _rule("rest", "[1, 5]", "[1, 5]"))
    rules = load_segment_rules(narrow_first)
    got = assign_segments(_cells(), rules).to_pandas()
    assert (got["segment"] == "top").sum() == 1 and (got["segment"] == "rest").sum() == 24
    # "loyal" (R 3-5, F 4-5) comes after "champions" in the shipped rules and loses R5 F4-5.
    default = load_segment_rules()
    assert default.segment_for(5, 4) == "champions" and default.segment_for(4, 4) == "loyal"


def test_custom_rules_with_a_monetary_range(tmp_path):
    path = _write(tmp_path, _rule("big_spenders", "[1, 5]", "[1, 5]", m="[5, 5]")
                  + _rule("everyone_else", "[1, 5]", "[1, 5]"))
    rules = load_segment_rules(path)
    scored = ibis.memtable({"r_score": [1, 1], "f_score": [1, 1], "m_score": [5, 4]})
    assert assign_segments(scored, rules).segment.to_list() == ["big_spenders", "everyone_else"]
    with pytest.raises(SchemaError, match=re.escape(
            "assign_segments: missing required columns ['m_score']; got ['r_score', 'f_score']")):
        assign_segments(scored.drop("m_score"), rules)
    assert rules.label("big_spenders", "ko") == "Big_Spenders 고객"


BROKEN = [
    ("not_toml", 'id = "x\n', "not valid TOML"),
    ("no_rules", "version = 1\n", "no [[segment]] tables found"),
    ("bad_id", _rule("At Risk", "[1, 2]", "[1, 5]"),
     "rule 1: 'id' must be snake_case text such as 'at_risk'; got 'At Risk'."),
    ("bad_range", _rule("a", "[4, 2]", "[1, 5]"),
     "rule 1 ('a'): 'r' must be [low, high] with 1 <= low <= high <= 5; got [4, 2]. "
     "Write e.g. r = [2, 4]."),
    ("out_of_grid", _rule("a", "[1, 6]", "[1, 5]"), "'r' must be [low, high]"),
    ("missing_ko", _rule("a", "[1, 5]", "[1, 5]").replace(', ko = "설명"', ""),
     "rule 1 ('a'): 'description' must have non-empty 'en' and 'ko' texts"),
    ("unknown_key", _rule("a", "[1, 5]", "[1, 5]").replace("r = ", "colour = 1\nr = "),
     "rule 1 ('a'): unknown key(s) ['colour']"),
    ("duplicate", _rule("a", "[1, 2]", "[1, 5]") + _rule("a", "[3, 5]", "[1, 5]"),
     "rule 2: id 'a' is used by an earlier rule."),
    ("gap", _rule("a", "[2, 5]", "[1, 5]"),
     "25 score cell(s) match no rule (R1 F1 M1, R1 F1 M2, R1 F1 M3, R1 F1 M4, R1 F1 M5, "
     "R1 F2 M1 ...). Widen a rule's ranges, or add a last catch-all rule"),
    ("shadowed", _rule("all", "[1, 5]", "[1, 5]") + _rule("top", "[5, 5]", "[5, 5]"),
     "rule 2 ('top'): never applies, because earlier rules already match all of its cells"),
]


@pytest.mark.parametrize(("text", "message"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_rule_files_name_the_file_the_rule_and_the_fix(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=re.escape(message)) as info:
        load_segment_rules(path)
    assert str(path) in str(info.value)


def test_missing_rule_file():
    with pytest.raises(InputError, match="segment rules: file 'nope.toml' does not exist"):
        load_segment_rules("nope.toml")


def test_shipped_file_is_valid_when_copied(tmp_path):
    from importlib import resources

    text = resources.files("workbench.rfm").joinpath("segments.toml").read_text("utf-8")
    assert load_segment_rules(_write(tmp_path, text)).ids == load_segment_rules().ids


@pytest.mark.parametrize(("bins", "expected"), [
    (5, [1, 2, 3, 4, 5]), (3, [1, 3, 5]), (2, [2, 4]), (4, [1, 2, 4, 5]),
    (10, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
], ids=["5", "3", "2", "4", "10"])
def test_scores_of_other_bins_are_scaled_to_the_grid(bins, expected):
    t = ibis.memtable({"s": list(range(1, bins + 1))})
    assert t.select(g=grid_score(t.s, bins)).g.to_list() == expected


def test_assign_segments_with_three_bins():
    scored = ibis.memtable({"r_score": [3, 3, 1, 2], "f_score": [3, 1, 1, 2]})
    got = assign_segments(scored, bins=3).segment.to_list()
    # (3, 3) -> grid (5, 5); (3, 1) -> (5, 1); (1, 1) -> (1, 1); (2, 2) -> (3, 3)
    assert got == ["champions", "new", "lost", "need_attention"]
    with pytest.raises(ParameterError, match="'bins' must be at least 2; got 1"):
        assign_segments(scored, bins=1)


def test_assign_segments_is_lazy_and_keeps_rows():
    scored = _cells()
    expr = assign_segments(scored)
    assert isinstance(expr, ibis.Table)
    assert list(expr.columns) == [*scored.columns, "segment"]


def test_customer_groups_defaults_and_thresholds():
    facts = ibis.memtable({
        "customer_id": ["a", "b", "c", "d"], "orders": [5, 1, 2, 3],
        "orders_30d": [1, 0, 2, 0], "orders_90d": [3, 1, 2, 0],
        "recency_days": [10.0, 89.9, 90.0, 200.0]})
    got = customer_groups(facts).to_pandas().set_index("customer_id")
    assert got["is_vip"].tolist() == [True, False, False, False]
    assert got["is_first_time"].tolist() == [False, True, False, False]
    assert got["is_dormant"].tolist() == [False, False, True, True]
    custom = customer_groups(facts, vip_min_orders=2, vip_window_days=30,
                             dormant_days=180).to_pandas()
    assert custom["is_vip"].tolist() == [False, False, True, False]
    assert custom["is_dormant"].tolist() == [False, False, False, True]
    with pytest.raises(ParameterError, match="'vip_window_days' must be 30, 90, 180 or 365"):
        customer_groups(facts, vip_window_days=60)
    with pytest.raises(SchemaError, match=re.escape("missing required columns ['orders_90d']")):
        customer_groups(facts.drop("orders_90d"))


def test_segment_summary_and_rf_grid_match_pandas():
    df = pd.DataFrame({
        "r_score": [5, 5, 1, 1, 3], "f_score": [5, 4, 1, 1, 3],
        "segment": ["champions", "champions", "lost", "lost", "need_attention"],
        "net_revenue": [100.0, 300.0, 10.0, 30.0, 60.0], "orders": [5, 4, 1, 1, 2],
        "recency_days": [1.0, 3.0, 300.0, 500.0, 50.0]})
    got = segment_summary(ibis.memtable(df)).to_pandas().set_index("segment").sort_index()
    ref = df.groupby("segment").agg(customers=("segment", "size"),
                                     net_revenue=("net_revenue", "sum"),
                                     avg_recency_days=("recency_days", "mean"))
    assert got["customers"].tolist() == ref["customers"].tolist()
    assert got["net_revenue"].tolist() == ref["net_revenue"].tolist()
    assert got["share"].tolist() == pytest.approx((ref.customers / 5).tolist())
    assert got["revenue_share"].tolist() == pytest.approx((ref.net_revenue / 500).tolist())
    assert got["avg_value"].tolist() == pytest.approx((ref.net_revenue / ref.customers).tolist())
    assert got["avg_recency_days"].tolist() == pytest.approx(ref.avg_recency_days.tolist())
    grid = rf_grid(ibis.memtable(df)).to_pandas().set_index(["r_score", "f_score"])
    assert grid.loc[(1, 1), "customers"] == 2 and grid.loc[(1, 1), "avg_monetary"] == 20.0
    assert len(grid) == 4
