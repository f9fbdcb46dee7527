"""Reading files as text: encodings, delimiters, XLSX cells, Parquet, row numbers."""

import datetime as dt
import re
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.data.readers import decode_csv, fingerprint, read_source
from workbench.errors import InputError, SchemaError

FIXTURES = Path(__file__).parents[1] / "fixtures"
CDNOW = Path(__file__).parents[2] / "data" / "cdnow" / "CDNOW_master.txt"


def _col(raw, name):
    return raw.data.column(name).to_pylist()


# -- encodings ---------------------------------------------------------------------------------


def test_cp949_csv_keeps_rare_syllables_that_euc_kr_lacks():
    raw = read_source(FIXTURES / "cafe24_orders_cp949.csv")
    assert raw.encoding == "cp949"
    assert "김똠이" in _col(raw, "주문자명") and "이햏" in _col(raw, "주문자명")
    with pytest.raises(UnicodeDecodeError):  # why cp949 and never euc-kr
        "김똠이".encode("cp949").decode("euc-kr")


def test_utf8_with_bom_is_utf8_sig_and_the_bom_is_not_in_the_first_header():
    raw = read_source(FIXTURES / "imweb_orders_bom.csv")
    assert raw.encoding == "utf-8-sig"
    assert raw.headers[0] == "판매채널"


def test_plain_utf8(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,이름\n1,똠\n", encoding="utf-8")
    assert read_source(path).encoding == "utf-8"


@pytest.mark.parametrize(("data", "expected"), [
    (b"\xef\xbb\xbfa,b\n1,2\n", "utf-8-sig"),
    ("a,b\n홍,똠\n".encode(), "utf-8"),
    ("a,b\n홍,똠\n".encode("cp949"), "cp949"),
], ids=["bom", "utf8", "cp949"])
def test_decode_csv(data, expected):
    assert decode_csv(data, "x.csv")[0] == expected


def test_undecodable_bytes_name_file_line_and_offset():
    expected = ("undecodable.csv: line 3 (byte offset 30: 0xff) cannot be decoded (tried UTF-8, "
                "CP949). The file is damaged or in another encoding: open it in Excel, save it "
                "as 'CSV UTF-8' and load it again.")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        read_source(FIXTURES / "undecodable.csv")


def test_undecodable_after_a_bom_reports_utf8_sig(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"\xef\xbb\xbfa\n\xff\n")
    with pytest.raises(SchemaError, match=re.escape("line 2 (byte offset 5: 0xff) cannot be "
                                                    "decoded (tried UTF-8-SIG)")):
        read_source(path)


# -- text layout -------------------------------------------------------------------------------


def test_every_column_is_text_and_leading_zeros_survive(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,amount,when\n007,\"12,345\",20240115\n0010,,x\n", encoding="utf-8")
    raw = read_source(path)
    assert all(pa.types.is_string(t) for t in raw.data.schema.types)
    assert _col(raw, "id") == ["007", "0010"]
    assert _col(raw, "amount") == ["12,345", None]
    assert raw.rows.tolist() == [2, 3]


def test_quoted_newlines_stay_in_the_value():
    raw = read_source(FIXTURES / "imweb_orders_bom.csv")
    assert _col(raw, "배송메모")[0] == "문 앞에 놓아 주세요\n감사합니다"
    assert raw.rows.tolist() == [2, 3, 4, 5]


def test_whitespace_separated_cdnow_master():
    raw = read_source(CDNOW, delimiter="whitespace")
    assert raw.headers == ["customer_id", "date", "number_of_cds", "dollar_value"]
    assert raw.num_rows == 69_659
    assert raw.data.slice(0, 2).to_pylist() == [
        {"customer_id": "00001", "date": "19970101", "number_of_cds": "1", "dollar_value": "11.77"},
        {"customer_id": "00002", "date": "19970112", "number_of_cds": "1", "dollar_value": "12.00"},
    ]


@pytest.mark.parametrize(("name", "text", "delimiter"), [
    ("a.tsv", "a\tb\n1\t2\n", None),
    ("a.txt", "a\tb\n1\t2\n", None),
    ("a.csv", "a;b\n1;2\n", ";"),
    ("a.csv", "a|b\n1|2\n", "pipe"),
], ids=["tsv-suffix", "tab-header", "semicolon", "pipe"])
def test_delimiters(tmp_path, name, text, delimiter):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    raw = read_source(path, delimiter=delimiter)
    assert raw.headers == ["a", "b"] and raw.data.to_pylist() == [{"a": "1", "b": "2"}]


def test_empty_and_repeated_headers_get_unique_names(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("상품명,,상품명\n1,2,3\n", encoding="utf-8")
    assert read_source(path).headers == ["상품명", "column2", "상품명 (2)"]


def test_header_row_option_skips_title_lines(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("주문 목록\nid,v\n1,2\n", encoding="utf-8")
    raw = read_source(path, header_row=2)
    assert raw.headers == ["id", "v"] and raw.rows.tolist() == [3]


def test_rows_with_too_many_fields_are_named_by_line_without_their_content(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("a,b\n1,2\n\"x\ny\",2\n김민수,010-1234-5678,a@x.kr\n", encoding="utf-8")
    with pytest.raises(SchemaError) as info:
        read_source(path)
    message = str(info.value)
    assert message.startswith("a.csv: cannot be read as a table with delimiter ',': line 5 "
                              "has 3 fields where the header has 2.")
    assert "김민수" not in message and "1234" not in message and "a@x.kr" not in message


# -- file-level errors -------------------------------------------------------------------------


def test_empty_file():
    expected = ("empty.csv: the file is empty (there is no header row). Export it again: the "
                "first row must hold the column names.")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        read_source(FIXTURES / "empty.csv")


def test_header_without_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("order_id,amount\n\n", encoding="utf-8")
    expected = ("h.csv: the file has a header row but no data rows, so there is nothing to "
                "load. Check the export's date range and filters.")
    with pytest.raises(SchemaError, match=re.escape(expected)):
        read_source(path)


def test_missing_file_and_unsupported_type(tmp_path):
    with pytest.raises(InputError, match=re.escape(f"file '{tmp_path / 'no.csv'}' does not "
                                                   "exist. Check the path and the file name.")):
        read_source(tmp_path / "no.csv")
    old = tmp_path / "orders.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    expected = ("orders.xls: unsupported file type '.xls'. Load a .csv, .tsv or .txt file "
                "(UTF-8 or CP949), an .xlsx workbook or a .parquet file; save old .xls files as "
                ".xlsx first.")
    with pytest.raises(InputError, match=re.escape(expected)):
        read_source(old)


def test_fingerprint_is_sha256_of_the_bytes():
    import hashlib

    path = FIXTURES / "shopify_orders.csv"
    assert read_source(path).fingerprint == hashlib.sha256(path.read_bytes()).hexdigest()
    assert fingerprint(path) == hashlib.sha256(path.read_bytes()).hexdigest()


# -- Excel -------------------------------------------------------------------------------------


def _workbook(path, rows, title="Sheet1", extra=None):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = title
    for r, row in rows.items():
        for c, value in enumerate(row, start=1):
            ws.cell(row=r, column=c, value=value)
    if extra:
        book.create_sheet(extra).append(["other"])
    book.save(path)


def test_xlsx_cells_become_text_and_rows_are_sheet_rows(tmp_path):
    path = tmp_path / "a.xlsx"
    _workbook(path, {
        1: ["id", "qty", "price", "when", "flag", "big"],
        2: ["007", 2, 12.5, dt.datetime(2024, 1, 15, 13, 45, 12), True, 234245440000000000.0],
        # rows 3-4 are blank and skipped; the row numbers stay the sheet's
        5: [17850.0, 3.0, None, dt.date(2024, 1, 16), False, None],
    })
    raw = read_source(path)
    assert raw.encoding is None and raw.sheet == "Sheet1"
    assert raw.rows.tolist() == [2, 5]
    assert raw.data.to_pylist() == [
        {"id": "007", "qty": "2", "price": "12.5", "when": "2024-01-15 13:45:12",
         "flag": "true", "big": "2.3424544E+17"},
        {"id": "17850", "qty": "3", "price": None, "when": "2024-01-16", "flag": "false",
         "big": None},
    ]


def test_xlsx_named_sheet_and_missing_sheet(tmp_path):
    path = tmp_path / "a.xlsx"
    _workbook(path, {1: ["a"], 2: ["x"]}, title="요약", extra="주문")
    assert read_source(path).headers == ["a"]
    with pytest.raises(SchemaError, match="no data rows"):  # the 주문 sheet has a header only
        read_source(path, sheet="주문")
    with pytest.raises(SchemaError, match=re.escape("a.xlsx: there is no sheet named '없음'; "
                                                    "the workbook has '요약', '주문'.")):
        read_source(path, sheet="없음")


def test_xlsx_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "fake.xlsx"
    path.write_text("order_id\n1\n")
    with pytest.raises(SchemaError, match=re.escape("fake.xlsx: cannot be opened as an Excel "
                                                    "workbook")):
        read_source(path)


def test_empty_xlsx(tmp_path):
    path = tmp_path / "e.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(SchemaError, match=re.escape("e.xlsx: the file is empty")):
        read_source(path)


def test_cafe24_xlsx_fixture():
    raw = read_source(FIXTURES / "cafe24_orders.xlsx")
    assert raw.sheet == "주문내역" and raw.num_rows == 7
    assert _col(raw, "주문일시")[0] == "2024-01-15 13:45:12"
    assert _col(raw, "총 결제금액(KRW)")[0] == "32000"


# -- Parquet -----------------------------------------------------------------------------------


def test_parquet_columns_become_text_with_instants_kept():
    raw = read_source(FIXTURES / "orders.parquet")
    assert raw.rows.tolist() == [1, 2, 3] and raw.header_row == 0
    first = raw.data.to_pylist()[0]
    assert first == {"order_id": "00101", "customer_id": "C001",
                     "ordered_at": "2024-03-01T01:00:00.000000Z", "status": "paid",
                     "amount": "12000", "discount": "0"}
    assert _col(raw, "amount")[1] == "30500.4"


def test_parquet_dictionary_and_broken(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"c": pa.array(["x", "y"]).dictionary_encode()}), path)
    assert _col(read_source(path), "c") == ["x", "y"]
    bad = tmp_path / "b.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(SchemaError, match=re.escape("b.parquet: cannot be read as Parquet")):
        read_source(bad)
