"""run_rfm on the sample store, and its NO_DATA outcomes on small stores."""

import re
from datetime import date

import pandas as pd
import pytest

from workbench.data import NET_STATUSES, connect, write_store
from workbench.errors import ParameterError
from workbench.reporting import OverviewParams, RfmParams
from workbench.results import Status
from workbench.rfm import (
    CUSTOMER_COLUMNS,
    NOT_YET_CUSTOMER,
    load_segment_rules,
    run_rfm,
    segment_members,
)
from workbench.settings import Settings

SETTINGS = Settings(timezone="Asia/Seoul", currency="KRW", language="en")
AS_OF = date(2026, 11, 16)
HANGUL = re.compile("[가-힣]")


@pytest.fixture(scope="module")
def con(sample_store):
    return connect(sample_store, settings=SETTINGS)


@pytest.fixture(scope="module")
def result(con):
    return run_rfm(con, RfmParams(as_of=AS_OF, compare_days=28), settings=SETTINGS)


def _buyers(con, as_of):
    o = con.table("orders")
    net = o.filter(o.status.isin(NET_STATUSES), o.customer_id.notnull(),
                   o.ordered_at < pd.Timestamp(as_of).tz_localize("Asia/Seoul"))
    return int(net.customer_id.nunique().execute())


def test_run_rfm_on_the_sample(con, result):
    assert result.status == Status.OK and result.ok
    n = _buyers(con, AS_OF)
    customers = result.customers
    assert list(customers.columns) == list(CUSTOMER_COLUMNS)
    assert len(customers) == n and customers["customer_id"].is_unique
    assert not {"name", "phone", "email"} & set(customers.columns)  # no personal data
    seg = result.segments
    assert list(seg["segment"]) == list(load_segment_rules().ids)
    assert seg["customers"].sum() == n
    assert seg["share"].sum() == pytest.approx(1.0)
    assert seg["revenue_share"].sum() == pytest.approx(1.0)
    assert seg["net_revenue"].sum() == pytest.approx(customers["net_revenue"].sum())
    counts = customers["segment"].value_counts()
    assert all(seg.set_index("segment")["customers"].get(s) == c for s, c in counts.items())
    assert result.rf_heatmap["customers"].sum() == n and len(result.rf_heatmap) == 25
    assert result.tiers["customers"].sum() == n
    assert result.tiers["share"].sum() == pytest.approx(1.0)
    assert result.tier_movers["customers"].sum() == n
    assert (result.tiers["moving_up"].sum()
            == result.tier_movers.query("direction == 'up'")["customers"].sum())
    assert customers["r_score"].between(1, 5).all() and customers["segment"].notna().all()


def test_headline_and_heatmap_agree_with_the_frames(result, sample_store):
    """Issue 15: the headline's numbers and the heat map come from the result's frames.

    Frequency score 2 is empty on the sample (43% of buyers ordered once, share F = 1, and the
    next block starts at F = 3): the heat map leaves it out and a sentence says why.
    """
    from workbench.i18n import format_percent
    from workbench.ui.rfm import RfmPage

    c, seg = result.customers, result.segments
    top = seg.loc[seg["net_revenue"].idxmax()]
    vips = int(c["is_vip"].sum())
    assert result.message == (
        f"{top['label']} are {format_percent(top['share'])} of customers and "
        f"{format_percent(top['revenue_share'])} of revenue. {vips:,} VIPs (3+ orders in 90 "
        f"days) are {format_percent(vips / len(c))} of customers.")
    assert top["customers"] == (c["segment"] == top["segment"]).sum()
    for item in result.headline():  # tiles: customers of the top segments
        segment = item["metric"].removeprefix("segment.")
        assert item["value"] == f"{int(seg.set_index('segment').loc[segment, 'customers']):,}"
    # the heat map: every customer once, no column of zeros
    fig = result.figure_heatmap()
    shown = sum(int(t.replace(",", "")) for row in fig.data[0].text for t in row if t)
    assert shown == result.rf_heatmap["customers"].sum() == len(c)
    used = sorted(c["f_score"].unique())
    assert [int(x) for x in fig.data[0].x] == used and 2 not in used
    ones = c[c["f_score"] == 1]
    assert (ones["orders"] == 1).all()
    note = result.heatmap_note_in("en")
    assert note.startswith("Frequency score 2 has no customers, so the chart leaves it out.")
    assert (f"the {len(ones):,} customers ({format_percent(len(ones) / len(c))}) with 1 "
            f"order(s) all score 1, so the next customers (from 2 orders) score 3.") in note
    ko = result.heatmap_note_in("ko")
    assert ko.startswith("빈도 점수 2점에는 고객이 없어") and not re.search("[A-Za-z]", ko)
    page = RfmPage(RfmParams(as_of=AS_OF, store=str(sample_store), mode="report"))
    page.result = result
    assert f"<p class='wb-heatmap-note'>{note}</p>" in page.static_parts()


def test_groups_follow_their_rules(result):
    c = result.customers
    groups = result.groups.set_index("group")
    assert groups.loc["is_vip", "customers"] == c["is_vip"].sum() > 0
    assert groups.loc["is_first_time", "customers"] == (c["orders"] == 1).sum()
    assert groups.loc["is_dormant", "customers"] == (c["recency_days"] >= 90).sum()


def test_migration_ends_at_the_current_segments(con, result):
    m = result.migration
    assert result.compare_as_of == date(2026, 10, 19)
    assert m["customers"].sum() == len(result.customers)
    to = m.groupby("to_segment")["customers"].sum()
    assert to.to_dict() == result.customers["segment"].value_counts().to_dict()
    assert m.loc[m.from_segment != NOT_YET_CUSTOMER, "customers"].sum() == _buyers(
        con, date(2026, 10, 19))


def test_message_and_headline(result):
    top = result.segments.loc[result.segments["net_revenue"].idxmax()]
    assert result.message.startswith(f"{top['label']} are ")
    assert re.search(r"\d+\.\d% of customers and \d+\.\d% of revenue", result.message)
    head = result.headline()
    assert len(head) == 3 and head[0]["metric"] == f"segment.{top['segment']}"
    assert {"metric", "label", "value", "change", "change_pct", "direction"} <= set(head[0])
    assert result.to_frame().equals(result.segments)
    assert result.summary().splitlines()[0] == result.message


def test_korean_labels(con, result):
    ko = run_rfm(con, RfmParams(as_of=AS_OF, language="ko", compare_days=0), settings=SETTINGS)
    assert ko.language == "ko" and HANGUL.search(ko.message)
    # an English result reads the same in Korean: its sentences are made when read
    assert result.message_in("ko") == ko.message and result.summary("ko") == ko.summary()
    assert [h["label"] for h in result.headline("ko")] == [h["label"] for h in ko.headline()]
    assert all(HANGUL.search(label) for label in ko.segments["label"])
    assert all(HANGUL.search(a) for a in ko.segments["action"])
    assert ko.migration.empty and ko.compare_as_of is None
    assert HANGUL.search(ko.figure_treemap().layout.title.text)


def test_lookback_and_bins(con):
    r = run_rfm(con, RfmParams(as_of=AS_OF, lookback_days=90, bins=3, compare_days=0),
                settings=SETTINGS)
    assert r.ok and len(r.rf_heatmap) == 9
    assert r.customers["r_score"].between(1, 3).all()
    assert r.segments["customers"].sum() == len(r.customers) < _buyers(con, AS_OF)


def test_segment_members_are_masked(con, result):
    members = segment_members(result, "champions", con=con, limit=5)
    assert len(members) == 5 and (members["segment"] == "champions").all()
    assert members["net_revenue"].is_monotonic_decreasing
    assert members["name"].str.contains(r"\*").all()
    assert members["phone"].str.fullmatch(r"010-\*{4}-\d{4}").all()
    assert members["reason"].iloc[0] == load_segment_rules().description("champions")
    ko = segment_members(result, "champions", con=con, limit=2, language="ko")
    assert HANGUL.search(ko["segment_label"].iloc[0])
    largest = segment_members(result, limit=1)
    assert largest["segment"].iloc[0] == result.segments.loc[
        result.segments["customers"].idxmax(), "segment"]
    assert largest["name"].isna().all()  # no connection: no names
    with pytest.raises(ParameterError, match="unknown segment 'champion'.*Did you mean "
                                             "'champions'"):
        segment_members(result, "champion")
    via_con = segment_members(con, "champions", limit=3,
                              params=RfmParams(as_of=AS_OF, compare_days=0), settings=SETTINGS)
    assert via_con["customer_id"].tolist() == members["customer_id"].head(3).tolist()


def test_no_orders_before_as_of_names_the_data_range(con):
    r = run_rfm(con, RfmParams(as_of=date(2020, 1, 1)), settings=SETTINGS)
    assert r.status == Status.NO_DATA and r.customers.empty and r.headline() == []
    assert "the store's orders run from Sat 16 Nov 2024 to Sun 15 Nov 2026" in r.message
    assert segment_members(r, "champions").empty


def test_no_data_messages_in_both_languages(con):
    r = run_rfm(con, RfmParams(as_of=date(2020, 1, 1), lookback_days=30), settings=SETTINGS)
    assert r.order_dates == (date(2024, 11, 16), date(2026, 11, 15))
    assert "in the 30 days before Wed 1 Jan 2020" in r.message
    assert "2024년 11월 16일 (토)" in r.message_in("ko") and r.summary("ko") == r.message_in("ko")


def test_no_orders_in_the_lookback(tmp_path):
    orders = pd.DataFrame({"order_id": ["o1"], "customer_id": ["A"], "status": ["paid"],
                           "ordered_at": [pd.Timestamp("2026-01-05 10:00", tz="Asia/Seoul")],
                           "amount": [1000.0]})
    with write_store(tmp_path / "s.duckdb", settings=SETTINGS) as w:
        w.write("orders", orders)
    small = connect(tmp_path / "s.duckdb", settings=SETTINGS)
    r = run_rfm(small, RfmParams(as_of=AS_OF, lookback_days=30, language="ko"),
                settings=SETTINGS)
    assert r.status == Status.NO_DATA
    assert "30일" in r.message and "2026년 1월 5일 (월)" in r.message
    ok = run_rfm(small, RfmParams(as_of=AS_OF), settings=SETTINGS)
    assert ok.ok and ok.segments["customers"].sum() == 1


def test_empty_store(tmp_path):
    with write_store(tmp_path / "e.duckdb", settings=SETTINGS) as w:
        w.write("products", pd.DataFrame({"product_id": ["P"], "price": [1.0]}))
    r = run_rfm(connect(tmp_path / "e.duckdb", settings=SETTINGS), RfmParams(as_of=AS_OF),
                settings=SETTINGS)
    assert r.status == Status.NO_DATA and "workbench sample" in r.message


@pytest.mark.parametrize(("params", "message"), [
    (OverviewParams(as_of=AS_OF), "run_rfm: 'params' must be an RfmParams; got OverviewParams."),
    (RfmParams(), "run_rfm: 'params.as_of' is required; got None."),
], ids=["wrong_type", "no_as_of"])
def test_parameter_errors(con, params, message):
    with pytest.raises(ParameterError, match=re.escape(message)):
        run_rfm(con, params, settings=SETTINGS)


def test_snapshot_gives_the_same_result_as_computing(store_copy):
    """A dashboard on the snapshot's date reads segments and migration from the snapshot."""
    from datetime import date

    from workbench.data import connect
    from workbench.reporting import RfmParams
    from workbench.rfm import load_segment_rules, run_rfm
    from workbench.snapshot import refresh

    as_of = date(2026, 11, 16)
    refresh(as_of, store=str(store_copy))
    con = connect(store_copy)
    params = RfmParams(as_of=as_of)
    from_snapshot = run_rfm(con, params)
    computed = run_rfm(con, params, rules=load_segment_rules())  # own rules: no snapshot
    pd.testing.assert_frame_equal(from_snapshot.segments, computed.segments)
    pd.testing.assert_frame_equal(from_snapshot.migration.reset_index(drop=True),
                                  computed.migration.reset_index(drop=True))
    pd.testing.assert_frame_equal(from_snapshot.tiers, computed.tiers)
    assert from_snapshot.message == computed.message
