"""run_cohorts on the sample store and on an empty one."""

import math
import re
from datetime import date

import pandas as pd
import pytest

from workbench.data import connect, write_store
from workbench.errors import ParameterError
from workbench.reporting import CohortParams, OverviewParams
from workbench.results import Status
from workbench.rfm.cohort_analysis import CohortResult, run_cohorts
from workbench.rfm.cycles import DUE_COLUMNS
from workbench.settings import Settings
from workbench.ui.cohorts import due_html

SETTINGS = Settings(timezone="Asia/Seoul", currency="KRW", language="en")
AS_OF = date(2026, 11, 16)


@pytest.fixture(scope="module")
def con(sample_store):
    backend = connect(sample_store, settings=SETTINGS)
    yield backend
    backend.disconnect()


@pytest.fixture(scope="module")
def result(con):
    return run_cohorts(con, CohortParams(as_of=AS_OF, months=6, min_repeats=30),
                       settings=SETTINGS)


def test_sample_store_gives_a_sound_triangle(result):
    assert isinstance(result, CohortResult) and result.status == Status.OK
    t = result.to_frame()
    assert t["cohort"].nunique() == 6
    assert (t.loc[t.months_since == 0, "retention"] == 1.0).all()
    assert t["retention"].between(0, 1).all()
    assert (t["active_customers"] <= t["cohort_size"]).all()
    assert not t.loc[t.month == date(2026, 11, 1), "complete"].any()
    assert t.loc[t.month < date(2026, 11, 1), "complete"].all()
    assert re.match(r"Of customers who first bought in \w+ 2026, \d+% bought again", result.message)


def test_cycles_and_due_customers(result):
    c = result.cycles
    assert {"category", "median_days", "p75_days", "replenish_days", "has_cycle",
            "due_this_week", "overdue"} <= set(c.columns)
    assert (c["p75_days"] >= c["median_days"]).all()
    assert c["has_cycle"].any()
    assert (c.loc[~c["has_cycle"], "due_this_week"] == 0).all()
    due = result.due
    assert list(due.columns) == ["customer_id", "category", *DUE_COLUMNS[:-1]]  # no PII
    assert due["expected_date"].between(AS_OF, date(2026, 11, 22)).all()
    assert c["due_this_week"].sum() == len(due)


def test_headline_counts_agree_with_the_due_table(result):
    """Issue 15: the headline's due customers and the per-category list under it add up.

    The list counts customer-category pairs (a customer due for beauty and food is in both
    rows); the headline counts different customers and states the pairs too.
    """
    table = result.due_by_key("en")
    customers = result.due["customer_id"].nunique()
    assert table["due"].sum() == result.due_pairs == len(result.due)
    assert result.due_customers == customers
    assert result.due_pairs > customers  # the sample has customers due in two categories
    tile = {i["metric"]: i for i in result.headline()}["due_this_week"]
    assert tile["value"] == f"{customers:,}"
    assert f"{customers:,} customers are due this week" in result.message
    assert f"for {result.due_pairs:,} category repurchases" in result.message
    page = due_html(result, language="en")
    rows = [int(v) for v in re.findall(r"<li data-key='[^']*' data-value='(\d+)'", page)]
    assert sum(rows) == result.due_pairs and rows == table["due"].tolist()
    assert (f"data-pairs='{result.due_pairs}' data-customers='{customers}'" in page)
    assert f"Total: {result.due_pairs:,} customer–category pairs from {customers:,} different" \
        in page
    ko = result.message_in("ko")
    assert f"재구매 예정 고객은 {customers:,}명, 카테고리별로 세면 {result.due_pairs:,}건" in ko
    assert "beauty" not in ko and "뷰티의 재구매 주기" in ko  # labels, not the data keys
    assert "합계: 카테고리별" in due_html(result, language="ko")


def test_headline_has_the_overview_shape(result):
    items = result.headline()
    assert [i["metric"] for i in items] == ["retention_m1", "cohort_size", "due_this_week"]
    for item in items:
        assert set(item) == {"metric", "label", "value", "change", "change_pct", "direction"}
        assert item["direction"] in {"up", "down", "flat"}
    assert items[0]["value"].endswith("%") and items[0]["change"].endswith("%p")
    assert math.isnan(items[2]["change_pct"])


def test_sentences_are_written_in_the_readers_language(result):
    assert result.message == result.message_in("en")
    assert "첫 구매한 고객 중" in result.message_in("ko")
    assert result.headline("ko")[0]["label"].startswith("다음 달 재구매율")
    assert [h["value"] for h in result.headline("ko")] == [h["value"] for h in result.headline()]
    assert "재구매 예정" in result.summary("ko") and "Due this week" in result.summary()
    assert set(result.definitions_in("ko")) == {"첫 구매 월(고객 수)", "구매 간격(일)",
                                                "이번 주 재구매 예정 고객"}


def test_korean_and_by_channel(con):
    r = run_cohorts(con, CohortParams(as_of=AS_OF, months=4, language="ko", by_channel=True,
                                      cycle_level="product"), settings=SETTINGS)
    assert r.status == Status.OK and r.language == "ko"
    assert "첫 구매한 고객 중" in r.message
    assert "acquisition_channel" in r.triangle.columns
    assert r.triangle["acquisition_channel"].notna().all()
    assert "product_id" in r.due.columns
    assert r.headline()[0]["label"].startswith("다음 달 재구매율")
    assert r.figure().layout.xaxis.title.text == "첫 구매 후 개월"
    whole = run_cohorts(con, CohortParams(as_of=AS_OF, months=4), settings=SETTINGS).triangle
    summed = r.triangle.groupby(["cohort", "months_since"])["active_customers"].sum()
    assert summed.tolist() == whole.set_index(["cohort", "months_since"])[
        "active_customers"].tolist()


def test_empty_store_is_no_data(tmp_path):
    path = tmp_path / "empty.duckdb"
    with write_store(path, settings=SETTINGS):
        pass
    backend = connect(path, settings=SETTINGS)
    r = run_cohorts(backend, CohortParams(as_of=AS_OF), settings=SETTINGS)
    backend.disconnect()
    assert r.status == Status.NO_DATA and not r.ok
    assert r.message.startswith("No net orders of identified customers before Mon 16 Nov 2026.")
    assert r.headline() == [] and r.triangle.empty and r.due.empty
    assert r.figure_retention().layout.title.text == "No cohorts to show"
    assert "wb-message" in r._repr_html_()


@pytest.mark.parametrize(
    ("params", "message"),
    [(OverviewParams(as_of=AS_OF), "run_cohorts: 'params' must be a CohortParams; got "
      "OverviewParams. Build one with workbench.reporting.CohortParams(as_of=...)."),
     (CohortParams(), "run_cohorts: 'params.as_of' is required; got None. Pass a date, e.g. "
      "CohortParams(as_of=workbench.clock.this_week()).")],
    ids=["wrong-params", "no-as_of"])
def test_caller_mistakes_raise(con, params, message):
    with pytest.raises(ParameterError, match=f"^{re.escape(message)}$"):
        run_cohorts(con, params, settings=SETTINGS)


def test_result_holds_no_live_expressions(result):
    for value in (result.triangle, result.cycles, result.due):
        assert isinstance(value, pd.DataFrame)
