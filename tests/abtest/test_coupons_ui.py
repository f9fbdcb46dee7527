"""The coupon economics section: tables and explanations in English and in all-Korean."""

import html
import re

import pytest

from tests.abtest.test_coupons import AS_OF, SETTINGS, tiny  # noqa: F401 - the fixture
from workbench.ui.coupons import coupon_view

#: Data shown as it is (campaign ids and names, coupon codes, arm letters) and units.
ALLOWED = {"KRW", "A", "B", "C"}


def _english_words(text: str, data: set[str]) -> list[str]:
    text = re.sub(r"<style>.*?</style>|<[^>]+>", " ", text, flags=re.S)
    for value in sorted(data, key=len, reverse=True):  # names hold ids
        text = text.replace(value, " ")
    words = re.findall(r"[A-Za-z][A-Za-z'-]*", html.unescape(text))
    return [w for w in words if w not in ALLOWED]


def test_english_words_ignore_data_and_markup():
    assert _english_words("<b>캠페인 C1</b> campaign C1 CPA &#x27;", {"campaign C1", "CPA"}) == []


@pytest.mark.parametrize("language", ["en", "ko"])
def test_coupon_view_shows_tables_and_explanations(tiny, language):  # noqa: F811
    con, frames = tiny
    view = coupon_view(con, as_of=AS_OF, settings=SETTINGS, language=language)
    assert "wb-coupons" in view._dom_classes
    text = view.children[0].value
    assert text.count("<table") == 2 and "wb-definitions" in text
    rows = re.findall(r"<tr><td>", text)
    assert len(rows) >= 6  # C1 A and B, C2..C5 per arm, then the codes
    data = set(frames["campaigns"]["name"]) | set(frames["campaigns"]["campaign_id"]) | {
        "CPA", "CPB", "CPX", "NEW", "CP5", "WELCOME"}
    if language == "ko":
        assert _english_words(text, data) == []
        assert "원래 했을 주문" in text and "구매 앞당김" in text
    else:
        assert "orders customers would have placed" in text.replace("&#x27;", "'")
