"""`load_file`: canonical files for every table, conversions, every validation error with its
exact message, all-or-nothing writes, modes, warnings and the load log."""

import dataclasses
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from workbench.data.load import LoadReport, load_file
from workbench.data.schema import TABLES
from workbench.errors import ParameterError, SchemaError
from workbench.i18n import set_language
from workbench.settings import Settings

FIXTURES = Path(__file__).parents[1] / "fixtures"
ALLOWED_STATUSES = ("'pending', 'paid', 'shipped', 'delivered', 'confirmed', 'cancelled', "
                    "'returned'")


@pytest.fixture
def store(tmp_path):
    return tmp_path / "shop.duckdb"


def write(folder, name, text, encoding="utf-8"):
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def rows(store, table, order="1"):
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(f'SELECT * FROM "{table}" ORDER BY {order}').to_arrow_table().to_pylist()
    finally:
        con.close()


def snapshot(store, *, log=True):
    """Every table's rows (sorted) and the file's bytes."""
    con = duckdb.connect(str(store), read_only=True)
    try:
        tables = {name: sorted(map(repr, con.execute(f'SELECT * FROM "{name}"')
                                   .to_arrow_table().to_pylist()))
                  for name in TABLES if log or name != "load_log"}
    finally:
        con.close()
    return tables, store.read_bytes()


def utc(*args):
    return datetime(*args, tzinfo=ZoneInfo("Etc/UTC"))


ORDERS = """order_id,customer_id,ordered_at,status,amount
O1,C1,2024-01-15 13:45:12,paid,"12,345"
O2,C2,2024-01-16 09:00:00,delivered,5000
"""


# -- every canonical table ---------------------------------------------------------------------

CANONICAL = {
    "customers": ("customer_id,name,phone,email,birth_date,is_member,sms_opt_in,email_opt_in,"
                  "signup_at\n007,김똠이,010-1234-5678,a@b.kr,1990-05-01,Y,동의,미동의,20240101\n"
                  "C2,이햏,1098765432,,19851231,N,T,F,2024-02-01 10:00\n"),
    "orders": ORDERS,
    "order_items": "order_id,line_no,product_id,quantity,unit_price,line_amount\n"
                   "O1,1,P1,2,\"6,000\",\"12,000원\"\nO1,2,P2,1,345,₩345\n",
    "products": "product_id,name,category,price,replenish_days\n0001,Tea,food,9900,30\n"
                "0002,Cup,goods,\"15,000\",\n",
    "events": "customer_id,visitor_id,ts,session_id,type,product_id,query\n"
              "C1,,2024-01-15 13:00:00,s1,visit,,\n,v9,2024-01-15T04:00:00Z,s2,search,,티셔츠\n",
    "campaigns": "campaign_id,name,channel,is_ad,started_at,ended_at,holdout_share,"
                 "cost_per_message\nK1,설날,sms,T,2024-02-01 09:00,2024-02-03 21:00,0.1,9.9\n"
                 "K2,welcome,email,false,2024-03-01,,0,0\n",
    "assignments": "campaign_id,customer_id,variant,assigned_at\nK1,C1,holdout,2024-02-01\n"
                   "K1,C2,A,2024-02-01\n",
    "messages": "campaign_id,customer_id,variant,sent_at,opened_at,clicked_at,unsubscribed_at\n"
                "K1,C2,A,2024-02-01 09:00,2024-02-01 09:30,,\nK1,C3,B,2024-02-01 09:00,,,\n",
}


@pytest.mark.parametrize("table", list(CANONICAL), ids=list(CANONICAL))
def test_canonical_file_for_every_table(tmp_path, store, table):
    path = write(tmp_path, f"{table}.csv", CANONICAL[table])
    report = load_file(table, path, store=store)
    assert report.rows_read == 2 and report.rows_written == {table: 2}
    assert report.mapping is None and report.encoding == "utf-8" and report.table == table
    assert len(rows(store, table)) == 2


def test_canonical_values_are_typed(tmp_path, store):
    for table in ("customers", "order_items", "products", "events", "campaigns"):
        load_file(table, write(tmp_path, f"{table}.csv", CANONICAL[table]), store=store)
    first, second = rows(store, "customers")
    assert (first["customer_id"], first["phone"], first["birth_date"], first["is_member"],
            first["sms_opt_in"], first["email_opt_in"]) == (
        "007", "01012345678", date(1990, 5, 1), True, True, False)
    assert (second["phone"], second["birth_date"], second["email"]) == (
        "01098765432", date(1985, 12, 31), None)
    assert first["signup_at"] == utc(2023, 12, 31, 15)
    assert [(i["unit_price"], i["line_amount"]) for i in rows(store, "order_items")] == [
        (6000.0, 12000.0), (345.0, 345.0)]
    assert [(p["product_id"], p["price"], p["replenish_days"]) for p in rows(store, "products")
            ] == [("0001", 9900.0, 30), ("0002", 15000.0, None)]
    events = rows(store, "events", "ts")
    assert [e["ts"] for e in events] == [utc(2024, 1, 15, 4), utc(2024, 1, 15, 4)]
    assert events[1]["query"] == "티셔츠" or events[0]["query"] == "티셔츠"
    assert [(c["is_ad"], c["holdout_share"]) for c in rows(store, "campaigns")] == [
        (True, 0.1), (False, 0.0)]


def test_amounts_timestamps_and_krw_header(tmp_path, store):
    path = write(tmp_path, "o.csv", """order_id,ordered_at,status,amount(KRW),discount
O1,2024-01-15 13:45:12,paid,"12,345원",₩500
O2,2025-01-24 16:39,paid,"₩12,345.5",0
O3,20240115,paid,12345.4,
O4,2024-01-15T13:45:12+09:00,paid,1,
O5,2024-01-15T04:45:12Z,paid,1,
O6,2024. 1. 15. 오후 1:45:12,paid,1,
""")
    load_file("orders", path, store=store)
    got = rows(store, "orders")
    assert [r["amount"] for r in got] == [12345.0, 12346.0, 12345.0, 1.0, 1.0, 1.0]
    assert got[0]["discount"] == 500.0 and got[2]["discount"] is None
    assert [r["ordered_at"] for r in got] == [
        utc(2024, 1, 15, 4, 45, 12), utc(2025, 1, 24, 7, 39), utc(2024, 1, 14, 15),
        utc(2024, 1, 15, 4, 45, 12), utc(2024, 1, 15, 4, 45, 12), utc(2024, 1, 15, 4, 45, 12)]


def test_shop_time_zone_and_currency_come_from_settings(tmp_path, store):
    path = write(tmp_path, "o.csv", ORDERS.replace('"12,345"', "12.345"))
    load_file("orders", path, store=store, settings=Settings(timezone="UTC", currency="USD"))
    got = rows(store, "orders")
    assert got[0]["ordered_at"] == utc(2024, 1, 15, 13, 45, 12)
    assert got[0]["amount"] == 12.35  # USD keeps cents, half away from zero


def test_parquet_orders(store):
    report = load_file("orders", FIXTURES / "orders.parquet", store=store)
    assert report.encoding is None and report.rows_written == {"orders": 3}
    got = rows(store, "orders")
    assert [(r["order_id"], r["amount"], r["discount"]) for r in got] == [
        ("00101", 12000.0, 0.0), ("00102", 30500.0, 1000.0), ("00103", 9900.0, None)]
    assert got[2]["ordered_at"] == utc(2024, 3, 3, 14, 59, 59)
    assert got[2]["customer_id"] is None


def test_xlsx_canonical_file(tmp_path, store):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["product_id", "name", "price"])
    book.active.append(["0001", "Tea", 9900])
    book.active.append([1002.0, "Cup", 12000.5])
    book.save(tmp_path / "p.xlsx")
    load_file("products", tmp_path / "p.xlsx", store=store)
    assert [(p["product_id"], p["price"]) for p in rows(store, "products")] == [
        ("0001", 9900.0), ("1002", 12001.0)]


# -- errors: exact messages --------------------------------------------------------------------

BAD = {
    "missing-column": (
        "orders", "order_id,customer_id,orderd_at,status,amount\nO1,C1,2024-01-01,paid,100\n",
        "o.csv: table 'orders' needs the column(s) 'ordered_at', which the file does not have; "
        "its columns are 'order_id', 'customer_id', 'orderd_at', 'status', 'amount'. Did you "
        "mean 'ordered_at' instead of 'orderd_at'? Rename the header(s) in the file, or load it "
        "with --mapping."),
    "unknown-column": (
        "products", "product_id,prise\nP1,100\n",
        "o.csv: the column(s) 'prise' are not part of table 'products', whose columns are "
        "'product_id', 'name', 'category', 'price', 'replenish_days'. Did you mean 'price' "
        "instead of 'prise'? Rename or remove them, or load the file with --mapping."),
    "bad-dates": (
        "orders", "order_id,ordered_at,status,amount\nO1,2024-13-45,paid,1\nO2,어제,paid,1\n"
                  "O3,2024-01-01,paid,1\n",
        "o.csv: column 'ordered_at' has 2 value(s) that are not dates or times, in row(s) 2, 3 "
        "(e.g. '2024-13-45', '어제'). Use a form such as '2024-01-15 13:45:12', "
        "'2025-01-24 16:39', '20240115' or '2024-01-15T13:45:12+09:00', or set 'format' in a "
        "mapping."),
    "bad-numbers": (
        "orders", "order_id,ordered_at,status,amount\nO1,2024-01-01,paid,1x00\n",
        "o.csv: column 'amount' has 1 value(s) that are not numbers, in row(s) 2 (e.g. '1x00'). "
        "Write plain amounts such as 12345, 12,345, 12,345원 or ₩12,345."),
    "negative-amount": (
        "orders", "order_id,ordered_at,status,amount\nO1,2024-01-01,paid,-500\n",
        "o.csv: column 'amount' has 1 negative value(s), in row(s) 2 (e.g. '-500'); "
        "orders.amount cannot be negative. Fix or remove these rows."),
    "not-whole": (
        "order_items", "order_id,line_no,quantity,line_amount\nO1,1,1.5,100\n",
        "o.csv: column 'quantity' has 1 value(s) that are not whole numbers, in row(s) 2 (e.g. "
        "'1.5'). order_items.quantity counts units: fix the values."),
    "negative-quantity": (
        "order_items", "order_id,line_no,quantity,line_amount\nO1,1,-2,100\n",
        "o.csv: column 'quantity' has 1 negative value(s), in row(s) 2 (e.g. '-2'); "
        "order_items.quantity cannot be negative. Fix or remove these rows."),
    "duplicate-keys": (
        "orders", "order_id,ordered_at,status,amount\nO1,2024-01-01,paid,1\nO2,2024-01-01,paid,1\n"
                  "O1,2024-01-02,paid,1\n",
        "o.csv: 1 row(s) repeat a key of table 'orders' (order_id) that an earlier row of the "
        "file already has, in row(s) 4 (e.g. 'O1'). Keep one row per key."),
    "duplicate-composite-keys": (
        "order_items", "order_id,line_no,quantity,line_amount\nO1,1,1,1\nO1,1,1,1\n",
        "o.csv: 1 row(s) repeat a key of table 'order_items' (order_id, line_no) that an "
        "earlier row of the file already has, in row(s) 3 (e.g. '(O1, 1)'). Keep one row per "
        "key."),
    "unknown-status": (
        "orders", "order_id,ordered_at,status,amount\nO1,2024-01-01,shipping,1\n"
                  "O2,2024-01-01,Paid,1\n",
        "o.csv: column 'status' has 1 row(s) with value(s) that orders.status does not allow: "
        f"'shipping', in row(s) 2. Allowed values: {ALLOWED_STATUSES}."),
    "required-empty": (
        "orders", "order_id,ordered_at,status,amount\nO1,,paid,1\n",
        "o.csv: column 'ordered_at' is empty in 1 row(s): 2; orders.ordered_at is required. Fill "
        "in the values or remove these rows."),
    "excel-ids": (
        "orders", "order_id,ordered_at,status,amount\n2.3424544E+17,2024-01-01,paid,1\n",
        "o.csv: column 'order_id' has 1 ID(s) in Excel's exponent form, in row(s) 2 (e.g. "
        "'2.3424544E+17'): their last digits are lost. Export the file again as .xlsx, or "
        "format the column as text in Excel before saving as CSV."),
    "bad-booleans": (
        "customers", "customer_id,sms_opt_in\nC1,글쎄\n",
        "o.csv: column 'sms_opt_in' has 1 value(s) that are not yes/no values, in row(s) 2 "
        "(e.g. '글쎄'). Known yes values: t, true, y, yes, 1, 1.0, o, on, 동의, 예, "
        "수신, 수신동의, 동의함, 수신함, 수신허용; known no values: f, false, n, no, 0, 0.0, "
        "x, off, 거부, 미동의, 아니오, 수신거부, 비동의, 동의안함, 수신안함, 미수신, 수신거절, "
        "절대수신안함 (letter case and "
        "spaces are ignored). Fix the values, or translate them with 'map' in a mapping."),
    "bad-variant": (
        "assignments", "campaign_id,customer_id,variant,assigned_at\nK1,C1,treatment,2024-01-01\n",
        "o.csv: column 'variant' has 1 value(s) that are not valid for assignments.variant, in "
        "row(s) 2 (e.g. 'treatment'). Use 'holdout', 'send', 'control' or a name starting with a "
        "capital letter ('A', 'B', 'Coupon10')."),
    "unknown-event-type": (
        "events", "customer_id,ts,type\nC1,2024-01-01,purchase\n",
        "o.csv: column 'type' has 1 row(s) with value(s) that events.type does not allow: "
        "'purchase', in row(s) 2. Allowed values: 'visit', 'signup', 'login', 'search', "
        "'product_view', 'cart_add', 'cart_remove', 'checkout_start'."),
    "header-only": (
        "orders", "order_id,ordered_at,status,amount\n",
        "o.csv: the file has a header row but no data rows, so there is nothing to load."),
}


@pytest.mark.parametrize(("table", "text", "expected"), list(BAD.values()), ids=list(BAD))
def test_errors(tmp_path, store, table, text, expected):
    path = write(tmp_path, "o.csv", text)
    with pytest.raises(SchemaError, match=re.escape(expected)):
        load_file(table, path, store=store)
    assert not store.exists()


def test_unknown_table(tmp_path, store):
    expected = ("o.csv: unknown table 'sales'. Load into one of: customers, orders, order_items, "
                "products, events, campaigns, assignments, messages.")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        load_file("sales", tmp_path / "o.csv", store=store)
    with pytest.raises(SchemaError, match="unknown table 'load_log'"):
        load_file("load_log", tmp_path / "o.csv", store=store)


def test_bad_mode(tmp_path, store):
    with pytest.raises(ParameterError, match=re.escape(
            "load: 'mode' must be one of 'append', 'replace', 'upsert'; got 'merge'.")):
        load_file("orders", write(tmp_path, "o.csv", ORDERS), mode="merge", store=store)


def test_empty_and_undecodable_files(store):
    with pytest.raises(SchemaError, match=re.escape("empty.csv: the file is empty (there is no "
                                                    "header row).")):
        load_file("orders", FIXTURES / "empty.csv", store=store)
    with pytest.raises(SchemaError, match=re.escape("undecodable.csv: line 3 (byte offset 30: "
                                                    "0xff) cannot be decoded")):
        load_file("orders", FIXTURES / "undecodable.csv", store=store)


def test_at_most_five_rows_are_shown_but_all_are_counted(tmp_path, store):
    lines = "".join(f"O{i},2024-01-01,paid,x{i}\n" for i in range(8))
    path = write(tmp_path, "o.csv", "order_id,ordered_at,status,amount\n" + lines)
    expected = ("o.csv: column 'amount' has 8 value(s) that are not numbers, in row(s) 2, 3, 4, "
                "5, 6, … (e.g. 'x0', 'x1', 'x2', …).")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        load_file("orders", path, store=store)


def test_all_problems_are_reported_together(tmp_path, store):
    path = write(tmp_path, "o.csv", "order_id,ordered_at,status,amount\nO1,x,paid,-1\n")
    with pytest.raises(SchemaError) as info:
        load_file("orders", path, store=store)
    message = str(info.value)
    assert message.startswith("o.csv: column 'ordered_at' has 1 value(s) that are not dates")
    assert " 1 more problem(s): o.csv: column 'amount' has 1 negative value(s)" in message
    assert "\n" not in message and len(info.value.problems) == 2


def test_existing_keys_on_append_suggest_upsert(tmp_path, store):
    load_file("orders", write(tmp_path, "o.csv", ORDERS), store=store)
    before = snapshot(store)
    again = write(tmp_path, "o2.csv", ORDERS.replace("O1,", "O3,"))
    expected = ("o2.csv: 1 row(s) have a key of table 'orders' (order_id) that is already in the "
                "store, in row(s) 3 (e.g. 'O2'). Use --mode upsert to update these rows, or "
                "--mode replace to replace the whole table.")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        load_file("orders", again, store=store)
    assert snapshot(store) == before


def test_messages_in_korean(tmp_path, store):
    set_language("ko")
    path = write(tmp_path, "o.csv", "order_id,ordered_at,status,amount\nO1,2024-01-01,paid,x\n")
    with pytest.raises(SchemaError, match=re.escape("o.csv: 'amount' 열에 숫자가 아닌 값이 1개 "
                                                    "있습니다. 행: 2 (예: 'x').")):
        load_file("orders", path, store=store)
    report = load_file("orders", write(tmp_path, "ok.csv", ORDERS), store=store)
    assert report.summary().startswith("ok.csv 불러오기 완료: 2행 읽음(매핑 -, 인코딩 utf-8, 모드 "
                                       "append). 기록: orders 2.")


# -- all or nothing ----------------------------------------------------------------------------


@pytest.fixture
def filled(store):
    """A store holding the Cafe24 fixture and a products table."""
    load_file("orders", FIXTURES / "cafe24_orders_cp949.csv", mapping="cafe24", store=store)
    path = write(store.parent, "p.csv", CANONICAL["products"])
    load_file("products", path, store=store)
    return store


@pytest.mark.parametrize("case", ["bad-values", "existing-keys", "mapped-multi-table",
                                  "undecodable", "unknown-customer-column"])
def test_a_failing_load_leaves_the_store_as_it_was(tmp_path, filled, case):
    before = snapshot(filled)
    if case == "bad-values":
        args = ("orders", write(tmp_path, "o.csv", ORDERS.replace("5000", "-5000")))
    elif case == "existing-keys":  # found only inside the write block, after the copy
        args = ("products", write(tmp_path, "p2.csv", CANONICAL["products"]))
    elif case == "mapped-multi-table":
        text = (FIXTURES / "imweb_orders_bom.csv").read_text("utf-8-sig")
        args = ("orders", write(tmp_path, "i.csv", text.replace("2025-01-25 10:15", "모름")))
    elif case == "undecodable":
        args = ("orders", FIXTURES / "undecodable.csv")
    else:
        args = ("orders", write(tmp_path, "o.csv", ORDERS.replace("customer_id", "cust")))
    mapping = "imweb" if case == "mapped-multi-table" else None
    with pytest.raises(SchemaError):
        load_file(*args, mapping=mapping, store=filled)
    assert snapshot(filled) == before
    assert not list(filled.parent.glob(".shop.duckdb.*"))  # no temporary copy left behind


def test_a_failure_inside_the_write_block_leaves_the_file_untouched(tmp_path, filled,
                                                                    monkeypatch):
    from workbench.data import store as store_module

    before = snapshot(filled)
    calls = []
    original = store_module.StoreWriter.write

    def failing(self, table, data, **kw):
        calls.append(table)
        if len(calls) == 2:  # customers written, orders fail: nothing may be visible
            raise RuntimeError("disk full")
        return original(self, table, data, **kw)

    monkeypatch.setattr(store_module.StoreWriter, "write", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        load_file("orders", FIXTURES / "imweb_orders_bom.csv", mapping="imweb", store=filled)
    assert calls == ["customers", "orders"]
    assert snapshot(filled) == before


# -- modes -------------------------------------------------------------------------------------


def test_upsert_twice_changes_nothing(filled):
    load_file("orders", FIXTURES / "cafe24_orders_cp949.csv", mapping="cafe24", mode="upsert",
              store=filled)
    once = snapshot(filled, log=False)[0]
    report = load_file("orders", FIXTURES / "cafe24_orders.xlsx", mapping="cafe24",
                       mode="upsert", store=filled)
    assert snapshot(filled, log=False)[0] == once
    assert report.rows_written == {"customers": 0, "orders": 6, "order_items": 7}


def test_upsert_updates_rows_and_replaces_an_orders_lines(tmp_path, filled):
    text = (FIXTURES / "cafe24_orders_cp949.csv").read_bytes().decode("cp949")
    lines = text.splitlines(keepends=True)
    changed = lines[0] + lines[1].replace("배송완료", "구매확정") + lines[2]  # order 2 loses a line
    load_file("orders", write(tmp_path, "c.csv", changed), mapping="cafe24", mode="upsert",
              store=filled)
    orders = {r["order_id"]: r for r in rows(filled, "orders")}
    assert len(orders) == 6 and orders["20240115-0000001"]["status"] == "confirmed"
    lines_of_2 = [i for i in rows(filled, "order_items") if i["order_id"] == "20240115-0000002"]
    assert [i["line_no"] for i in lines_of_2] == [1]


def test_replace_empties_only_the_tables_written(tmp_path, filled):
    load_file("products", write(tmp_path, "p.csv", "product_id,price\nZ,1\n"), mode="replace",
              store=filled)
    assert [p["product_id"] for p in rows(filled, "products")] == ["Z"]
    assert len(rows(filled, "orders")) == 6 and len(rows(filled, "customers")) == 3
    load_file("orders", FIXTURES / "imweb_orders_bom.csv", mapping="imweb", mode="replace",
              store=filled)
    assert len(rows(filled, "orders")) == 3 and len(rows(filled, "customers")) == 2
    assert [p["product_id"] for p in rows(filled, "products")] == ["Z"]


def test_derived_customers_never_overwrite_stored_profiles(tmp_path, store):
    path = write(tmp_path, "c.csv", "customer_id,name,sms_opt_in\nkimttom,김똠이,T\n")
    load_file("customers", path, store=store)
    report = load_file("orders", FIXTURES / "cafe24_orders_cp949.csv", mapping="cafe24",
                       store=store)
    assert report.rows_written["customers"] == 2
    assert ("1 row(s) of table 'customers' were already in the store and were kept as they are "
            "(this file only adds new ones).") in report.warnings
    kim = [c for c in rows(store, "customers") if c["customer_id"] == "kimttom"][0]
    assert kim["sms_opt_in"] is True and kim["phone"] is None


# -- warnings, log, progress -------------------------------------------------------------------


def test_warnings_unknown_customers_future_dates_and_guests(tmp_path, store):
    soon = (datetime.now() + timedelta(days=400)).date().isoformat()  # ahead, but plausible
    path = write(tmp_path, "o.csv", "order_id,customer_id,ordered_at,status,amount\n"
                                    f"O1,C1,{soon},paid,1\nO2,,2024-01-01,paid,1\n"
                                    "O3,C9,2024-01-01,paid,1\nO4,C1,2024-01-02,paid,1\n")
    report = load_file("orders", path, store=store)
    assert report.rows_written == {"orders": 4}
    guests, future, unknown = report.warnings
    assert guests == ("1 order(s) have no customer_id (guest orders): they count towards "
                      "revenue but not towards customer analyses.")
    assert re.fullmatch(r"1 value\(s\) of orders\.ordered_at are later than the time of the "
                        r"load \(\d{4}-\d\d-\d\d \d\d:\d\d\), e\.g\. in row\(s\) 2; check the "
                        r"export's time zone and dates\.", future)
    assert unknown == ("3 order(s) belong to 2 customer(s) that are neither in the store nor in "
                       "this file (e.g. 'C1', 'C9'); load the customers so that these orders get "
                       "profiles.")
    load_file("customers", write(tmp_path, "c.csv", "customer_id\nC1\nC9\n"), store=store)
    more = load_file("orders", write(tmp_path, "o2.csv", "order_id,customer_id,ordered_at,"
                                     "status,amount\nO5,C1,2024-01-01,paid,1\n"), store=store)
    assert more.warnings == ()


def test_order_lines_of_unknown_orders_are_reported(tmp_path, store):
    path = write(tmp_path, "i.csv", CANONICAL["order_items"])
    report = load_file("order_items", path, store=store)
    assert report.warnings == ("2 order line(s) belong to 1 order(s) that are neither in the "
                               "store nor in this file (e.g. 'O1'); load those orders too.",)


def test_load_log_records_every_table(tmp_path, store):
    report = load_file("orders", FIXTURES / "shopify_orders.csv", mapping="shopify",
                       mode="upsert", store=store)
    log = rows(store, "load_log", "table_name")
    assert [(r["table_name"], r["mapping"], r["mode"], r["rows_in"], r["rows_written"])
            for r in log] == [("customers", "shopify", "upsert", 5, 3),
                              ("order_items", "shopify", "upsert", 5, 5),
                              ("orders", "shopify", "upsert", 5, 4)]
    assert {r["fingerprint"] for r in log} == {report.fingerprint}
    assert log[0]["source"] == str(FIXTURES / "shopify_orders.csv")


def test_progress_and_report(tmp_path, store):
    seen = []
    report = load_file("orders", write(tmp_path, "o.csv", ORDERS), store=store,
                       progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert [s for s, _, _ in seen] == ["read", "read", *["convert"] * 5, "check", "check",
                                       "write"]
    assert seen[-1] == ("write", 1, 1)
    assert isinstance(report, LoadReport) and len(report.fingerprint) == 64
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.rows_read = 0
    assert report.summary() == ("Loaded o.csv: 2 row(s) read (mapping -, encoding utf-8, mode "
                                "append); written: orders 2.\n1 warning(s):\n- 2 order(s) belong "
                                "to 2 customer(s) that are neither in the store nor in this file "
                                "(e.g. 'C1', 'C2'); load the customers so that these orders get "
                                "profiles.")


def test_the_loaded_file_is_not_changed(tmp_path, store):
    source = tmp_path / "copy.csv"
    shutil.copyfile(FIXTURES / "cafe24_orders_cp949.csv", source)
    before = source.read_bytes()
    load_file("orders", source, mapping="cafe24", store=store)
    assert source.read_bytes() == before


# -- conversions -------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("2024-01-15 13:45:12", utc(2024, 1, 15, 4, 45, 12)),
    ("2025-01-24 16:39", utc(2025, 1, 24, 7, 39)),
    ("20240115", utc(2024, 1, 14, 15)),
    ("20240115134512", utc(2024, 1, 15, 4, 45, 12)),
    ("2024-01-15T13:45:12+09:00", utc(2024, 1, 15, 4, 45, 12)),
    ("2024-01-15T04:45:12.250Z", utc(2024, 1, 15, 4, 45, 12, 250000)),
    ("2024-01-15 13:45:12 +0900", utc(2024, 1, 15, 4, 45, 12)),
    ("2024/1/5", utc(2024, 1, 4, 15)),
    ("2024. 1. 15. 오후 1:45:12", utc(2024, 1, 15, 4, 45, 12)),
    ("2024-01-15 오전 12:10:00", utc(2024, 1, 14, 15, 10)),
    ("2024년 1월 15일", utc(2024, 1, 14, 15)),
    ("2024-02-30", None), ("2024-01-15 25:00", None), ("1705293912", None), ("어제", None),
], ids=lambda v: str(v))
def test_timestamp_forms(text, expected):
    import pyarrow as pa

    from workbench.data.convert import to_timestamp

    got = to_timestamp(pa.array([text, "2024-01-01"]), "Asia/Seoul")
    assert got.values.to_pylist()[0] == expected
    assert got.bad.tolist() == [expected is None, False]


@pytest.mark.parametrize(("text", "expected"), [
    ("12,345원", 12345.0), ("₩12,345", 12345.0), ("12,345", 12345.0), ("$1,234.50", 1234.5),
    ("(1,500)", -1500.0), ("−3", -3.0), ("1.5E+3", 1500.0), ("KRW 100", 100.0), ("", None),
    ("12,34x", "bad"), ("1-2", "bad"),
], ids=lambda v: str(v))
def test_number_forms(text, expected):
    import pyarrow as pa

    from workbench.data.convert import to_number

    got = to_number(pa.array([text]))
    if expected == "bad":
        assert got.bad.tolist() == [True] and got.values.to_pylist() == [None]
    else:
        assert got.values.to_pylist() == [expected] and got.bad.tolist() == [False]


def test_boolean_forms():
    import pyarrow as pa

    from workbench.data.convert import to_boolean

    values = ["T", "F", "Y", "N", "true", "FALSE", "1", "0", "동의", "거부", "미동의", "yes", "",
              "?"]
    got = to_boolean(pa.array(values))
    assert got.values.to_pylist() == [True, False, True, False, True, False, True, False, True,
                                      False, False, True, None, None]
    assert got.bad.tolist() == [False] * 13 + [True]


def test_rows_of_one_order_that_disagree_are_reported(tmp_path, store):
    text = (FIXTURES / "cafe24_orders_cp949.csv").read_bytes().decode("cp949")
    lines = text.splitlines(keepends=True)
    lines[3] = lines[3].replace("배송중", "취소 완료")  # one line of order 2 was cancelled
    report = load_file("orders", write(tmp_path, "c.csv", "".join(lines)), mapping="cafe24",
                       store=store)
    assert ("table 'orders': rows of the same order_id disagree on 'status' (1 order_id); the "
            "first non-empty value of each order_id was kept. Check partial cancellations and "
            "changed customer details.") in report.warnings
    assert {r["order_id"]: r["status"] for r in rows(store, "orders")}[
        "20240115-0000002"] == "shipped"
