"""The audience builder page (workbench.ui.audience) without a browser, on the tiny shop.

The page follows the Page template: ``run()`` returns an :class:`AudienceResult`, the count
marker carries the exact number, problems are banners in the page's language, and exports go
where the audience package says.
"""

from __future__ import annotations

import html
import re
from datetime import date

import pytest

from tests.audience.conftest import AS_OF, SETTINGS
from workbench.audience import (
    CONDITION_TYPES,
    Audience,
    AudienceParams,
    AudienceResult,
    Condition,
    Group,
    load_definition,
    read_export_log,
)
from workbench.data import connect
from workbench.i18n import set_language
from workbench.ui.audience import AudienceBuilder

MESSAGE = "(광고) 샵 장바구니에 담긴 상품이 기다려요 무료거부 080-123-4567"


def _builder(store, tmp_path, **params) -> AudienceBuilder:
    params = {"store": str(store), "mode": "dashboard", "as_of": AS_OF, "language": "en",
              "audiences_dir": str(tmp_path / "audiences"), **params}
    page = AudienceBuilder(AudienceParams(**params), settings=SETTINGS)
    page.widget()
    return page


def _count(page: AudienceBuilder) -> int:
    return int(re.search(r"data-value='(\d+)'", page.w_count.value).group(1))


def _field(page: AudienceBuilder, row: int, name: str):
    return next(w for w in page.rows[row].box.children[1].children
                if f"wb-field-{name}" in w._dom_classes)


def test_counts_follow_the_form(tiny_path, tmp_path):
    page = _builder(tiny_path, tmp_path)
    assert isinstance(page.result, AudienceResult) and _count(page) == 5
    assert page.w_message.value == "<h2 class='wb-title'>5 customers</h2>"
    page._add("cart")
    page._add("consent")  # channel starts at SMS
    expected = Audience(Group("and", (Condition.make("cart"), Condition.make(
        "consent", channel="sms"))), connect(tiny_path), as_of=AS_OF, settings=SETTINGS)
    assert _count(page) == expected.count() == 2
    assert "data-seconds=" in page.w_count.value and "SELECT" in page.w_sql.value
    assert page.w_preview.value.count("class='wb-member'") == 2
    page._remove(page.rows[1])
    assert _count(page) == 2 and [r.type for r in page.rows] == ["cart"]
    page.w_as_of.value = date(2026, 11, 13)  # the carts of 13-15 Nov do not exist yet
    assert page.params.as_of == date(2026, 11, 13) and _count(page) == 0


def test_region_choices_come_from_the_store(tiny_path, tmp_path):
    page = _builder(tiny_path, tmp_path)
    page._add("region")
    values = _field(page, 0, "values")
    assert list(values.options) == ["대구", "부산", "서울"]
    values.value = ("서울",)
    assert _count(page) == 2


def test_an_invalid_field_is_a_banner_in_the_pages_language(tiny_path, tmp_path):
    set_language("en")
    try:
        page = _builder(tiny_path, tmp_path, language="ko")
        page._add("cart")
        _field(page, 0, "min_items").value = "x"
    finally:
        set_language(None)
    assert page.result is None and page.w_count.value == "" and page.w_sql.value == ""
    assert "wb-warning" in page.w_message.value
    # the form names the field by its label, not its key (issue 15 point 5)
    assert "&#x27;품목 수 최소&#x27;는 정수여야 합니다" in page.w_message.value
    page._export()
    assert "먼저 조건을 고치세요" in page.w_export.value


def test_export_writes_where_the_package_says(tiny_copy, tmp_path):
    page = _builder(tiny_copy, tmp_path)
    page._add("consent")
    page.w_purpose.value = "winter sale"
    page.w_sender.value = "샵"
    page.w_text.value = MESSAGE
    page.w_send_at.value = "2026-11-16 25:00"
    page._export()
    assert "The send time &#x27;2026-11-16 25:00&#x27; is not a date and time" in (
        page.w_export.value)
    page.w_send_at.value = "2026-11-16 10:00"
    page._export()
    done = re.search(r"data-rows='(\d+)'", page.w_export.value)
    assert done, page.w_export.value
    (written,) = (tmp_path / "exports").glob("new_audience-*.csv")
    assert re.fullmatch(r"new_audience-\d{8}-\d{6}\.csv", written.name)
    con = connect(tiny_copy)
    try:
        log = read_export_log(con)
    finally:
        con.disconnect()
    assert list(log["file_name"]) == [written.name] and int(done.group(1)) == log["rows"][0]


def test_save_and_start_from_a_saved_audience(tiny_path, tmp_path):
    page = _builder(tiny_path, tmp_path)
    page._add("region")
    _field(page, 0, "values").value = ("부산",)
    page.w_name.value = "busan"
    page._save()
    assert "data-version='1'" in page.w_saved.value
    assert load_definition("busan", tmp_path / "audiences").rules.items[0].get("values") == (
        "부산",)
    again = _builder(tiny_path, tmp_path, start="busan")
    assert again.w_name.value == "busan" and _count(again) == 1
    again.w_start.value = "vip"  # a recipe
    assert again.w_name.value == "vip"


def test_report_mode_shows_the_count_the_definition_and_the_preview(tiny_path, tmp_path):
    page = AudienceBuilder(AudienceParams(store=str(tiny_path), mode="report", as_of=AS_OF,
                                          language="en", start="vip"), settings=SETTINGS)
    page.compute()
    assert page.result.message == "1 customers"
    count, definition, preview = page.static_parts()
    assert "class='wb-audience-count' data-value='1'" in count
    assert "name: vip" in definition and "wb-members" in preview
    assert page.result.headline()[0]["value"] == "1"


@pytest.mark.parametrize("language,text", [("en", "1 customers"), ("ko", "1명")])
def test_the_result_speaks_the_language_it_was_made_in(tiny, language, text):
    set_language(language)
    try:
        result = Audience(Group("and", (Condition.make("orders", min_count=3),)), tiny,
                          as_of=AS_OF, settings=SETTINGS).result(preview=5)
    finally:
        set_language(None)
    assert (result.count, result.message, len(result.members)) == (1, text, 1)
    assert result.to_frame()["customer_id"].tolist() == ["B"]


# -- the member-data conditions (issue 16 point 7) on the leap-day shop ------------------------

NEW_TYPES = ("age_band", "acquisition_channel", "first_order_coupon", "visited_not_signed_up",
             "signup_anniversary", "birthday", "member_tier", "points_balance")


@pytest.fixture(scope="module")
def leap_path(tmp_path_factory):
    from tests.audience.test_member_conditions import _write

    path = tmp_path_factory.mktemp("leap_form") / "leap.duckdb"
    _write(path)
    return path


def _texts(widget) -> list[str]:
    """Return every label a person reads in a field's widget (its options' labels too)."""
    out = [getattr(widget, "description", "") or ""]
    if hasattr(widget, "children"):
        for child in widget.children:
            out += _texts(child)
    if isinstance(getattr(widget, "value", None), str) and type(widget).__name__ == "Label":
        out.append(widget.value)
    for option in getattr(widget, "options", ()) or ():
        out.append(option[0] if isinstance(option, tuple) else str(option))
    return [t for t in out if t]


@pytest.mark.parametrize("language", ["en", "ko"])
def test_member_conditions_have_labelled_widgets(leap_path, tmp_path, language):
    from tests.audience.test_member_conditions import AS_OF as LEAP_DAY

    page = _builder(leap_path, tmp_path, as_of=LEAP_DAY, language=language)
    for name in NEW_TYPES:
        page._add(name)
    titles = [r.box.children[0].value for r in page.rows]
    assert titles == [f"<b>{html.escape(CONDITION_TYPES[n].label(language))}</b>"
                      for n in NEW_TYPES]
    labels = [t for row in page.rows for w in row.box.children[1].children for t in _texts(w)]
    if language == "ko":
        store_values = {"VIP", " VIP", "Naver", "naver ", "instagram", "kakao", "WELCOME10",
                        " summer "}  # the shop's own data, shown as it is
        english = [t for t in labels if re.search("[A-Za-z]", t) and t not in store_values]
        assert english == []
        assert "연령대" in titles[0] and "20대" in labels and "쿠폰 코드" in labels
    else:
        assert "20s" in labels and "Coupon codes" in labels and "Points from (KRW)" in labels
    # the store's coupon codes, without the blank one a time-sale order holds
    assert list(_field(page, 2, "codes").options) == [" summer ", "WELCOME10"]


def test_member_conditions_count_in_the_form(leap_path, tmp_path):
    from tests.audience.test_member_conditions import AS_OF as LEAP_DAY

    page = _builder(leap_path, tmp_path, as_of=LEAP_DAY)
    page._add("birthday")
    assert _count(page) == 2  # L1 (29 February) and L2
    assert "Customers without a birth date (3)" in page.w_notes.value
    page._add("member_tier")
    tiers = _field(page, 1, "values")
    assert list(tiers.options) == [" VIP", "VIP", "골드"]
    tiers.value = ("VIP",)
    assert _count(page) == 1  # L1
    _field(page, 0, "within_days").value = "1"
    assert _count(page) == 2  # and L3 (born 1 March, tier " VIP")
    page._add("points_balance")
    _field(page, 2, "min_points").value = "5,000"
    assert _count(page) == 1
    assert [r.condition().to_dict() for r in page.rows] == [
        {"type": "birthday", "within_days": 1}, {"type": "member_tier", "values": ["VIP"]},
        {"type": "points_balance", "min_points": 5000.0}]


# -- the cut-off's hour and "leave out customers already exported" (issue 16) ------------------

def test_the_cut_off_hour_counts_as_the_command_line_does(tiny_path, tmp_path, capsys):
    from datetime import datetime

    from workbench.audience.cli import main

    page = _builder(tiny_path, tmp_path, start="checkout_drop_off", as_of=date(2026, 11, 15))
    assert page.w_as_of_time.value == "" and _count(page) == 0  # start of day
    assert page.w_as_of_time.options[0] == ("00:00 (start of day)", "")
    assert [o[1] for o in page.w_as_of_time.options[1:]] == [f"{h:02d}:00" for h in range(1, 24)]
    con = connect(tiny_path)
    try:
        for hour, expected in (("13:00", 1), ("14:00", 0), ("22:00", 1)):
            page.w_as_of_time.value = hour  # D left the checkout at 12:55 and paid at 13:00
            moment = datetime.fromisoformat(f"2026-11-15 {hour}")
            assert page.params.as_of_time == hour and page.params.moment() == moment
            assert _count(page) == expected == Audience(
                load_definition("checkout_drop_off", tmp_path / "audiences"), con,
                as_of=moment, settings=SETTINGS).count()
            assert f"Counted as of Sun 15 Nov 2026 {hour}: only data" in page.w_count.value
            assert main(["count", "checkout_drop_off", "--as-of", f"2026-11-15 {hour}",
                         "--store", str(tiny_path)]) == 0
            assert (f"checkout_drop_off as of 2026-11-15 {hour}: {expected} customers"
                    in capsys.readouterr().out)
    finally:
        con.disconnect()
    page.w_as_of.value = date(2026, 11, 16)  # the hour stays: E's checkout is 25 h old
    assert page.params.moment() == datetime(2026, 11, 16, 22, 0) and _count(page) == 0
    page.w_as_of_time.value = "21:00"  # exactly 24 h: still within the day
    assert _count(page) == 1
    page.w_as_of_time.value = ""
    assert page.params.moment() == date(2026, 11, 16) and "22:00" not in page.w_count.value


def test_a_time_off_the_hour_from_the_parameters_is_offered(tiny_path, tmp_path):
    from workbench.errors import ParameterError

    page = _builder(tiny_path, tmp_path, as_of=date(2026, 11, 15), as_of_time="12:56",
                    start="checkout_drop_off")
    assert page.w_as_of_time.value == "12:56" and _count(page) == 1
    assert "12:56" in page.w_count.value
    with pytest.raises(ParameterError, match=r"'as_of_time' must be a local time of day HH:MM"):
        AudienceParams(as_of_time="25:00")
    with pytest.raises(ParameterError, match=r"'as_of_time'은 HH:MM 형식의 현지 시각"):
        AudienceParams(as_of_time="2pm", language="ko")


def test_since_last_export_in_the_form_leaves_out_the_first_exports_customers(
        tiny_copy, tmp_path, monkeypatch):
    from datetime import datetime

    import workbench.ui.audience as ui

    ticks = iter(datetime(2026, 11, 16, 9, 0, s) for s in range(10))
    monkeypatch.setattr(ui.clock, "now", lambda _settings=None: next(ticks))
    page = _builder(tiny_copy, tmp_path)
    page._add("consent")
    page.w_purpose.value = "winter sale"
    page.w_sender.value = "샵"
    page.w_text.value = MESSAGE
    page.w_send_at.value = "2026-11-16 10:00"
    assert page.w_cooldown.value == "24h" and page.w_cooldown.disabled
    page.w_since_last_export.value = True
    assert not page.w_cooldown.disabled
    page._export()
    first = _export_steps(page.w_export.value)
    assert first["recently_exported"] == 0 and first["rows"] > 0
    page._export()
    second = _export_steps(page.w_export.value)
    exported = first["rows"] + first["holdout"]
    assert second["members"] == first["members"] and second["rows"] == 0
    assert second["recently_exported"] == exported
    assert ("<td>already exported for this audience within the cooldown</td>"
            f"<td style='text-align:right;padding-left:16px'>{exported}</td>") in (
        page.w_export.value)
    con = connect(tiny_copy)
    try:
        log = read_export_log(con)
    finally:
        con.disconnect()
    assert log["cooldown_hours"].tolist() == [24.0, 24.0]
    page.w_cooldown.value = "30m"  # refused, named in the form's words
    page._export()
    assert "The cooldown &#x27;30m&#x27; is not a duration of at least 1 hour" in (
        page.w_export.value)
    page.w_since_last_export.value = False  # unticked: the third export has them all again
    page._export()
    third = _export_steps(page.w_export.value)
    assert third["recently_exported"] == 0 and third["rows"] == first["rows"]


def _export_steps(value: str) -> dict[str, int]:
    assert "wb-export-done" in value, value
    return {step: int(n.replace(",", "")) for step, n in re.findall(
        r"<tr data-step='(\w+)'><td>[^<]*</td>"
        r"<td style='text-align:right;padding-left:16px'>([\d,]+)</td>", value)}


def test_a_loaded_definition_brings_its_cooldown(tiny_path, tmp_path):
    from workbench.audience import AudienceDefinition, save_definition

    save_definition(AudienceDefinition("hourly", channel="push", cooldown="3d"),
                    tmp_path / "audiences")
    page = _builder(tiny_path, tmp_path, start="hourly")
    assert page.w_cooldown.value == "3d"
    page.w_start.value = "vip"
    assert page.w_cooldown.value == "24h"


@pytest.mark.parametrize("language", ["en", "ko"])
def test_the_hour_and_history_controls_are_labelled(tiny_path, tmp_path, language):
    page = _builder(tiny_path, tmp_path, language=language)
    labels = [*_texts(page.w_as_of_time), page.w_since_last_export.description,
              page.w_cooldown.description]
    expected = {"en": ["Cut-off time", "00:00 (start of day)",
                       "Leave out customers already exported for this audience", "Cooldown"],
                "ko": ["기준 시각", "00:00(하루 시작)", "이 오디언스로 이미 내보낸 고객은 제외",
                       "쿨다운 기간"]}[language]
    assert [labels[0], labels[1], labels[-2], labels[-1]] == expected
    if language == "ko":
        assert [t for t in labels if re.search("[A-Za-z]", t)] == []


def test_the_form_is_counted_afresh_with_the_page_cache_on(tiny_copy, tmp_path, monkeypatch):
    # The count follows the conditions, which are not parameters: a result kept under the
    # parameters' key would show the first definition's count after every change.
    monkeypatch.setenv("WORKBENCH_PAGE_CACHE", "1")
    page = _builder(tiny_copy, tmp_path)
    assert _count(page) == 5
    page._add("cart")
    page._add("consent")
    assert _count(page) == 2
    page.w_as_of_time.value = "12:00"
    assert _count(page) == 2 and not list((tmp_path / "cache").glob("*.wbpage"))


def test_a_korean_page_reports_its_export_in_korean(tiny_copy, tmp_path):
    set_language("en")  # the kernel's language is not the page's
    try:
        page = _builder(tiny_copy, tmp_path, language="ko")
        page._add("consent")
        page.w_purpose.value = "겨울 세일"
        page.w_sender.value = "샵"
        page.w_text.value = MESSAGE
        page.w_since_last_export.value = True
        page._export()
    finally:
        set_language(None)
    steps = _export_steps(page.w_export.value)
    assert "행을 썼습니다. 대상 " in page.w_export.value and "Wrote" not in page.w_export.value
    assert steps["recently_exported"] == 0
    assert "<td>쿨다운 기간 안에 이 오디언스로 이미 내보냄</td>" in page.w_export.value


def test_the_proposed_send_time_follows_the_cut_off_until_the_manager_types_one(tiny_path,
                                                                                 tmp_path):
    page = _builder(tiny_path, tmp_path, start="checkout_drop_off", as_of=date(2026, 11, 15))
    assert page.w_send_at.value == "2026-11-15 10:00"  # a day-level audience: the morning
    page.w_as_of_time.value = "14:00"  # an hourly scenario is sent when it is counted
    assert page.w_send_at.value == "2026-11-15 14:00"
    page.w_as_of.value = date(2026, 11, 16)
    assert page.w_send_at.value == "2026-11-16 14:00"
    page.w_send_at.value = "2026-11-16 15:30"  # typed by the manager: kept from now on
    page.w_as_of_time.value = "16:00"
    assert page.w_send_at.value == "2026-11-16 15:30"


def test_two_exports_in_the_same_second_get_two_files(tmp_path):
    from datetime import datetime

    from workbench.audience.storage import export_path

    at = datetime(2026, 11, 16, 10, 0)
    first = export_path("vip", tmp_path / "audiences", at=at)
    assert first.name == "vip-20261116-100000.csv"
    first.parent.mkdir(parents=True)
    first.write_text("phone\n")
    second = export_path("vip", tmp_path / "audiences", at=at)
    assert second.name == "vip-20261116-100000-2.csv"
    (second.parent / "vip-20261116-100000-2.A.csv").write_text("phone\n")  # an A/B export
    assert export_path("vip", tmp_path / "audiences", at=at).name == "vip-20261116-100000-3.csv"
