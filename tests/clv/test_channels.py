"""CLV and acquisition cost by channel: covariates from the store, the table, the sentences."""

from __future__ import annotations

import dataclasses
import math
import re
from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from workbench.clv import ChannelValue, channel_label, channel_value, clv_by_channel, ratio_text
from workbench.clv.channels import CHANNEL_COLUMNS, covariate_design, customer_covariates
from workbench.data import connect
from workbench.errors import ParameterError
from workbench.settings import Settings, load_settings

AS_OF = date(2026, 11, 16)
COSTS = {"naver": 9_000.0, "instagram": 600_000.0, "kakao": 0.0, "tv": 5_000.0}


def _tiny_store() -> tuple[ibis.BaseBackend, pd.DataFrame, pd.DataFrame]:
    orders = pd.DataFrame({
        "order_id": [f"o{i}" for i in range(8)],
        "customer_id": ["A", "A", "B", "B", "C", None, "D", "E"],
        "ordered_at": pd.to_datetime([
            "2026-01-05 10:00", "2026-02-01 10:00",   # A: first with a coupon
            "2026-01-03 09:00", "2026-01-02 09:00",   # B: the earlier one is cancelled
            "2026-03-01 12:00", "2026-01-01 00:00",   # C: blank coupon; a guest
            "2026-11-16 00:30",                       # D: on as_of: not yet
            "2026-11-15 23:30"]).tz_localize("Asia/Seoul"),  # E: last evening, no channel row
        "status": ["paid", "paid", "paid", "cancelled", "confirmed", "paid", "paid", "paid"],
        "amount": [100.0, 50, 70, 999, 30, 10, 20, 40],
        "coupon_code": ["WELCOME", None, None, "BIG", " ", None, "X", None]})
    customers = pd.DataFrame({"customer_id": ["A", "B", "C", "D"],
                              "acquisition_channel": ["naver", "kakao", "", "naver"]})
    con = ibis.duckdb.connect()
    con.create_table("orders", orders)
    con.create_table("customers", customers)
    return con, orders, customers


def _reference(orders: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """pandas: first paid-like order before local midnight of AS_OF per customer."""
    cut = pd.Timestamp(AS_OF).tz_localize("Asia/Seoul")
    net = orders[orders["status"].isin(["paid", "confirmed"]) & orders["customer_id"].notna()
                 & (orders["ordered_at"] < cut)]
    first = net.sort_values("ordered_at").groupby("customer_id").head(1).set_index("customer_id")
    channel = customers.set_index("customer_id")["acquisition_channel"].replace("", None)
    return pd.DataFrame({
        "acquisition_channel": channel.reindex(first.index).fillna("(unknown)"),
        "first_order_amount": first["amount"],
        "first_order_coupon": first["coupon_code"].fillna("").str.strip() != ""}).sort_index()


def test_customer_covariates_match_pandas():
    con, orders, customers = _tiny_store()
    got = customer_covariates(con, AS_OF, settings=Settings()).to_pandas()
    got = got.set_index("customer_id").sort_index()
    expected = _reference(orders, customers)
    pd.testing.assert_frame_equal(got.loc[:, expected.columns], expected, check_dtype=False,
                                  check_names=False)
    assert got.loc["B", "first_order_amount"] == 70  # the cancelled earlier order is not it


def test_design_codes_against_the_largest_channel_and_pools_small_ones():
    covs = pd.DataFrame({"acquisition_channel": ["b"] * 50 + ["a"] * 60 + ["c"] * 5 + ["d"] * 3,
                         "first_order_coupon": [False] * 118})
    design, reference = covariate_design(covs)
    assert reference == "a"
    assert list(design.columns) == ["channel:b", "channel:(other)"]  # coupon: constant, left out
    assert design["channel:(other)"].sum() == 8


@pytest.fixture(scope="module")
def value(sample_store) -> ChannelValue:
    settings = Settings(acquisition_cost=COSTS)
    return channel_value(connect(str(sample_store)), AS_OF, settings)


def test_the_sample_has_no_channel_effect_and_the_lr_test_says_so(value):
    # The generator draws purchases and spend without looking at the channel.
    assert value.ok and value.reference == "naver"
    assert value.purchase_test.df == 3 * 6 and value.spend_test.df == 6
    assert value.purchase_test.p_value > 0.01 and value.spend_test.p_value > 0.01
    assert "do not detectably change" in value.message_in("en")
    assert "뚜렷하지 않습니다" in value.message_in("ko")


def test_table_columns_costs_and_verdicts(value):
    t = value.table.set_index("acquisition_channel")
    assert tuple(value.table.columns) == CHANNEL_COLUMNS
    assert t.loc["naver", "customers"] == t["customers"].max()
    assert t.loc["tv", "customers"] == 0 and t.loc["tv", "verdict"] == "no_new_customers"
    assert t.loc["kakao", "verdict"] == "free" and math.isnan(t.loc["kakao", "clv_cac_ratio"])
    assert t.loc["naver", "clv_cac_ratio"] == pytest.approx(t.loc["naver", "clv_covariates"]
                                                            / 9_000)
    assert t.loc["naver", "verdict"] == "pays_back"
    assert t.loc["instagram", "verdict"] == "loses"  # 600,000 won per customer is too much
    assert t.loc["direct", "verdict"] == "no_cost"
    # the plain model gives every new customer the same repeat value: the channels differ
    # only by their first orders
    repeat = t["clv_plain"] - value.gross_margin * t["first_order_value"]
    assert np.ptp(repeat.dropna().to_numpy()) < 1e-6 * repeat.max()


@pytest.mark.parametrize("language", ["en", "ko"])
def test_every_sentence_is_true_to_its_numbers(value, language):
    table = value.table.set_index("acquisition_channel")
    for channel, sentence in zip(table.index, value.verdicts_in(language), strict=True):
        row = table.loc[channel]
        assert sentence.startswith(f"{channel_label(channel, language)}: ")
        if row["verdict"] in ("pays_back", "loses"):
            ratio = float(re.search(r"(\d+\.\d)(x|배)", sentence).group(1))
            assert ratio == math.floor(row["clv_cac_ratio"] * 10) / 10
            assert (ratio >= 1) == (row["verdict"] == "pays_back")
            pays = "pays for itself" in sentence or "회수합니다" in sentence
            assert pays == (row["clv_cac_ratio"] >= 1)
            money = f"{row['clv_covariates']:,.0f}"
            assert money in sentence and f"{row['acquisition_cost']:,.0f}" in sentence
        if row["verdict"] == "no_cost":
            assert "[acquisition_cost]" in sentence or language == "ko"
    if language == "ko":
        text = " ".join(value.verdicts_in("ko"))
        assert "네이버" in text and "인스타그램" in text
        words = set(re.findall(r"[A-Za-z_]+", text))
        assert words == {"tv"}, words  # the shop's own channel name, shown as stored


def test_memo_and_clv_by_channel_agree(sample_store, value):
    settings = Settings(acquisition_cost=COSTS)
    table = clv_by_channel(connect(str(sample_store)), AS_OF, settings)
    pd.testing.assert_frame_equal(table, value.table)
    figure = value.figure()
    assert [t.name for t in figure.data][-1] == "Cost per new customer"
    assert figure.layout.title.text.startswith("1 of 2 channels with a cost pay it back")


def test_ratio_text_rounds_down():
    assert ratio_text(0.999, "en") == "0.9" and ratio_text(1.0, "ko") == "1.0"


def test_bad_months_raise(sample_store):
    with pytest.raises(ParameterError, match="'window_months' must be a whole number"):
        channel_value(connect(str(sample_store)), AS_OF, Settings(), window_months=0)


@pytest.mark.parametrize(("text", "language", "match"), [
    ("[acquisition_cost]\ninstagram = -5\n", "en",
     r"workbench.toml: settings: \[acquisition_cost\] 'instagram' must be a number >= 0"),
    ("[acquisition_cost]\ninstagram = 'lots'\n", "ko",
     r"workbench.toml: 설정: \[acquisition_cost\]의 'instagram'은 0 이상의 숫자"),
    ("acquisition_cost = 5\n", "en", r"\[acquisition_cost\] must be a table"),
    ("[acquisition_cost]\nnaver = true\n", "en", r"'naver' must be a number"),
], ids=["negative", "text_ko", "not_a_table", "boolean"])
def test_bad_acquisition_costs_name_the_file_and_key(tmp_path, text, language, match):
    path = tmp_path / "workbench.toml"
    head = f'[workbench]\nlanguage = "{language}"\n'
    if not text.startswith("["):
        head += text
        text = ""
    path.write_text(head + text, encoding="utf-8")
    with pytest.raises(ParameterError, match=match):
        load_settings(path)


def test_acquisition_costs_are_read(tmp_path):
    path = tmp_path / "workbench.toml"
    path.write_text("[workbench]\ncurrency = 'KRW'\n[acquisition_cost]\ninstagram = 15000\n"
                    "naver = 9000.5\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings.acquisition_cost == (("instagram", 15000.0), ("naver", 9000.5))
    assert settings.cost_of("naver") == 9000.5 and settings.cost_of("kakao") is None
    assert Settings().acquisition_cost == ()


def test_a_bad_cost_exits_2(tmp_path, capsys, monkeypatch):
    from workbench.cli import main

    path = tmp_path / "workbench.toml"
    path.write_text("[acquisition_cost]\ninstagram = -1\n", encoding="utf-8")
    monkeypatch.setenv("WORKBENCH_CONFIG", str(path))
    assert main(["info"]) == 2
    assert "'instagram'" in capsys.readouterr().err


def test_page_section_in_both_languages(value):
    from workbench.ui.clv_channels import channel_section_html

    en = channel_section_html(value, language="en")
    assert "wb-clv-channels" in en and "data-verdict='pays_back'" in en
    assert "purchase rate: instagram" in en and "first order with a coupon" in en
    ko = channel_section_html(value, language="ko")
    text = re.sub(r"<[^>]+>", " ", ko)
    assert set(re.findall(r"[A-Za-z_]+", text)) == {"tv"}
    figure = dataclasses.replace(value, language="ko").figure()
    assert list(figure.data[0].x)[:2] == ["네이버", "인스타그램"]
    assert channel_section_html(None, language="en") == ""
