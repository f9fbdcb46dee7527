"""Mappings: the file format, lookup, and each shipped mapping on its fixture."""

import csv
import hashlib
import io
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from workbench.data.load import load_file
from workbench.data.mappings import canonical_mapping, load_mapping, shipped_mappings
from workbench.errors import ParameterError, SchemaError

FIXTURES = Path(__file__).parents[1] / "fixtures"
CDNOW = Path(__file__).parents[2] / "data" / "cdnow" / "CDNOW_master.txt"
SHIPPED = ["cafe24", "cdnow", "imweb", "online_retail", "shopify"]


@pytest.fixture
def store(tmp_path):
    return tmp_path / "shop.duckdb"


def rows(store, table, order="1"):
    """Rows of a stored table as dicts (timestamps as UTC datetimes)."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(f'SELECT * FROM "{table}" ORDER BY {order}').to_arrow_table().to_pylist()
    finally:
        con.close()


def utc(*args):
    return datetime(*args, tzinfo=ZoneInfo("Etc/UTC"))


def salted(value, salt="test-salt"):
    return "h_" + hashlib.sha256((salt + value).encode()).hexdigest()[:16]


# -- lookup ------------------------------------------------------------------------------------


def test_shipped_mappings_are_found_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert SHIPPED == sorted(n for n in shipped_mappings() if n in SHIPPED)
    for name in SHIPPED:
        mapping = load_mapping(name)
        assert mapping.name == name and mapping.description
        assert list(mapping.tables) == ["customers", "orders", "order_items"]


def test_a_mapping_in_the_working_directory_is_found_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "mappings").mkdir(parents=True)
    (tmp_path / "data" / "mappings" / "myshop.toml").write_text(
        '[fields]\nproduct_id = "코드"\n[tables.products]\n', encoding="utf-8")
    assert load_mapping("myshop").fields["product_id"].columns == ("코드",)


def test_unknown_mapping_lists_the_shipped_ones(tmp_path):
    expected = ("orders.csv: unknown mapping 'cafe42'. Shipped mappings: cafe24, cafe24_members, "
                "cdnow, imweb, imweb_members, online_retail, send_report, shopify; or pass the "
                "path of a mapping file (.toml, .yaml or .yml).")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        load_file("orders", tmp_path / "orders.csv", mapping="cafe42", store=tmp_path / "s.db")


def test_table_not_filled_by_the_mapping(tmp_path):
    expected = ("x.csv: mapping 'cdnow' fills the table(s) 'customers', 'orders', "
                "'order_items', not 'products'. Load it into one of these (all of them are filled "
                "at once), or choose another mapping.")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        load_file("products", tmp_path / "x.csv", mapping="cdnow", store=tmp_path / "s.db")


def test_canonical_mapping_matches_headers_loosely():
    mapping = canonical_mapping("orders", ["Order_ID", "amount (KRW)", "ordered_at"])
    assert mapping.fields["order_id"].columns == ("Order_ID",)
    assert mapping.fields["amount"].columns == ("amount (KRW)",)
    assert mapping.canonical and "status" not in mapping.fields


# -- the format --------------------------------------------------------------------------------

CUSTOM_TOML = """
name = "mini"
currency = "KRW"
[fields]
order_id = { template = "{몰}-{번호}-{seq}" }
ordered_at = { column = "시각", unit = "s" }
status = { column = "상태", map = { "완료" = "confirmed", "취소" = "cancelled" }, default = "완료" }
amount = { column = "금액", minus = ["환불"] }
channel = { value = "app" }
customer_id = { column = "회원", transform = "upper" }
[tables.orders]
"""

CUSTOM_YAML = """
name: mini
currency: KRW
fields:
  order_id: {template: "{몰}-{번호}-{seq}"}
  ordered_at: {column: 시각, unit: s}
  status: {column: 상태, map: {완료: confirmed, 취소: cancelled}, default: 완료}
  amount: {column: 금액, minus: [환불]}
  channel: {value: app}
  customer_id: {column: 회원, transform: upper}
tables:
  orders: {}
"""

CUSTOM_CSV = """몰,번호,시각,상태,금액,환불,회원
A,1,1705293912,완료,"12,000",,c1
A,1,1705293913,,"5,000",500,c2
B,1,1705293914,취소,900,,
"""


@pytest.mark.parametrize(("suffix", "text"), [(".toml", CUSTOM_TOML), (".yaml", CUSTOM_YAML)],
                         ids=["toml", "yaml"])
def test_custom_mapping_features(tmp_path, store, suffix, text):
    mapping = tmp_path / f"mini{suffix}"
    mapping.write_text(text, encoding="utf-8")
    data = tmp_path / "mini.csv"
    data.write_text(CUSTOM_CSV, encoding="utf-8")
    report = load_file("orders", data, mapping=mapping, store=store)
    assert report.mapping == "mini" and report.rows_written == {"orders": 3}
    got = rows(store, "orders")
    assert [(r["order_id"], r["status"], r["amount"], r["channel"], r["customer_id"])
            for r in got] == [("A-1-1", "confirmed", 12000.0, "app", "C1"),
                              ("A-1-2", "confirmed", 4500.0, "app", "C2"),
                              ("B-1-1", "cancelled", 900.0, "app", None)]
    assert got[0]["ordered_at"] == utc(2024, 1, 15, 4, 45, 12)  # Unix seconds are UTC


def test_mapped_unknown_status_lists_allowed_and_known_values(tmp_path, store):
    mapping = tmp_path / "mini.toml"
    mapping.write_text(CUSTOM_TOML, encoding="utf-8")
    data = tmp_path / "mini.csv"
    data.write_text(CUSTOM_CSV.replace("취소", "보류"), encoding="utf-8")
    expected = ("mini.csv: column '상태' (orders.status) has 1 row(s) with value(s) that "
                "orders.status does not allow: '보류', in row(s) 4. Allowed values: 'pending', "
                "'paid', 'shipped', 'delivered', 'confirmed', 'cancelled', 'returned'. Mapping "
                "'mini' translates '완료', '취소'; add the new value(s) to its 'map'.")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        load_file("orders", data, mapping=mapping, store=store)


@pytest.mark.parametrize(("text", "detail"), [
    ('[fields]\norder_id = { colum = "a" }\n[tables.orders]\n',
     "unknown key(s) 'colum' in [fields] order_id; allowed: 'column', 'value', 'template', "
     "'hash', 'sequence', 'multiply', 'rules', 'optional', 'map', 'format', 'unit', "
     "'transform', 'minus', 'default'"),
    ('[fields]\norder_id = { column = "a", value = "b" }\n[tables.orders]\n',
     "[fields] order_id: give exactly one of 'column', 'value', 'template', 'hash', 'sequence', "
     "'multiply', 'rules'"),
    ('[fields]\norder_id = "a"\n[tables.orders]\n',
     "table 'orders' needs 'ordered_at', 'status', 'amount', but no field fills it (add it under "
     "[fields])"),
    ('[fields]\n[tables.sales]\n',
     "unknown table 'sales'; mappings fill 'customers', 'orders', 'order_items', 'products', "
     "'events', 'campaigns', 'assignments', 'messages'"),
    ('[fields\n', "line 1: not valid TOML (Expected ']' at the end of a table declaration)"),
], ids=["unknown-key", "two-sources", "incomplete", "unknown-table", "syntax"])
def test_invalid_mapping_files(tmp_path, text, detail):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    expected = f"mapping '{path}': {detail}. See data/mappings/README.md for the format."
    with pytest.raises(ParameterError, match=re.escape(expected)):
        load_mapping(path)


def test_missing_source_header_names_the_mapping_and_the_target(tmp_path, store):
    path = tmp_path / "c.csv"
    path.write_text("주문번호,주문일시,주문 상태값,수량,상품구매금액\n1,2024-01-01,배송중,1,100\n",
                    encoding="utf-8")
    expected = ("c.csv: mapping 'cafe24' reads orders.status from the column '주문상태', "
                "which the file does not have; its columns are '주문번호', '주문일시', "
                "'주문 상태값', '수량', '상품구매금액'. Did you mean '주문 상태값' instead of "
                "'주문상태'? Export the file with this column, or copy the mapping and change "
                "the header name.")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        load_file("orders", path, mapping="cafe24", store=store)


# -- Cafe24 ------------------------------------------------------------------------------------

CAFE24_ORDERS = [
    ("20240115-0000001", "kimttom", utc(2024, 1, 15, 4, 45, 12), "delivered", 32000.0, 0.0,
     0.0, 3000.0, "PC쇼핑몰"),
    ("20240115-0000002", "leehaeng", utc(2024, 1, 15, 5, 0), "shipped", 50000.0, 2000.0,
     1000.0, 0.0, "모바일웹"),
    ("20240116-0000003", None, utc(2024, 1, 16, 0, 10), "pending", 15000.0, 0.0, 0.0, 3000.0,
     "네이버 페이"),
    ("20240117-0000004", "kimttom", utc(2024, 1, 17, 11, 30), "cancelled", 29000.0, 0.0, 0.0,
     0.0, "PC쇼핑몰"),
    ("20240118-0000005", "parkjy", utc(2024, 1, 18, 2, 0), "returned", 45000.0, 0.0, 0.0, 0.0,
     "모바일웹"),
    ("20240119-0000006", "leehaeng", utc(2024, 1, 18, 23, 5), "cancelled", 12000.0, 0.0, 0.0,
     0.0, "모바일웹"),
]


def _order_tuples(store):
    return [(r["order_id"], r["customer_id"], r["ordered_at"], r["status"], r["amount"],
             r["discount"], r["points_used"], r["shipping_fee"], r["channel"])
            for r in rows(store, "orders")]


@pytest.mark.parametrize("name", ["cafe24_orders_cp949.csv", "cafe24_orders.xlsx"],
                         ids=["cp949-csv", "xlsx"])
def test_cafe24_export(store, name):
    report = load_file("orders", FIXTURES / name, mapping="cafe24", store=store)
    assert report.rows_read == 7
    assert report.rows_written == {"customers": 3, "orders": 6, "order_items": 7}
    assert report.encoding == ("cp949" if name.endswith(".csv") else None)
    assert _order_tuples(store) == CAFE24_ORDERS
    items = rows(store, "order_items", "order_id, line_no")
    assert [(i["order_id"][-1], i["line_no"], i["product_id"], i["quantity"], i["unit_price"],
             i["line_amount"]) for i in items[1:3]] == [("2", 1, "P0002", 1, 30000.0, 30000.0),
                                                        ("2", 2, "P0003", 2, 11500.0, 23000.0)]
    assert items[0]["option"] == "색상=화이트" and items[0]["product_name"] == "무지 티셔츠"
    assert [(c["customer_id"], c["name"], c["phone"]) for c in rows(store, "customers")] == [
        ("kimttom", "김똠이", "01012345678"), ("leehaeng", "이햏", "01098765432"),
        ("parkjy", "박지영", "01022223333")]
    assert report.warnings == ("1 order(s) have no customer_id (guest orders): they count "
                               "towards revenue but not towards customer analyses.",)


def test_cafe24_without_a_total_column_sums_the_lines(tmp_path, store):
    text = (FIXTURES / "cafe24_orders_cp949.csv").read_bytes().decode("cp949")
    table = list(csv.reader(io.StringIO(text)))
    drop = table[0].index("총결제금액(KRW)")
    path = tmp_path / "no_total.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([r[:drop] + r[drop + 1:] for r in table])
    load_file("orders", path, mapping="cafe24", store=store)
    amounts = {r["order_id"][-1]: r["amount"] for r in rows(store, "orders")}
    assert amounts == {"1": 29000.0, "2": 53000.0, "3": 12000.0, "4": 29000.0, "5": 45000.0,
                       "6": 12000.0}


def test_cafe24_unknown_status(tmp_path, store):
    text = (FIXTURES / "cafe24_orders_cp949.csv").read_bytes().decode("cp949")
    path = tmp_path / "c.csv"
    path.write_text(text.replace("배송중", "배송 대기중"), encoding="utf-8")
    with pytest.raises(SchemaError, match=re.escape(
            "c.csv: column '주문상태' (orders.status) has 2 row(s) with value(s) that "
            "orders.status does not allow: '배송 대기중', in row(s) 3, 4. Allowed values: "
            "'pending', 'paid', 'shipped', 'delivered', 'confirmed', 'cancelled', 'returned'. "
            "Mapping 'cafe24' translates '입금전', '결제완료', '상품준비중'")):
        load_file("orders", path, mapping="cafe24", store=store)


# -- imweb -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["imweb_orders_bom.csv", "imweb_orders.xlsx"],
                         ids=["bom-csv", "xlsx"])
def test_imweb_export(store, name):
    report = load_file("orders", FIXTURES / name, mapping="imweb", store=store)
    assert report.rows_written == {"customers": 2, "orders": 3, "order_items": 4}
    hong, kim = salted("01011112222"), salted("kim@example.com")
    assert [(r["order_id"], r["customer_id"], r["status"], r["amount"], r["ordered_at"])
            for r in rows(store, "orders")] == [
        ("202501240001", hong, "confirmed", 30000.0, utc(2025, 1, 24, 7, 39)),
        ("202501240002", kim, "pending", 17500.0, utc(2025, 1, 24, 9, 2)),
        ("202501250003", hong, "cancelled", 8000.0, utc(2025, 1, 25, 1, 15))]
    customers = {c["customer_id"]: c for c in rows(store, "customers")}
    assert customers[hong]["phone"] == "01011112222"
    assert customers[kim]["email"] == "kim@example.com" and customers[kim]["phone"] is None
    assert [i["line_amount"] for i in rows(store, "order_items", "order_id, line_no")] == [
        17500.0, 10000.0, 15000.0, 8000.0]
    assert report.warnings == ()


def test_imweb_salt_file_is_created_next_to_the_store_once(tmp_path, monkeypatch):
    monkeypatch.delenv("WORKBENCH_SALT")
    first = tmp_path / "data" / "a.duckdb"
    load_file("orders", FIXTURES / "imweb_orders_bom.csv", mapping="imweb", store=first)
    salt = (tmp_path / "data" / ".salt").read_text().strip()
    assert re.fullmatch(r"[0-9a-f]{32}", salt)
    assert {r["customer_id"] for r in rows(first, "customers")} == {
        salted("01011112222", salt), salted("kim@example.com", salt)}
    second = tmp_path / "data" / "b.duckdb"
    load_file("orders", FIXTURES / "imweb_orders.xlsx", mapping="imweb", store=second)
    assert (tmp_path / "data" / ".salt").read_text().strip() == salt
    assert rows(first, "customers") == rows(second, "customers")


# -- Shopify -----------------------------------------------------------------------------------


def test_shopify_export(store):
    report = load_file("orders", FIXTURES / "shopify_orders.csv", mapping="shopify", store=store)
    assert report.rows_written == {"customers": 3, "orders": 4, "order_items": 5}
    ana, ben, cho = (salted(f"{n}@example.com") for n in ("ana", "ben", "cho"))
    assert [(r["order_id"], r["customer_id"], r["status"], r["amount"], r["discount"],
             r["shipping_fee"], r["coupon_code"]) for r in rows(store, "orders")] == [
        ("#1001", ana, "shipped", 57000.0, 5000.0, 3000.0, "WELCOME10"),
        ("#1002", ben, "returned", 0.0, 0.0, 0.0, None),
        ("#1003", ana, "cancelled", 22000.0, 0.0, 3000.0, None),
        ("#1004", cho, "pending", 40000.0, 0.0, 0.0, None)]
    assert rows(store, "orders")[0]["ordered_at"] == utc(2024, 1, 15, 4, 45, 12)
    items = rows(store, "order_items", "order_id, line_no")
    assert [(i["order_id"], i["line_no"], i["product_id"], i["quantity"], i["line_amount"])
            for i in items[:2]] == [("#1001", 1, "GT-50", 2, 40000.0),
                                    ("#1001", 2, "CUP-1", 1, 19000.0)]
    customers = {c["customer_id"]: c for c in rows(store, "customers")}
    assert customers[ana]["email"] == "ana@example.com" and customers[ana]["name"] == "Ana Park"
    assert customers[ana]["phone"] == "01033334444" and customers[ana]["email_opt_in"] is True
    assert customers[ben]["email_opt_in"] is False and customers[ben]["sms_opt_in"] is None


# -- UCI Online Retail -------------------------------------------------------------------------


def test_online_retail(store):
    report = load_file("orders", FIXTURES / "online_retail.csv", mapping="online_retail",
                       store=store)
    assert report.rows_written == {"customers": 2, "orders": 5, "order_items": 6}
    assert [(r["order_id"], r["customer_id"], r["status"], r["amount"], r["ordered_at"])
            for r in rows(store, "orders")] == [
        ("536365", "17850", "confirmed", 35.64, utc(2010, 12, 1, 8, 26)),
        ("536366", "17850", "confirmed", 11.1, utc(2010, 12, 1, 8, 28)),
        ("536414", None, "confirmed", 0.0, utc(2010, 12, 1, 11, 52)),
        ("536544", None, "confirmed", 2.51, utc(2010, 12, 1, 14, 32)),
        ("C536379", "14527", "cancelled", -27.5, utc(2010, 12, 1, 9, 41))]
    cancelled = [i for i in rows(store, "order_items") if i["order_id"] == "C536379"]
    assert (cancelled[0]["quantity"], cancelled[0]["line_amount"]) == (-1, -27.5)
    assert [c["region"] for c in rows(store, "customers")] == ["United Kingdom"] * 2
    assert report.warnings == (
        "mapping 'online_retail' reads amounts in GBP, but the store's currency is KRW: set "
        'currency = "GBP" in workbench.toml if this store holds only this data.',
        "2 order(s) have no customer_id (guest orders): they count towards revenue but not "
        "towards customer analyses.")


def test_online_retail_negative_quantity_outside_a_cancellation(tmp_path, store):
    path = tmp_path / "r.csv"
    path.write_text((FIXTURES / "online_retail.csv").read_text().replace(
        "536366,22633,HAND WARMER UNION JACK,6", "536366,22633,HAND WARMER UNION JACK,-6"))
    expected = ("r.csv: column 'Quantity' (order_items.quantity) has 1 negative value(s), in "
                "row(s) 4 (e.g. '-6'); order_items.quantity cannot be negative. Fix or remove "
                "these rows.")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        load_file("orders", path, mapping="online_retail", store=store)


# -- CDNOW -------------------------------------------------------------------------------------


def test_cdnow_master(store):
    report = load_file("orders", CDNOW, mapping="cdnow", store=store)
    assert report.rows_read == 69_659
    assert report.rows_written == {"customers": 23_570, "orders": 69_659, "order_items": 69_659}
    con = duckdb.connect(str(store), read_only=True)
    try:
        same_day = con.execute("SELECT order_id, amount FROM orders WHERE customer_id = '00002' "
                               "ORDER BY order_id").fetchall()
        total, cds = con.execute("SELECT round(sum(amount), 2), (SELECT sum(quantity) FROM "
                                 "order_items) FROM orders").fetchone()
        con.execute("SET TimeZone = 'Asia/Seoul'")
        first = con.execute("SELECT min(ordered_at)::VARCHAR FROM orders").fetchone()[0]
    finally:
        con.close()
    assert same_day == [("00002-19970112-1", 12.0), ("00002-19970112-2", 77.0)]
    raw = [line.split() for line in CDNOW.read_text().splitlines()[1:]]
    assert total == round(sum(float(r[3]) for r in raw), 2)
    assert cds == sum(int(r[2]) for r in raw)
    assert first == "1997-01-01 00:00:00+09"  # dates stay dates in the shop's zone


@pytest.mark.parametrize(("fields", "detail"), [
    ('a = { template = "{b}" }\nb = { template = "{a}" }\norder_id = { template = "{a}" }\n',
     "fields 'order_id', 'a', 'b' refer to each other in a circle"),
    ('order_id = { rules = [{ regex = "(", value = "x" }] }\n',
     "[fields] order_id rules: bad regex '(' (missing ), unterminated subpattern at position 0)"),
    ('order_id = { value = "x", map = { "a" = "b" } }\n',
     "[fields] order_id: 'map' translates a 'column': give one"),
], ids=["cycle", "bad-regex", "map-without-column"])
def test_mapping_mistakes_found_when_used(tmp_path, store, fields, detail):
    path = tmp_path / "m.toml"
    path.write_text("[fields]\n" + fields + 'ordered_at = { value = "2024-01-01" }\n'
                    'status = { value = "paid" }\namount = { value = "1" }\n[tables.orders]\n',
                    encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("x\n1\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=re.escape(f"mapping '{path}': {detail}.")):
        load_file("orders", data, mapping=path, store=store)


def test_rules_only_field_with_a_default_rule(tmp_path, store):
    path = tmp_path / "m.toml"
    path.write_text('allow_negative = { status = ["cancelled"] }\n[fields]\norder_id = "id"\n'
                    'ordered_at = { value = "2024-01-01" }\namount = "amt"\n'
                    'status = { rules = [{ column = "amt", regex = "^-", value = "cancelled" }, '
                    '{ value = "paid" }] }\n[tables.orders]\n', encoding="utf-8")
    data = tmp_path / "d.csv"
    data.write_text("id,amt\n1,100\n2,-100\n", encoding="utf-8")
    load_file("orders", data, mapping=path, store=store)
    assert [(r["status"], r["amount"]) for r in rows(store, "orders")] == [
        ("paid", 100.0), ("cancelled", -100.0)]
