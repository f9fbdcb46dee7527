"""Build the hostile-input corpus: files and settings an attacker or a careless export produces.

Run ``python tests/hostile/make_corpus.py [FOLDER]`` (default: ``tests/hostile/corpus``) to
write every file and ``cases.json``, the list of commands to run on them and what each must do:
its exit code, words its message must contain, and the personal data it must never print.
``tests/hostile/test_corpus.py`` builds the corpus into a temporary folder and runs every case
against a copy of a real store; a case marked ``isolate`` runs in its own process with a
memory limit, so that a regression fails the test instead of exhausting the machine.

Placeholders in a case's ``argv``: ``{corpus}`` (this folder), ``{store}`` (the store copy),
``{work}`` (an empty folder of the case), ``{config}`` (a settings file naming the store).

The classes follow issue 13: ``data_loss``, ``foreign_code``, ``personal_data``,
``resources``, ``accepted_then_broken``, ``unclear_failure`` and ``operations``.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

#: Personal data written into corpus files; no command may print any of it.
PII = ["김민수", "01098765432", "010-9876-5432", "minsu.kim@example.com", "이서연",
       "seoyeon@example.kr", "1985-13-45"]

HEADER_CUSTOMERS = "customer_id,name,phone,email,birth_date,sms_opt_in\n"
GOOD_ROW = "C1,김민수,010-9876-5432,minsu.kim@example.com,1985-03-04,Y\n"
ORDERS = "order_id,customer_id,ordered_at,status,amount\n"


# -- file builders ---------------------------------------------------------------------------


def _xlsx(sheet_xml: str | bytes, shared: list[str] | None = None) -> bytes:
    """Return a minimal XLSX workbook with one sheet (and shared strings)."""
    content_types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
        'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>')
    workbook = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
                'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
                'name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>')
    workbook_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://'
                     'schemas.openxmlformats.org/package/2006/relationships"><Relationship '
                     'Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                     'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship '
                     'Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                     'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    strings = "".join(f"<si><t>{s}</t></si>" for s in shared or [])
    shared_xml = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                  f'openxmlformats.org/spreadsheetml/2006/main">{strings}</sst>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", rels)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", workbook_rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet_xml)
        z.writestr("xl/sharedStrings.xml", shared_xml)
    return buffer.getvalue()


def _sheet(rows: list[list[str]], dimension: str | None = None) -> str:
    """Return sheet XML with inline strings; ``rows`` may be (row_number, cells) pairs."""
    out = []
    for number, cells in rows:
        cs = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
                     for i, v in enumerate(cells))
        out.append(f'<row r="{number}">{cs}</row>')
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
            f'openxmlformats.org/spreadsheetml/2006/main">{dim}<sheetData>{"".join(out)}'
            '</sheetData></worksheet>')


def _xlsx_bomb(path: Path, gib: float = 1.0) -> None:
    """A workbook of about 1 MB whose one shared string expands to ``gib`` GiB (deflate)."""
    base = _xlsx(_sheet([(1, ["order_id"]), (2, ["O1"])]))
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(
            path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for item in src.infolist():
            if item.filename != "xl/sharedStrings.xml":
                dst.writestr(item, src.read(item))
        with dst.open("xl/sharedStrings.xml", "w", force_zip64=True) as fh:
            fh.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                     b'openxmlformats.org/spreadsheetml/2006/main"><si><t>')
            block = b"A" * (1 << 20)
            for _ in range(int(gib * 1024)):
                fh.write(block)
            fh.write(b"</t></si></sst>")


def _parquet(path: Path, table) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path, compression="zstd")


class Payload:
    """Pickled, it runs ``touch MARKER`` when loaded (the probe's foreign-code model)."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (__import__("os").system, (f"touch {self.marker}",))


# -- the corpus ------------------------------------------------------------------------------


def build(folder: Path, *, bomb_gib: float = 1.0) -> list[dict]:
    """Write every corpus file into ``folder`` and return the cases (also in ``cases.json``)."""
    import numpy as np
    import pyarrow as pa

    folder.mkdir(parents=True, exist_ok=True)
    cases: list[dict] = []

    def text(name: str, content: str, encoding: str = "utf-8") -> str:
        (folder / name).write_bytes(content.encode(encoding))
        return name

    def case(id: str, cls: str, argv: list[str], *, exit: int = 2,  # noqa: A002
             says: tuple[str, ...] = (), isolate: bool = False, setup: str | None = None,
             store_unchanged: bool | None = None, absent: tuple[str, ...] = ()) -> None:
        cases.append({"id": id, "class": cls, "argv": argv, "exit": exit, "says": list(says),
                      "isolate": isolate, "setup": setup,
                      "store_unchanged": exit != 0 if store_unchanged is None else
                      store_unchanged, "absent": list(absent)})

    def load(id: str, cls: str, table: str, name: str, *, exit: int = 2,  # noqa: A002
             says: tuple[str, ...] = (), isolate: bool = False, mapping: str | None = None
             ) -> None:
        argv = ["load", table, "{corpus}/" + name, "--store", "{store}", "-q"]
        if mapping:
            argv += ["--mapping", "{corpus}/" + mapping]
        case(id, cls, argv, exit=exit, says=says, isolate=isolate)

    # 1. data loss: outputs never replace the store, models, salt, settings or inputs
    text("message.txt", "앱 업데이트 안내: 새 기능을 확인하세요.")
    for target, says in [("{store}", "workbench store"), ("{store}.lock", "lock file"),
                         ("{models}/churn.json", "models folder"), ("{salt}", "salt"),
                         ("{config}", "settings file"), ("{corpus}/message.txt", "input")]:
        case(f"export_out_{target.strip('{}').split('/')[-1].replace('.', '_')}", "data_loss",
             ["audience", "export", "vip", "--config", "{config}", "--channel", "push",
              "--message", "{corpus}/message.txt", "--purpose", "probe", "--out", target,
              "--force"], says=("refusing to write", says), setup="protected_files")
    case("export_out_existing_file", "data_loss",
         ["audience", "export", "vip", "--store", "{store}", "--channel", "push", "--purpose",
          "probe", "--out", "{corpus}/message.txt"], says=("already exists", "--force"))
    case("export_out_folder", "data_loss",
         ["audience", "export", "vip", "--store", "{store}", "--channel", "push", "--purpose",
          "probe", "--out", "{work}"], says=("is a folder",))
    text("customers_ok.csv", HEADER_CUSTOMERS + GOOD_ROW)
    case("sample_over_a_csv", "data_loss",
         ["sample", "--store", "{corpus}/customers_ok.csv", "--customers", "10", "--replace",
          "-q"], says=("is not a DuckDB store",))
    case("load_into_a_csv", "data_loss",
         ["load", "customers", "{corpus}/customers_ok.csv", "--store",
          "{corpus}/customers_ok.csv", "-q"], says=("is not a DuckDB store",))
    case("report_out_is_a_file", "data_loss",
         ["report", "weekly", "--store", "{store}", "--out", "{corpus}/message.txt", "-q"],
         says=("is a file",))

    # 2. foreign code: models never unpickle; formula cells never reach an export
    case("tampered_model_with_valid_digest", "foreign_code",
         ["refresh", "--store", "{store}", "--as-of", "2026-11-16", "-q"],
         says=("churn",), setup="tampered_model", absent=("{work}/PWNED",))
    case("model_sidecar_not_json", "unclear_failure",
         ["refresh", "--store", "{store}", "--as-of", "2026-11-16", "-q"],
         says=("churn",), setup="bad_sidecar")
    load("formula_in_email", "foreign_code", "customers",
         text("customers_formula_email.csv", HEADER_CUSTOMERS
              + 'C1,김민수,010-9876-5432,"=HYPERLINK(""http://x.io"",""click"")",1985-03-04,Y\n'),
         says=("not email addresses", "row(s) 2"))
    load("formula_in_phone", "foreign_code", "customers",
         text("customers_formula_phone.csv", HEADER_CUSTOMERS
              + "C1,김민수,+cmd|' /C calc'!A0,minsu.kim@example.com,1985-03-04,Y\n"),
         says=("not phone numbers",))
    load("formula_at_sign_email", "foreign_code", "customers",
         text("customers_at_email.csv", HEADER_CUSTOMERS
              + "C1,김민수,010-9876-5432,@SUM(1+1)*cmd|' /C calc'!A0,1985-03-04,Y\n"),
         says=("not email addresses",))

    # 3. personal data: errors name rows and columns, never the values
    load("wrong_field_count_keeps_the_row_private", "personal_data", "customers",
         text("customers_extra_field.csv", HEADER_CUSTOMERS + GOOD_ROW
              + "C2,이서연,010-9876-5432,seoyeon@example.kr,1990-01-01,Y,EXTRA\n"),
         says=("line 3 has 7 fields",))
    load("bad_birth_date_is_not_quoted", "personal_data", "customers",
         text("customers_bad_birth.csv", HEADER_CUSTOMERS
              + "C1,김민수,010-9876-5432,minsu.kim@example.com,1985-13-45,Y\n"),
         says=("not dates", "personal data"))
    load("bad_email_is_not_quoted", "personal_data", "customers",
         text("customers_bad_email.csv", HEADER_CUSTOMERS
              + "C1,김민수,010-9876-5432,minsu.kim-at-example.com,1985-03-04,Y\n"),
         says=("not email addresses",))
    load("realistic_members_load", "personal_data", "customers",
         text("customers_realistic.csv", HEADER_CUSTOMERS + GOOD_ROW
              + "C2,이서연,+82 10-9876-5432,없음,,N\nC3,박지훈,-,seoyeon@example.kr,,Y\n"),
         exit=0)

    # 4. resources: bounded cost for every file
    _xlsx_bomb(folder / "xlsx_bomb.xlsx", gib=bomb_gib)
    load("xlsx_zip_bomb", "resources", "orders", "xlsx_bomb.xlsx", says=("expand",),
         isolate=True)
    (folder / "xlsx_long_cell.xlsx").write_bytes(_xlsx(_sheet([
        (1, ["order_id", "ordered_at", "status", "amount"]),
        (2, ["O1", "2026-01-02", "paid", "1" * 40_000])])))
    load("xlsx_cell_longer_than_excel_allows", "resources", "orders", "xlsx_long_cell.xlsx",
         says=("longer than 32,767",), isolate=True)
    (folder / "xlsx_huge_dimension.xlsx").write_bytes(_xlsx(_sheet(
        [(1, ["order_id", "ordered_at", "status", "amount"]),
         (2, ["O1", "2026-01-02", "paid", "1000"])], dimension="A1:XFD1048576")))
    load("xlsx_declares_every_cell", "resources", "orders", "xlsx_huge_dimension.xlsx",
         exit=0, isolate=True)
    long_text = "A" * (1 << 20)
    _parquet(folder / "parquet_bomb.parquet", pa.table({"order_id": pa.DictionaryArray.from_arrays(
        pa.array(np.zeros(3000, dtype=np.int32)), pa.array([long_text]))}))
    load("parquet_dictionary_bomb", "resources", "orders", "parquet_bomb.parquet",
         says=("longer than 32,767",), isolate=True)
    anchors = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
        f"*{chr(97 + i)}]" for i in range(8)]
    bomb = "\n".join(anchors) + "\nname: bomb\nrules: *i\n"
    (folder / "audiences").mkdir(exist_ok=True)
    text("audiences/bomb.yaml", bomb)
    case("yaml_alias_bomb", "resources",
         ["audience", "show", "bomb", "--dir", "{corpus}/audiences", "--store", "{store}"],
         says=("aliases",), isolate=True)
    text("mapping_bomb.yaml", bomb)
    load("mapping_alias_bomb", "resources", "orders", "customers_ok.csv",
         mapping="mapping_bomb.yaml", says=("aliases",), isolate=True)
    text("big_message.txt", "(광고) " + "가" * 40_000)
    case("message_file_too_big", "resources",
         ["audience", "export", "vip", "--store", "{store}", "--channel", "lms", "--purpose",
          "probe", "--message", "{corpus}/big_message.txt", "--send-at", "2026-11-16 10:00",
          "--out", "{work}/x.csv"], says=("bytes",))

    # 5. accepted then broken later: refused at the door instead
    load("infinite_amount", "accepted_then_broken", "orders",
         text("orders_inf.csv", ORDERS + "O1,C1,2026-01-02,paid,1e400\n"),
         says=("infinite or larger",))
    load("huge_amount", "accepted_then_broken", "orders",
         text("orders_huge.csv", ORDERS + "O1,C1,2026-01-02,paid,1e300\n"),
         says=("infinite or larger",))
    load("overflowing_quantity", "accepted_then_broken", "order_items",
         text("items_overflow.csv", "order_id,line_no,product_id,quantity,line_amount\n"
              "O1,1,P1,1e30,1000\n"), says=("infinite or larger",))
    load("far_future_date", "accepted_then_broken", "orders",
         text("orders_9999.csv", ORDERS + "O1,C1,9999-12-31,paid,1000\n"),
         says=("outside",))
    load("year_typo", "accepted_then_broken", "orders",
         text("orders_0202.csv", ORDERS + "O1,C1,0202-01-02,paid,1000\n"))
    for name, char in [("nul", "\x00"), ("zero_width_space", "\u200b"), ("bidi_override",
                                                                          "\u202e"),
                       ("hangul_filler", "\u3164"), ("bom", "\ufeff")]:
        load(f"{name}_in_customer_id", "accepted_then_broken", "customers",
             text(f"customers_{name}.csv", "customer_id,name\nC1,김민수\n"
                  f"C{char}1,이서연\n"), says=("invisible or control characters", "row(s) 3"))
    load("control_character_in_a_name", "accepted_then_broken", "customers",
         text("customers_control_name.csv", "customer_id,name\nC1,김\x07민수\n"),
         says=("control characters",))

    # 6. unclear failures: each gets a sentence and exit 2
    (folder / "random.xlsx").write_bytes(bytes(range(256)) * 40)
    load("xlsx_random_bytes", "unclear_failure", "orders", "random.xlsx",
         says=("cannot be opened as an Excel workbook",))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    (folder / "zip_not_workbook.xlsx").write_bytes(buffer.getvalue())
    load("xlsx_zip_without_workbook", "unclear_failure", "orders", "zip_not_workbook.xlsx",
         says=("cannot be opened as an Excel workbook",))
    (folder / "broken_xml.xlsx").write_bytes(_xlsx("<worksheet><sheetData><row r='1'><c"))
    load("xlsx_broken_sheet_xml", "unclear_failure", "orders", "broken_xml.xlsx",
         says=("Excel workbook",))
    _parquet(folder / "nested.parquet", pa.table({"order_id": ["O1"], "items": [[1, 2]]}))
    load("parquet_nested_column", "unclear_failure", "orders", "nested.parquet",
         says=("lists, structs or maps",))
    _parquet(folder / "binary.parquet", pa.table({"order_id": pa.array([b"\xff\xfe"])}))
    load("parquet_binary_not_utf8", "unclear_failure", "orders", "binary.parquet",
         says=("cannot be read as text",))
    (folder / "garbage.parquet").write_bytes(b"PAR1" + bytes(range(256)) * 8)
    load("parquet_garbage", "unclear_failure", "orders", "garbage.parquet",
         says=("cannot be read as Parquet",))
    (folder / "binary.csv").write_bytes(bytes(range(128, 256)) * 64)
    load("csv_binary", "unclear_failure", "orders", "binary.csv")
    (folder / "a_folder").mkdir(exist_ok=True)
    case("load_a_folder", "unclear_failure",
         ["load", "orders", "{corpus}/a_folder", "--store", "{store}"], says=("is a folder",))
    for name, content, says in [
        ("duplicate_key", "name: dup\nname: dup2\nrules: {op: and, conditions: []}\n",
         "appears twice"),
        ("deep", "name: deep\nrules: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than"),
        ("bad_date", "name: bad_date\ncreated_at: 2026-13-45\n"
                     "rules: {op: and, conditions: []}\n", "created_at"),
        ("python_tag", "name: tag\nrules: !!python/object/apply:os.system ['true']\n",
         "is not allowed"),
    ]:
        text(f"audiences/{name}.yaml", content)
        case(f"yaml_{name}", "unclear_failure",
             ["audience", "show", name, "--dir", "{corpus}/audiences", "--store", "{store}"],
             says=(says,))
    (folder / "audiences" / "cp949.yaml").write_bytes("name: 고객\n".encode("cp949"))
    case("yaml_not_utf8", "unclear_failure",
         ["audience", "show", "cp949", "--dir", "{corpus}/audiences", "--store", "{store}"],
         says=("UTF-8",))
    case("audience_list_survives_bad_files", "unclear_failure",
         ["audience", "list", "--dir", "{corpus}/audiences", "--store", "{store}"], exit=0)
    (folder / "settings_cp949.toml").write_bytes('[workbench]\nstore = "가"\n'.encode("cp949"))
    case("settings_not_utf8", "unclear_failure",
         ["info", "--config", "{corpus}/settings_cp949.toml"], says=("UTF-8",))
    text("settings_bad_values.toml", '[workbench]\nlock_timeout = "soon"\n')
    case("settings_bad_value", "unclear_failure",
         ["info", "--config", "{corpus}/settings_bad_values.toml"], says=("lock_timeout",))
    (folder / "binary_message.txt").write_bytes(b"\xff\xfe\x00(\x00")
    case("message_file_not_utf8", "unclear_failure",
         ["audience", "export", "vip", "--store", "{store}", "--channel", "push", "--purpose",
          "probe", "--message", "{corpus}/binary_message.txt", "--out", "{work}/x.csv"],
         says=("UTF-8",))
    for command in (["refresh", "--as-of", "0001-01-01"], ["report", "weekly", "--as-of",
                                                            "9999-12-31", "--out", "{work}"],
                    ["churn", "train", "--as-of", "0001-01-01"],
                    ["audience", "count", "vip", "--as-of", "9999-12-31"]):
        case(f"{command[0]}_{command[1]}_date_out_of_range", "unclear_failure",
             [*command, "--store", "{store}"], says=("outside the dates",))
    case("sample_end_out_of_range", "unclear_failure",
         ["sample", "--customers", "10", "--end", "9999-01-01", "--store", "{work}/new.duckdb"],
         says=("outside the dates",))
    case("unknown_store_url", "unclear_failure", ["info", "--store", "bogus://somewhere"],
         says=("cannot open",))
    case("store_url_password_never_printed", "personal_data",
         ["info", "--store", "postgres://shop:s3cr3t-pw@127.0.0.1:1/crm"],
         says=("postgres",))

    # 7. operations: a held lock makes writers wait, then fail clearly; nothing is half-done
    case("writer_gives_up_after_lock_timeout", "operations",
         ["load", "customers", "{corpus}/customers_ok.csv", "--config", "{config}", "-q"],
         exit=1, setup="held_lock", says=("being written by another process",))

    (folder / "cases.json").write_text(json.dumps(cases, indent=1, ensure_ascii=False),
                                       encoding="utf-8")
    return cases


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("corpus")
    found = build(target)
    print(f"{len(found)} cases in {target}")
