"""The A/B page without a browser: widgets, campaign picker, planner, report parts."""

from __future__ import annotations

import duckdb
import plotly.graph_objects as go

from workbench.abtest import AbTestParams, minimum_detectable_effect, sample_size_per_arm
from workbench.ui.abtest import AbTestPage, planner_html


def test_page_widgets_follow_the_form(sample_store) -> None:
    page = AbTestPage(AbTestParams(store=str(sample_store), mode="interactive",
                                   as_of="2026-11-16"))
    page.widget()
    # the split check comes first, then the takeaway
    assert page.ok and page.w_message.value.index("wb-srm") < page.w_message.value.index("wb-title")
    # the page opens on the most recently started campaign
    with duckdb.connect(str(sample_store), read_only=True) as raw:
        latest = raw.execute("SELECT arg_max(campaign_id, started_at) FROM campaigns").fetchone()[0]
    assert page.result.campaign_id == latest
    page.w_campaign.value = "CMP001"
    assert page.result.campaign_id == "CMP001"
    assert "data-variant='B'" in page.w_table.value and "wb-roi" in page.w_roi.value
    page.w_plan["mde"].value = 20.0
    assert f"data-n='{sample_size_per_arm(0.05, 0.2)}'" in page.w_plan_out.value


def test_report_parts_in_korean(sample_store) -> None:
    page = AbTestPage(AbTestParams(store=str(sample_store), mode="report", language="ko",
                                   as_of="2026-11-16"))
    page.compute()
    parts = page.static_parts()
    assert any(isinstance(p, go.Figure) for p in parts)
    text = "".join(p for p in parts if isinstance(p, str))
    assert "wb-campaigns" in text and "진행 중이거나 끝난 캠페인" in text
    assert page.result.headline()


def test_planner_reports_bad_input_readably() -> None:
    assert "must stay in (0, 1)" in planner_html(0.6, 1.0)
    assert "data-n=" in planner_html(0.05, 0.1, daily_customers=1000, audience=20_000)


def test_planner_speaks_the_page_language() -> None:
    assert "(0, 1) 범위" in planner_html(0.6, 1.0, language="ko")
    assert "그룹당" in planner_html(0.05, 0.1, language="ko")
    assert "받은 값" in planner_html(0.0, 0.1, language="ko")  # a caller's mistake, in Korean


def test_planner_measures_an_audience_against_its_holdout() -> None:
    text = planner_html(0.05, 0.1, audience=20_000, arms=1, holdout_share=0.1)
    expected = minimum_detectable_effect(2_000, 0.05, ratio=9.0)
    assert f"the smallest detectable lift is {100 * expected:.1f}%" in text
