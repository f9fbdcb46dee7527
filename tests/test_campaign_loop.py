"""The README's campaign loop, run as written, and every step's numbers checked.

The block under "The campaign loop" in README.md is executed line by line with bash in a fresh
folder (which links the checkout's ``.venv`` and ``notebooks``): Cafe24 member and order
downloads in, an hourly cart-abandonment export with two texts and a holdout, a send report
back, the A/B readout, and the next hour's run. The store it leaves is then compared with what
each step must have done.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from workbench.abtest.analysis import run_abtest
from workbench.data import connect
from workbench.reporting import AbTestParams

ROOT = Path(__file__).resolve().parents[1]


def readme_loop() -> str:
    """Return the shell block of the README's campaign-loop section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## The campaign loop", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "README: the campaign loop section has no ```sh block"
    return block.group(1)


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """Run the README block; return the folder and the combined output."""
    work = tmp_path_factory.mktemp("loop")
    (work / ".venv").symlink_to(ROOT / ".venv")
    (work / "notebooks").symlink_to(ROOT / "notebooks")
    (work / "data").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env["WORKBENCH_PAGE_CACHE"] = "0"
    script = "set -euo pipefail\n" + readme_loop()
    run = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return work, run.stdout


def _tables(work: Path) -> dict[str, pd.DataFrame]:
    con = connect(work / "data" / "loop.duckdb")
    try:
        return {name: con.table(name).to_pandas()
                for name in ("customers", "orders", "audience_exports", "export_members",
                             "campaigns", "assignments", "messages")}
    finally:
        con.disconnect()


def test_members_and_orders_came_in_through_the_cafe24_mappings(loop):
    work, _ = loop
    t = _tables(work)
    members = t["customers"][t["customers"]["is_member"].fillna(False).astype(bool)]
    assert len(members) > 1000
    sms = members[members["sms_opt_in"].fillna(False).astype(bool)]
    assert len(sms) > 0 and sms["sms_consent_at"].notna().all()
    assert set(members["member_tier"].dropna()) <= {"일반", "실버", "골드", "VIP"}
    assert members["points_balance"].notna().all()
    assert len(t["orders"]) > 10_000


def test_the_hourly_export_split_its_audience_into_holdout_and_two_arms(loop):
    work, out = loop
    t = _tables(work)
    log = t["audience_exports"].sort_values("exported_at").reset_index(drop=True)
    assert len(log) == 2
    first = log.iloc[0]
    assert first["audience"] == "cart_abandonment_1h"
    assert json.loads(first["variants"]) == {"holdout": 0.2, "A": 0.4, "B": 0.4}
    assert first["fields"] == "name"
    assert first["export_id"] in out  # printed for the send report's --campaign
    members = t["export_members"][t["export_members"]["export_id"] == first["export_id"]]
    arms = members["variant"].value_counts().to_dict()
    assert set(arms) <= {"holdout", "A", "B"} and arms.get("A", 0) + arms.get("B", 0) > 0
    assert first["holdout"] == arms.get("holdout", 0)
    assert first["rows"] == arms.get("A", 0) + arms.get("B", 0)
    exclusions = json.loads(first["exclusions"])
    assert first["members"] == len(members) + sum(exclusions.values())
    for arm in ("A", "B"):
        file = work / "data" / "exports" / f"cart_1h_1400.{arm}.csv"
        frame = pd.read_csv(file, dtype=str, encoding="utf-8-sig")
        assert list(frame.columns) == ["phone", "name"]
        assert len(frame) == arms.get(arm, 0)
        assert file.stat().st_mode & 0o777 == 0o600
    # One campaign with every eligible customer's arm.
    campaign = t["campaigns"][t["campaigns"]["campaign_id"] == first["export_id"]]
    assert len(campaign) == 1 and bool(campaign["is_ad"].iloc[0])
    assigned = t["assignments"][t["assignments"]["campaign_id"] == first["export_id"]]
    assert assigned["variant"].value_counts().to_dict() == arms


def test_the_send_report_came_back_onto_the_exported_customers(loop):
    work, _ = loop
    t = _tables(work)
    first = t["audience_exports"].sort_values("exported_at").iloc[0]
    sent = t["export_members"]
    sent = sent[(sent["export_id"] == first["export_id"]) & (sent["variant"] != "holdout")]
    report = pd.read_csv(work / "data" / "exports" / "send_result_1400.csv", dtype=str,
                         encoding="utf-8-sig")
    messages = t["messages"][t["messages"]["campaign_id"] == first["export_id"]]
    assert len(messages) == len(report) == len(sent)
    merged = messages.merge(sent, on="customer_id", suffixes=("", "_export"))
    assert (merged["variant"] == merged["variant_export"]).all()
    failed = report["발송결과"].isin(["실패", "수신거부"]).sum()
    assert (messages["status"] == "failed").sum() == failed
    assert messages["clicked_at"].notna().sum() == report["클릭일시"].notna().sum()


def test_the_readout_compares_the_arms_of_that_campaign(loop):
    work, _ = loop
    t = _tables(work)
    first = t["audience_exports"].sort_values("exported_at").iloc[0]
    notebook = work / "data" / "exports" / "abtest_1400.ipynb"
    assert notebook.is_file()
    con = connect(work / "data" / "loop.duckdb")
    try:
        result = run_abtest(con, AbTestParams(campaign_id=first["export_id"],
                                              as_of="2026-12-09"))
    finally:
        con.disconnect()
    frame = result.to_frame()
    assigned = t["assignments"][t["assignments"]["campaign_id"] == first["export_id"]]
    counts = assigned["variant"].value_counts().to_dict()
    conversion = frame[frame["metric"] == "conversion"]
    for _, row in conversion.iterrows():
        assert row["n_variant"] == counts[row["variant"]]
        assert row["n_control"] == counts[row["control"]]
    assert set(conversion["variant"]) | set(conversion["control"]) == set(counts)


def test_the_next_hour_leaves_out_everyone_the_first_run_covered(loop):
    work, _ = loop
    t = _tables(work)
    log = t["audience_exports"].sort_values("exported_at").reset_index(drop=True)
    first, second = log.iloc[0], log.iloc[1]
    m = t["export_members"]
    before = set(m[m["export_id"] == first["export_id"]]["customer_id"])
    after = set(m[m["export_id"] == second["export_id"]]["customer_id"])
    assert not before & after
    assert json.loads(second["exclusions"])["recently_exported"] > 0
    assert second["cooldown_hours"] == 24
