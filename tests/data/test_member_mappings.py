"""Member (회원) exports: the `cafe24_members` and `imweb_members` mappings column by column, the
consent vocabulary, and the consent merge of reloads (workbench.data.consent): the latest dated
statement wins and an opt-out is never undone by an undated or older opt-in."""

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.data.consent import merge_customers
from workbench.data.convert import to_boolean
from workbench.data.load import load_file
from workbench.data.schema import TABLES

FIXTURES = Path(__file__).parents[1] / "fixtures"
SEOUL = ZoneInfo("Asia/Seoul")


def kst(text):
    """A Seoul wall-clock time as the UTC instant the store holds."""
    return datetime.fromisoformat(text).replace(tzinfo=SEOUL).astimezone(ZoneInfo("Etc/UTC"))


def customers(store):
    con = duckdb.connect(str(store), read_only=True)
    try:
        table = con.execute("SELECT * FROM customers ORDER BY customer_id").to_arrow_table()
    finally:
        con.close()
    return {r["customer_id"]: r for r in table.to_pylist()}


def hashed(value):
    return "h_" + hashlib.sha256(("test-salt" + value).encode()).hexdigest()[:16]


def write(folder, name, text, encoding="utf-8"):
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


UNSET = {"push_opt_in": None, "night_opt_in": None, "push_consent_at": None,
         "kakao_friend": None, "has_kakaotalk": None, "is_member": True}

CAFE24 = {
    "kimttom": {
        "name": "김똠이", "phone": "01012345678", "email": "ttom@example.com",
        "birth_date": date(1990, 5, 1), "signup_at": kst("2023-03-02 10:15:00"),
        "last_login_at": kst("2024-12-30 21:04:11"), "member_tier": "VIP",
        "points_balance": 12345.0, "sms_opt_in": True, "sms_consent_at": kst("2023-03-02 10:15"),
        "email_opt_in": False, "email_consent_at": kst("2023-03-02 10:15"),
        "consent_at": kst("2023-03-02 10:15"), "region": "서울", "acquisition_channel": "네이버"},
    "leehaeng": {  # phone lost its leading 0; e-mail in capitals; dashed birth date
        "name": "이햏", "phone": "01098765432", "email": "haeng@example.com",
        "birth_date": date(1985, 11, 23), "signup_at": kst("2023-05-10 09:00"),
        "last_login_at": kst("2024-12-29 08:00"), "member_tier": "골드",
        "points_balance": 3000.0, "sms_opt_in": True, "sms_consent_at": kst("2024-06-01 12:00"),
        "email_opt_in": True, "email_consent_at": kst("2024-06-01 12:00"),
        "consent_at": kst("2024-06-01 12:00"), "region": "경기",
        "acquisition_channel": "인스타그램"},
    "parkjy": {  # Korean date form, no e-mail, never logged in, 수신거부/수신
        "name": "박지영", "phone": "01022223333", "email": None, "birth_date": date(1979, 3, 4),
        "signup_at": kst("2024-01-18 10:59"), "last_login_at": None, "member_tier": "일반",
        "points_balance": 0.0, "sms_opt_in": False, "sms_consent_at": kst("2024-01-18 10:59"),
        "email_opt_in": True, "email_consent_at": kst("2024-01-18 11:00"),
        "consent_at": kst("2024-01-18 11:00"), "region": "부산", "acquisition_channel": None},
    "choisarang": {  # empty birth date, consent without dates (동의/거부)
        "name": "최사랑", "phone": "01044445555", "email": "love@example.com", "birth_date": None,
        "signup_at": kst("2024-07-07 07:07:07"), "last_login_at": kst("2024-12-01 19:30"),
        "member_tier": "실버", "points_balance": 500.0, "sms_opt_in": True,
        "sms_consent_at": None, "email_opt_in": False, "email_consent_at": None,
        "consent_at": None, "region": "제주", "acquisition_channel": "카카오"},
    "jungwoo": {  # dotted birth date, lower-case n, no points, address abroad: no region
        "name": "정우성", "phone": "01066667777", "email": "woo@example.com",
        "birth_date": date(1992, 8, 15), "signup_at": kst("2024-11-11 11:11:11"),
        "last_login_at": kst("2024-11-11 11:11:11"), "member_tier": "일반",
        "points_balance": None, "sms_opt_in": False, "sms_consent_at": kst("2024-11-11 11:11:11"),
        "email_opt_in": False, "email_consent_at": kst("2024-11-11 11:11:11"),
        "consent_at": kst("2024-11-11 11:11:11"), "region": None, "acquisition_channel": None},
}

IMWEB = {
    hashed("01011112222"): {  # the same key as this person's orders in imweb_orders.xlsx
        "name": "홍길동", "phone": "01011112222", "email": "hong@example.com",
        "birth_date": date(1988, 2, 29), "signup_at": kst("2024-05-01 10:00"),
        "last_login_at": kst("2025-01-24 16:39"), "member_tier": "일반",
        "points_balance": 1500.0, "sms_opt_in": True, "sms_consent_at": kst("2024-05-01 10:00"),
        "email_opt_in": False, "email_consent_at": kst("2024-05-01 10:00"),
        "consent_at": kst("2024-05-01 10:00"), "region": "서울", "acquisition_channel": None},
    hashed("kim@example.com"): {  # no phone: keyed by the e-mail, as in the orders
        "name": "김철수", "phone": None, "email": "kim@example.com",
        "birth_date": date(1975, 7, 10), "signup_at": kst("2023-12-24 23:59"),
        "last_login_at": kst("2025-01-20 08:15"), "member_tier": "VIP",
        "points_balance": 25000.0, "sms_opt_in": True, "sms_consent_at": kst("2025-01-02 09:00"),
        "email_opt_in": True, "email_consent_at": kst("2025-01-02 09:00"),
        "consent_at": kst("2025-01-02 09:00"), "region": "경남", "acquisition_channel": None},
    hashed("01033334444"): {  # 똠; phone lost its 0; 아니오/수신 with different dates
        "name": "남궁똠", "phone": "01033334444", "email": "ttom.ng@example.com",
        "birth_date": date(2000, 1, 1), "signup_at": kst("2024-08-15 12:00"),
        "last_login_at": None, "member_tier": "실버", "points_balance": 0.0,
        "sms_opt_in": False, "sms_consent_at": kst("2024-08-15 12:00"),
        "email_opt_in": True, "email_consent_at": kst("2024-09-01 09:30"),
        "consent_at": kst("2024-09-01 09:30"), "region": None, "acquisition_channel": None},
    hashed("01055556666"): {  # empty birth date and points; "수신 거부" with a space
        "name": "이영희", "phone": "01055556666", "email": "young@example.com",
        "birth_date": None, "signup_at": kst("2024-10-10 10:10"),
        "last_login_at": kst("2024-12-31 23:00"), "member_tier": "일반",
        "points_balance": None, "sms_opt_in": False, "sms_consent_at": None,
        "email_opt_in": True, "email_consent_at": None, "consent_at": None, "region": "전북",
        "acquisition_channel": None},
}


@pytest.mark.parametrize(("file", "mapping", "encoding", "expected"), [
    ("cafe24_members.xlsx", "cafe24_members", None, CAFE24),
    ("cafe24_members_cp949.csv", "cafe24_members", "cp949", CAFE24),
    ("imweb_members.xlsx", "imweb_members", None, IMWEB),
    ("imweb_members_bom.csv", "imweb_members", "utf-8-sig", IMWEB),
], ids=["cafe24-xlsx", "cafe24-cp949", "imweb-xlsx", "imweb-bom"])
def test_every_column_of_a_member_export(tmp_path, file, mapping, encoding, expected):
    report = load_file("customers", FIXTURES / file, mapping=mapping, store=tmp_path / "s.duckdb")
    assert (report.encoding, report.rows_written, report.warnings) == (
        encoding, {"customers": len(expected)}, ())
    got = customers(tmp_path / "s.duckdb")
    assert got == {key: {"customer_id": key, **UNSET, **row} for key, row in expected.items()}
    assert list(next(iter(got.values()))) == list(TABLES["customers"].names)


def test_imweb_members_meet_their_orders(tmp_path):
    store = tmp_path / "s.duckdb"
    load_file("orders", FIXTURES / "imweb_orders.xlsx", mapping="imweb", store=store)
    load_file("customers", FIXTURES / "imweb_members.xlsx", mapping="imweb_members", store=store)
    con = duckdb.connect(str(store), read_only=True)
    joined = con.execute("SELECT count(*) FROM orders o JOIN customers c USING (customer_id) "
                         "WHERE c.member_tier IS NOT NULL").fetchone()[0]
    con.close()
    assert joined == 3  # every order of the fixture has a member behind it


# -- consent values ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("Y", True), ("y", True), (" N ", False), ("T", True), ("f", False), ("동의", True),
    ("거부", False), ("수신", True), ("수신거부", False), ("수신 거부", False), ("예", True),
    ("아니오", False), ("true", True), ("FALSE", False), ("1", True), ("0", False),
    ("수신안함", False), ("수신함", True), ("동의함", True), ("미동의", False), ("", None),
])
def test_consent_values(text, expected):
    conv = to_boolean(pa.array([text]))
    assert (conv.values.to_pylist(), conv.bad.tolist()) == ([expected], [False])


@pytest.mark.parametrize("text", ["글쎄", "YN", "동의?", "2"])
def test_unknown_consent_values_are_bad(text):
    conv = to_boolean(pa.array([text]))
    assert (conv.values.to_pylist(), conv.bad.tolist()) == ([None], [True])


def test_a_mapping_can_translate_new_consent_words_and_the_rest_stay_checked(tmp_path):
    mapping = write(tmp_path, "my.toml",
                    '[fields]\ncustomer_id = "ID"\n'
                    'sms_opt_in = { column = "SMS", map = { "받음" = "true" } }\n'
                    '[tables.customers]\none_per = "customer_id"\n')
    good = write(tmp_path, "good.csv", "ID,SMS\nA,받음\nB,N\n")
    load_file("customers", good, mapping=mapping, store=tmp_path / "s.duckdb")
    assert [r["sms_opt_in"] for r in customers(tmp_path / "s.duckdb").values()] == [True, False]
    bad = write(tmp_path, "bad.csv", "ID,SMS\nC,받음\nD,글쎄\n")
    with pytest.raises(ValueError, match=r"bad.csv: column 'SMS' \(customers.sms_opt_in\) has 1 "
                                         r"value\(s\) that are not yes/no values, in row\(s\) 3 "
                                         r"\(e.g. '글쎄'\)"):
        load_file("customers", bad, mapping=mapping, store=tmp_path / "s.duckdb")


CAFE24_HEAD = "회원아이디,이름,휴대폰번호,SMS 수신여부,SMS 수신동의일,뉴스메일 수신여부\n"


def test_a_bad_consent_value_exits_2_names_file_column_row_and_changes_nothing(tmp_path,
                                                                               capsys):
    store = tmp_path / "s.duckdb"
    load_file("customers", FIXTURES / "cafe24_members_cp949.csv", mapping="cafe24_members",
              store=store)
    before = store.read_bytes()
    bad = write(tmp_path, "회원.csv", CAFE24_HEAD + "kimttom,김똠이,010-1234-5678,Y,,T\n"
                                                   "newbie,홍똠,010-9999-8888,글쎄,,T\n", "cp949")
    code = main(["load", "customers", str(bad), "--mapping", "cafe24_members",
                 "--store", str(store), "-q"])
    err = " ".join(capsys.readouterr().err.split())  # the CLI wraps long lines
    assert code == 2
    assert ("회원.csv: column 'SMS 수신여부' (customers.sms_opt_in) has 1 value(s) that are not "
            "yes/no values, in row(s) 3 (e.g. '글쎄')") in err
    for personal in ("김똠이", "홍똠", "01012345678", "010-9999-8888", "01099998888"):
        assert personal not in err
    assert store.read_bytes() == before


def test_a_bad_phone_is_reported_by_row_without_the_number(tmp_path, capsys):
    bad = write(tmp_path, "회원.csv", CAFE24_HEAD + "kimttom,김똠이,12-34,Y,,T\n", "cp949")
    code = main(["load", "customers", str(bad), "--mapping", "cafe24_members",
                 "--store", str(tmp_path / "s.duckdb"), "-q"])
    err = " ".join(capsys.readouterr().err.split())
    assert code == 2
    assert "'휴대폰번호' (customers.phone)" in err and "row(s) 2" in err
    assert "12-34" not in err and "김똠이" not in err


# -- reloads: the consent merge ---------------------------------------------------------------

def sms(store, key="kimttom"):
    row = customers(store)[key]
    return row["sms_opt_in"], row["sms_consent_at"]


@pytest.fixture
def cafe24_store(tmp_path):
    store = tmp_path / "s.duckdb"
    load_file("customers", FIXTURES / "cafe24_members.xlsx", mapping="cafe24_members", store=store)
    return store


def test_a_weekly_reload_needs_no_mode_and_changes_nothing(cafe24_store):
    before = customers(cafe24_store)
    report = load_file("customers", FIXTURES / "cafe24_members_cp949.csv",
                       mapping="cafe24_members", store=cafe24_store)
    assert report.rows_written == {"customers": 5}
    assert report.warnings == (
        "customers: 5 customer(s) were already in the store and were updated from the file; "
        "columns the file does not have kept their stored values, and consent was merged by "
        "date (an undated or older opt-in never undoes an opt-out).",)
    assert customers(cafe24_store) == before
    again = load_file("customers", FIXTURES / "cafe24_members.xlsx", mapping="cafe24_members",
                      mode="upsert", store=cafe24_store)
    assert (again.warnings, customers(cafe24_store)) == ((), before)


def test_an_undated_opt_in_never_undoes_an_opt_out(tmp_path, cafe24_store):
    # parkjy opted out of SMS on 2024-01-18; jungwoo on 2024-11-11; this file has no dates
    file = write(tmp_path, "m.csv", "회원아이디,SMS 수신여부\nparkjy,Y\njungwoo,T\nkimttom,N\n")
    report = load_file("customers", file, mapping="cafe24_members", mode="upsert",
                       store=cafe24_store)
    assert report.warnings == (
        "customers: 2 stored SMS opt-out(s) were kept although the file says opt-in: the file "
        "has no consent date for these rows, so it cannot show that the customer consented "
        "again after opting out. Include the consent date column in the export (e.g. "
        "'SMS 수신동의일') to let genuine new consents through.",)
    assert sms(cafe24_store, "parkjy") == (False, kst("2024-01-18 10:59"))
    assert sms(cafe24_store, "jungwoo") == (False, kst("2024-11-11 11:11:11"))
    # an opt-out needs no date: it applies at once (the stored date stays)
    assert sms(cafe24_store, "kimttom") == (False, kst("2023-03-02 10:15"))


def test_a_later_dated_opt_in_is_accepted_and_older_or_same_day_ones_are_not(tmp_path,
                                                                            cafe24_store):
    file = write(tmp_path, "m.csv", "회원아이디,SMS 수신여부,SMS 수신동의일\n"
                                    "parkjy,Y,2024-02-01 09:00\n"      # later: accepted
                                    "jungwoo,Y,2024-11-11 11:11:11\n"  # same instant: kept out
                                    "kimttom,N,2022-01-01 00:00\n")    # older: ignored
    report = load_file("customers", file, mapping="cafe24_members", mode="upsert",
                       store=cafe24_store)
    assert report.warnings == (
        "customers: 1 stored SMS opt-out(s) were kept although the file says opt-in: the "
        "file's consent date is not later than the stored opt-out's. If the file is the newer "
        "export, check its consent dates.",
        "customers: 1 SMS consent value(s) in the file are dated before the stored ones and "
        "were ignored (is this an older export?).")
    assert sms(cafe24_store, "parkjy") == (True, kst("2024-02-01 09:00"))
    assert sms(cafe24_store, "jungwoo") == (False, kst("2024-11-11 11:11:11"))
    assert sms(cafe24_store, "kimttom") == (True, kst("2023-03-02 10:15"))
    # consent_at follows the latest channel date
    assert customers(cafe24_store)["parkjy"]["consent_at"] == kst("2024-02-01 09:00")


def test_columns_the_file_does_not_fill_keep_their_values(tmp_path, cafe24_store):
    # another source marks KakaoTalk friends and push consent
    extra = write(tmp_path, "k.csv", "customer_id,kakao_friend,has_kakaotalk,push_opt_in\n"
                                     "kimttom,true,true,true\n")
    load_file("customers", extra, mode="upsert", store=cafe24_store)
    before = customers(cafe24_store)["kimttom"]
    # a slimmer template: no birth date, tier or points column, and an empty name cell
    file = write(tmp_path, "m.csv", "회원아이디,이름,휴대폰번호\nkimttom,,010-1234-0000\n")
    load_file("customers", file, mapping="cafe24_members", store=cafe24_store)
    after = customers(cafe24_store)["kimttom"]
    assert after == {**before, "phone": "01012340000"}
    assert (after["kakao_friend"], after["has_kakaotalk"], after["push_opt_in"],
            after["name"], after["member_tier"]) == (True, True, True, "김똠이", "VIP")


def test_an_order_export_does_not_overwrite_members(cafe24_store):
    before = customers(cafe24_store)
    report = load_file("orders", FIXTURES / "cafe24_orders.xlsx", mapping="cafe24",
                       store=cafe24_store)
    after = customers(cafe24_store)
    assert {k: after[k] for k in before} == before
    assert "3 row(s) of table 'customers' were already in the store" in report.warnings[-1]


def test_replace_mode_replaces_the_members(tmp_path, cafe24_store):
    file = write(tmp_path, "m.csv", "회원아이디,SMS 수신여부\nparkjy,Y\n")
    load_file("customers", file, mapping="cafe24_members", mode="replace", store=cafe24_store)
    assert [(k, r["sms_opt_in"], r["name"]) for k, r in customers(cafe24_store).items()] == [
        ("parkjy", True, None)]


def test_a_canonical_customers_upsert_follows_the_same_rule(tmp_path, cafe24_store):
    file = write(tmp_path, "c.csv", "customer_id,sms_opt_in,email_opt_in\nparkjy,true,false\n")
    report = load_file("customers", file, mode="upsert", store=cafe24_store)
    assert len(report.warnings) == 1 and "1 stored SMS opt-out(s)" in report.warnings[0]
    row = customers(cafe24_store)["parkjy"]
    assert (row["sms_opt_in"], row["email_opt_in"], row["name"]) == (False, False, "박지영")
    # a canonical file without channel dates is dated by its consent_at
    dated = write(tmp_path, "d.csv", "customer_id,sms_opt_in,consent_at\n"
                                     "parkjy,true,2024-01-20 09:00\n")
    assert load_file("customers", dated, mode="upsert", store=cafe24_store).warnings == ()
    row = customers(cafe24_store)["parkjy"]
    assert (row["sms_opt_in"], row["sms_consent_at"], row["consent_at"]) == (
        True, kst("2024-01-20 09:00"), kst("2024-01-20 09:00"))


def test_rows_without_channel_dates_compare_with_consent_at(tmp_path):
    # a store written before the channel dates existed: only consent_at
    store = tmp_path / "s.duckdb"
    old = write(tmp_path, "old.csv", "customer_id,sms_opt_in,email_opt_in,consent_at\n"
                                     "A,false,false,2024-03-01 10:00\n"
                                     "B,false,false,2024-03-01 10:00\n")
    load_file("customers", old, store=store)
    file = write(tmp_path, "m.csv", "회원아이디,SMS 수신여부,SMS 수신동의일\n"
                                    "A,Y,2024-03-02 10:00\nB,Y,2024-02-01 10:00\n")
    report = load_file("customers", file, mapping="cafe24_members", store=store)
    got = customers(store)
    assert [(k, r["sms_opt_in"], r["sms_consent_at"], r["consent_at"])
            for k, r in got.items()] == [
        ("A", True, kst("2024-03-02 10:00"), kst("2024-03-02 10:00")),
        ("B", False, None, kst("2024-03-01 10:00"))]
    assert "1 stored SMS opt-out(s) were kept" in report.warnings[0]


def test_a_failed_reload_leaves_the_store_unchanged(tmp_path, cafe24_store):
    before = cafe24_store.read_bytes()
    file = write(tmp_path, "m.csv", "회원아이디,SMS 수신여부,생년월일\nparkjy,Y,1990-02-30\n")
    with pytest.raises(ValueError, match="m.csv: column '생년월일' \\(customers.birth_date\\)"):
        load_file("customers", file, mapping="cafe24_members", store=cafe24_store)
    assert cafe24_store.read_bytes() == before


# -- the property ------------------------------------------------------------------------------

DAYS = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
statements = st.lists(st.tuples(st.booleans(), st.sampled_from([None, *DAYS])), min_size=1,
                      max_size=8)


def _apply(sequence):
    """Run each statement through the merge as one member load; return the states after each."""
    ts = pa.timestamp("us", tz="UTC")
    stored, states = None, []
    for opt, at in sequence:
        loaded = pa.table({"customer_id": ["C1"], "sms_opt_in": [opt],
                           "sms_consent_at": pa.array([at], ts)})
        if stored is None:
            stored = merge_customers(loaded, loaded, found=np.array([False])).table
        else:
            stored = merge_customers(stored, loaded, found=np.array([True])).table
        states.append(stored.column("sms_opt_in")[0].as_py())
    return states


@settings(max_examples=300, deadline=None)
@given(statements)
def test_opted_in_only_if_the_latest_dated_statement_was_an_opt_in(sequence):
    states = _apply(sequence)
    for k, opted_in in enumerate(states, start=1):
        seen = sequence[:k]
        dated = [(at, opt) for opt, at in seen if at is not None]
        if opted_in and dated:
            latest = max(at for at, _ in dated)
            assert all(opt for at, opt in dated if at == latest)
        if opted_in and not dated:
            assert all(opt for opt, _ in seen)  # undated only: one opt-out is final
        opt, at = seen[-1]
        if not opt and (at is None or all(at >= d for d, _ in dated)):
            assert opted_in is False  # an opt-out not older than anything stored applies


def test_the_merge_keeps_the_file_order_and_every_customers_column():
    stored = pa.table({"customer_id": ["A", "B"], "name": ["가", "나"],
                       "kakao_friend": [True, None]})
    loaded = pa.table({"customer_id": ["B", "C"], "name": [None, "다"]})
    merged = merge_customers(stored.take([1, 0]), loaded, found=np.array([True, False]))
    assert merged.table.to_pydict() == {"customer_id": ["B", "C"], "name": ["나", "다"],
                                        "kakao_friend": [None, None]}
    assert merged.updated == 1

