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
