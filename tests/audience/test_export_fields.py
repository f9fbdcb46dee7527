"""Personalisation columns (``fields``): exact cells on the tiny shop, given names, the purpose
they need, unknown fields, coupon codes per arm, and the log."""

from __future__ import annotations

import csv
import html
import io
from datetime import UTC, datetime

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.audience.conftest import AS_OF, PRODUCTS, SETTINGS
from workbench.abtest import assign_variants
from workbench.audience import Audience, AudienceDefinition, Group, export_audience
from workbench.audience.personalise import (
    FIELDS,
    check_fields,
    field_help,
    filled_bytes,
    given_names,
)
from workbench.data import connect, write_store
from workbench.errors import ParameterError
from workbench.i18n import using_language
from workbench.settings import Settings

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)
MSG = "(광고) 워크샵 #{name}님 겨울 세일 무료거부 080-123-4567"


def _aud(path, channel="push", is_ad=False):
    d = AudienceDefinition("everyone", rules=Group("and", ()), channel=channel, is_ad=is_ad,
                           purpose="app notice")
    s = Settings(store=str(path))
    return Audience(d, connect(path, settings=s), as_of=AS_OF, settings=s)


def _rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_bytes().decode("utf-8-sig"))))


def _log(path) -> pd.DataFrame:
    con = connect(path, settings=SETTINGS)
    try:
        return con.table("audience_exports").to_pandas()
    finally:
        con.disconnect()


def test_exact_cells_on_the_tiny_shop(tiny_copy, tmp_path):
    aud = _aud(tiny_copy)
    r = export_audience(aud, out=tmp_path / "p.csv", purpose="cart reminder with product",
                        fields="name,last_product,last_cart_product,name_full", now=NOW)
    aud.con.disconnect()
    rows = _rows(tmp_path / "p.csv")
    assert list(rows[0]) == ["customer_id", "name", "last_product", "last_cart_product",
                             "name_full"]
    # last_product: the last net order's last line before 2026-11-16 (B's cancelled o5 and
    # later cart removal do not count); last_cart_product: still in the cart (B removed P2).
    assert rows == [
        {"customer_id": "A", "name": "민수", "last_product": "시카 크림",
         "last_cart_product": "현미", "name_full": "김민수"},
        {"customer_id": "B", "name": "영희", "last_product": "현미",
         "last_cart_product": "사료", "name_full": "이영희"},
        {"customer_id": "C", "name": "철수", "last_product": "", "last_cart_product": "",
         "name_full": "박철수"},
        {"customer_id": "D", "name": "지우", "last_product": "시카 크림",
         "last_cart_product": "시카 크림", "name_full": "최지우"},
        {"customer_id": "E", "name": "하나", "last_product": "", "last_cart_product": "",
         "name_full": "정하나"},
    ]
    assert r.fields == ("name", "last_product", "last_cart_product", "name_full")
    assert "last_product: 2 of 5 rows have no value" in " ".join(r.notes)
    assert "last_cart_product: 2 of 5 rows have no value" in " ".join(r.notes)
    log = _log(tiny_copy).iloc[0]
    assert log["fields"] == "name,last_product,last_cart_product,name_full"
    assert log["purpose"] == "cart reminder with product" and pd.isna(log["variants"])


def test_names_as_given_and_cells_made_excel_safe(tiny_copy, tmp_path):
    with write_store(tiny_copy, settings=SETTINGS) as w:
        w.write("customers", pd.DataFrame({
            "customer_id": list("ABCDE"),
            "name": ["남궁민수", "김철수", "John Smith", "=HYPERLINK(\"x\")", None]}),
            mode="upsert")
    aud = _aud(tiny_copy)
    export_audience(aud, out=tmp_path / "n.csv", purpose="greeting", fields=["name"], now=NOW)
    aud.con.disconnect()
    assert [r["name"] for r in _rows(tmp_path / "n.csv")] == [
        "민수", "철수", "John", "'=HYPERLINK(\"x\")", ""]


@pytest.mark.parametrize(("full", "given_name"), [
    ("김철수", "철수"), ("남궁민수", "민수"), ("제갈량", "량"), ("황보관", "관"),
    ("선우용녀", "용녀"), ("독고영재", "영재"), ("사공일", "일"), ("서문탁", "문탁"),
    ("서문지우", "지우"), ("이영", "영"), ("김 철수", "철수"), ("남궁 민수", "민수"),
    (" 박지성 ", "지성"), ("John Smith", "John"), ("Mary-Jane Doe", "Mary-Jane"),
    ("호", "호"), ("", None), (None, None),
], ids=lambda v: repr(v))
def test_given_names(full, given_name):
    assert given_names(pd.Series([full], dtype=object)).tolist() == [given_name]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=8)), max_size=20))
def test_given_names_keep_rows_and_never_grow(names):
    series = pd.Series(names, dtype=object)
    out = given_names(series)
    assert out.index.equals(series.index)
    for full, part in zip(names, out, strict=True):  # a part of the name, never more
        assert part is None or "".join(part.split()) in "".join(full.split())


def test_coupon_codes_one_for_all_and_per_arm(tiny_copy, tmp_path):
    aud = _aud(tiny_copy)
    export_audience(aud, out=tmp_path / "c.csv", purpose="coupon", fields="coupon_code",
                    coupon_code="WINTER10", now=NOW)
    assert {r["coupon_code"] for r in _rows(tmp_path / "c.csv")} == {"WINTER10"}
    r = export_audience(aud, out=tmp_path / "v.csv", purpose="coupon test", now=NOW,
                        fields="name,coupon_code", coupon_code={"A": "WIN10", "B": "WIN20"},
                        variants={"A": "10% 쿠폰", "B": "20% 쿠폰"})
    aud.con.disconnect()
    arm = assign_variants(list("ABCDE"), "everyone", {"A": 0.5, "B": 0.5})
    for name, code in (("A", "WIN10"), ("B", "WIN20")):
        rows = _rows(tmp_path / f"v.{name}.csv")
        assert [x["customer_id"] for x in rows] == sorted(arm[arm == name].index)
        assert {x["coupon_code"] for x in rows} == {code}
    assert [(a.name, a.coupon_code) for a in r.arms] == [("A", "WIN10"), ("B", "WIN20")]
    assert _log(tiny_copy)["fields"].tolist() == ["coupon_code", "name,coupon_code"]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"fields": "name", "purpose": None}, "personal columns leave the store only for a "
                                          "stated purpose; give --purpose"),
    ({"fields": "name", "purpose": "  "}, "give --purpose"),
    ({"fields": "nmae", "purpose": "x"}, "unknown field 'nmae'; known fields: name, "
                                        "name_full, last_product, last_cart_product, "
                                        "next_order_date, recommended_product, "
                                        "coupon_code. Did you mean 'name'"),
    ({"fields": "coupon_code", "purpose": "x"}, "needs the code: give --coupon-code"),
    ({"fields": "name", "purpose": "x", "coupon_code": "W1"}, "'coupon_code' is not in "
                                                               "--fields"),
], ids=["no-purpose", "blank-purpose", "unknown", "no-code", "code-unused"])
def test_refusals_write_nothing(tiny_copy, tmp_path, kwargs, match):
    aud = _aud(tiny_copy)
    with pytest.raises(ParameterError, match=match):
        export_audience(aud, out=tmp_path / "x.csv", now=NOW, **kwargs)
    aud.con.disconnect()
    assert not (tmp_path / "x.csv").exists()


def test_registry_and_help():
    assert list(FIELDS) == ["name", "name_full", "last_product", "last_cart_product",
                            "next_order_date", "recommended_product", "coupon_code"]
    assert "name: given name only" in field_help("en")
    assert "name: 성을 뺀 이름" in field_help("ko")
    assert check_fields(" name ,name,", purpose="p") == ("name",)


def test_cli_fields(tiny_copy, tmp_path, capsys):
    from workbench.audience import save_definition
    from workbench.audience.cli import main

    folder = tmp_path / "audiences"
    save_definition(AudienceDefinition("all_push", rules=Group("and", ()), channel="push",
                                       is_ad=False, purpose="notice"), folder)
    base = ["export", "all_push", "--store", str(tiny_copy), "--dir", str(folder),
            "--as-of", "2026-11-16", "--out", str(tmp_path / "f.csv")]
    assert main([*base, "--fields", "name,nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown field 'nope'" in err and "last_cart_product" in err
    assert main([*base, "--fields", "name"]) == 2
    assert "--purpose" in capsys.readouterr().err
    assert main([*base, "--fields", "name,coupon_code", "--coupon-code", "APP5",
                 "--purpose", "app coupon"]) == 0, capsys.readouterr().err
    assert _rows(tmp_path / "f.csv")[0] == {"customer_id": "A", "name": "민수",
                                             "coupon_code": "APP5"}


def test_the_builder_form_exports_two_arms_with_fields(tiny_copy, tmp_path):
    from workbench.audience import AudienceParams
    from workbench.ui.audience import AudienceBuilder

    page = AudienceBuilder(AudienceParams(
        store=str(tiny_copy), mode="dashboard", as_of=AS_OF, language="en",
        audiences_dir=str(tmp_path / "audiences")), settings=SETTINGS)
    page.widget()
    page.w_channel.value, page.w_is_ad.value = "push", False
    page.w_purpose.value = "app notice"
    page.w_holdout.value = 0.0
    page.w_text.value, page.w_text_b.value = "새 기능 안내", "새 기능을 써 보세요"
    page.w_fields.value = ("name", "coupon_code")
    page.w_coupon.value = "A=APP5,B=APP10"
    page._export()
    assert "give --purpose" in html.unescape(page.w_export.value)
    page.w_export_purpose.value = "greeting by name in the app notice"
    page._export()
    assert "wb-export-done" in page.w_export.value, page.w_export.value
    arm = assign_variants(list("ABCDE"), "new_audience", {"A": 0.5, "B": 0.5})
    for name, code in (("A", "APP5"), ("B", "APP10")):
        (written,) = (tmp_path / "exports").glob(f"new_audience-*.{name}.csv")
        rows = _rows(written)
        assert [r["customer_id"] for r in rows] == sorted(arm[arm == name].index)
        assert {r["coupon_code"] for r in rows} == {code}
        assert f"download='{written.name}'" in page.w_export.value
    log = _log(tiny_copy).iloc[0]
    assert (log["fields"], log["purpose"]) == ("name,coupon_code",
                                               "greeting by name in the app notice")


# --------------------------------------------------------------------------- filled-in lengths

#: 67 CP949 bytes as written, 45 without its two variables.
NOTICE = "[워크샵] #{name}님, 주문하신 #{last_product} 상품이 발송되었습니다."
#: 51 CP949 bytes: B's filled NOTICE is 45 + 4 (영희) + 51 = 100 bytes.
LONG = "유기농 현미 10kg 국내산 2026년 햅쌀 특등급 산지직송"
SMS_NOTE = ("With the --fields values filled in, 1 of 4 customers' messages exceed the SMS limit "
            "of 90 bytes (CP949; longest 100 bytes): the sending service may cut or refuse "
            "them. Shorten the template or drop a long field (such as last_product), or send "
            "as LMS (--channel lms).")
LMS_NOTE = ("With the --fields values filled in, 1 of 4 customers' messages exceed the LMS limit "
            "of 2,000 bytes (CP949; longest 2,049 bytes): the sending service may cut or "
            "refuse them. Shorten the template or drop a long field (such as last_product).")


def _name_product(path, product_id: str, name: str) -> None:
    products = PRODUCTS.copy()
    products.loc[products["product_id"] == product_id, "name"] = name
    with write_store(path, settings=SETTINGS) as w:
        w.write("products", products, mode="replace")


def _limit_notes(r) -> list[str]:
    return [n for n in r.notes if "bytes (CP949" in n or "바이트(CP949)" in n]


@pytest.mark.parametrize(("channel", "product", "expected"), [
    ("sms", "현미", []),  # A, D: 45 + 4 + 9 = 58; B: 53; E (no order): 49
    ("sms", LONG, [SMS_NOTE]),
    ("lms", LONG, []),
    ("lms", "현" * 1000, [LMS_NOTE]),  # B: 45 + 4 + 2,000 = 2,049
], ids=["sms-fits", "sms-long-product", "lms-fits", "lms-too-long"])
def test_filled_messages_over_the_byte_limit_are_noted(tiny_copy, tmp_path, channel, product,
                                                       expected):
    _name_product(tiny_copy, "P2", product)  # B's last net order o2 is P2
    aud = _aud(tiny_copy, channel=channel)
    r = export_audience(aud, out=tmp_path / "s.csv", purpose="shipping notice by name",
                        message=NOTICE, fields="name,last_product", now=NOW)
    aud.con.disconnect()
    # The template itself fits: only the filled-in text is over.
    assert (r.rows, r.message_check.bytes, r.message_check.ok) == (4, 67, True)
    assert _limit_notes(r) == expected
    assert not any(p in n for n in r.notes for p in ("영희", "이영희", "1033334444", LONG))


def test_filled_length_note_in_korean_and_without_fields(tiny_copy, tmp_path):
    _name_product(tiny_copy, "P2", LONG)
    aud = _aud(tiny_copy, channel="sms")
    with using_language("ko"):
        r = export_audience(aud, out=tmp_path / "k.csv", purpose="이름 넣은 배송 안내",
                            message=NOTICE, fields="name,last_product", now=NOW)
    # Without fields nothing is filled in: the file has no columns for the variables.
    plain = export_audience(aud, out=tmp_path / "p.csv", message=NOTICE, now=NOW)
    aud.con.disconnect()
    assert _limit_notes(r) == [
        "--fields 값을 채우면 고객 4명 중 1명의 메시지가 SMS 한도 90바이트(CP949)를 넘습니다"
        "(가장 긴 메시지 100바이트). 발송 서비스가 잘라 보내거나 거부할 수 있습니다. "
        "템플릿을 줄이거나 긴 항목(last_product 등)을 빼거나, LMS(--channel lms)로 보내세요."]
    assert _limit_notes(plain) == []


@pytest.mark.parametrize("long_arm", [True, False], ids=["B-gets-the-product", "B-does-not"])
def test_filled_lengths_follow_each_arms_message(tiny_copy, tmp_path, long_arm):
    _name_product(tiny_copy, "P2", LONG)
    arm = assign_variants(list("ABCDE"), "everyone", {"A": 0.5, "B": 0.5})
    short = "[워크샵] #{name}님, 주문 상품이 발송되었습니다."
    b_arm, other = arm["B"], "A" if arm["B"] == "B" else "B"
    texts = {b_arm: NOTICE if long_arm else short, other: short if long_arm else NOTICE}
    aud = _aud(tiny_copy, channel="sms")
    r = export_audience(aud, out=tmp_path / "v.csv", purpose="shipping notice by name",
                        variants=dict(sorted(texts.items())), fields="name,last_product",
                        now=NOW)
    aud.con.disconnect()
    assert sum(a.rows for a in r.arms) == 4
    assert _limit_notes(r) == ([SMS_NOTE] if long_arm else [])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["#{name}", "#{last_product}", "#{other}", "가", "A", " ",
                                 "님", "😀", "#{", "}"]), max_size=12),
       st.lists(st.tuples(st.one_of(st.none(), st.text(alphabet="가나A 1😀", max_size=6)),
                          st.one_of(st.none(), st.text(alphabet="현미K ", max_size=6))),
                min_size=1, max_size=5))
def test_filled_bytes_is_the_byte_length_of_the_filled_text(parts, values):
    template = "".join(parts)
    cells = pd.DataFrame(values, columns=["name", "last_product"], dtype=object)
    sizes = filled_bytes(template, cells)
    for (name, product), size in zip(values, sizes, strict=True):
        text = template.replace("#{name}", name or "").replace("#{last_product}", product or "")
        assert size == len(text.replace("😀", "").encode("cp949"))
