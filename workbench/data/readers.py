r"""Read CSV, TSV, whitespace-separated text, XLSX and Parquet files as tables of text.

Every column comes back as text, so IDs keep their leading zeros and nothing is guessed;
:mod:`workbench.data.convert` types the values later. Each row carries its row number in the
file, for error messages: in CSV and text files the header is row 1 and the first data row is
row 2 (blank lines are not counted); in XLSX files it is the sheet's row number; in Parquet
files the first record is row 1.

CSV encodings (PRODUCT_NOTES 2.4): a UTF-8 byte-order mark means ``utf-8-sig``; otherwise
strict ``utf-8``; otherwise ``cp949`` (Korean Windows Excel's "CSV"). Never plain ``euc-kr``:
it lacks most Hangul syllables (똠, 햏 ...). Bytes that none of these decode are reported with
their line and byte offset.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "orders.csv"
>>> _ = path.write_bytes("order_id,이름\n007,김똠\n".encode("cp949"))
>>> raw = read_source(path)
>>> raw.encoding, raw.headers, raw.data.column("order_id").to_pylist(), raw.rows.tolist()
('cp949', ['order_id', '이름'], ['007'], [2])
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from pyarrow import csv as pacsv

from workbench.data.validate import format_rows
from workbench.errors import InputError, SchemaError
from workbench.i18n import tr

__all__ = ["CSV_SUFFIXES", "MAX_CELL_CHARS", "MAX_XLSX_CELLS", "MAX_XLSX_EXPANDED", "RawTable",
           "decode_csv", "fingerprint", "read_source"]

CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".dat")
#: Longest text a cell may hold: Excel's own limit, so nothing longer comes from a real export
#: (a 1 MB workbook whose one string expands to 1 GiB took 5.5 GB of memory before this).
MAX_CELL_CHARS = 32_767
#: Largest total size of the XML inside an XLSX workbook (its parts, uncompressed). A
#: 1M-row shop export is about 300 MB; a zip bomb is refused before anything is unpacked.
MAX_XLSX_EXPANDED = 512 << 20
#: Most cells read from one sheet (rows x columns, counting empty ones Excel pads rows with).
MAX_XLSX_CELLS = 100_000_000
#: Largest uncompressed size of a Parquet file's data (its own metadata says it): ten times a
#: million orders, and a dictionary-encoded bomb is refused before it is decoded.
MAX_PARQUET_EXPANDED = 2 << 30
_EXCEL_SUFFIXES = (".xlsx", ".xlsm")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_BOM = codecs.BOM_UTF8
_DELIMITERS = {"whitespace": "whitespace", "tab": "\t", "\\t": "\t", "comma": ",",
               "semicolon": ";", "pipe": "|"}

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class RawTable:
    """A source file read as text.

    Parameters
    ----------
    data
        One string column per source column, named by ``headers``.
    headers
        Column names as in the file; empty names become ``column3`` and repeated names get a
        ``(2)`` suffix so that every name is unique.
    rows
        The row number in the file of each data row (see the module docstring).
    encoding
        Detected encoding of a text file, ``None`` for XLSX and Parquet.
    sheet
        The sheet read from an XLSX file.
    fingerprint
        SHA-256 of the file's bytes.
    header_row
        Row number of the header (0 when the format has none, as Parquet).
    """

    data: pa.Table
    headers: list[str]
    rows: np.ndarray
    encoding: str | None
    sheet: str | None
    fingerprint: str
    header_row: int = 1

    @property
    def num_rows(self) -> int:
        """Return the number of data rows."""
        return self.data.num_rows


def fingerprint(path: str | os.PathLike[str]) -> str:
    """Return the SHA-256 hex digest of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def read_source(path: str | os.PathLike[str], *, delimiter: str | None = None,
                sheet: str | None = None, header_row: int = 1, quote: bool = True,
                progress: Progress | None = None) -> RawTable:
    r"""Read a file into a :class:`RawTable` of text columns.

    Parameters
    ----------
    path
        A ``.csv``/``.tsv``/``.txt`` file, an ``.xlsx`` workbook or a ``.parquet`` file.
    delimiter
        Field separator of text files: ``","``, ``"\t"``, ``";"``, ``"|"`` or ``"whitespace"``
        (runs of spaces and tabs, as in the CDNOW files). Default: tab for ``.tsv`` files and for
        a header with tabs but no commas, else comma.
    sheet
        XLSX sheet name; default the first sheet.
    header_row
        Row holding the column names (XLSX and text files; rows above it are skipped).
    quote
        Whether ``"`` quotes fields in text files.
    progress
        Called as ``progress("read", done, total)``.

    Raises
    ------
    InputError
        The file does not exist or has an unsupported type.
    SchemaError
        The file is empty, has no data rows, cannot be decoded or parsed.
    """
    path = Path(path)
    if path.is_dir():
        raise InputError(tr("load.file_is_folder", path=str(path)))
    if not path.is_file():
        if path.exists():
            raise InputError(tr("load.not_regular_file", path=str(path)))
        raise InputError(tr("load.file_missing", path=str(path)))
    if not os.access(path, os.R_OK):
        raise InputError(tr("load.file_unreadable", path=str(path)))
    suffix = path.suffix.lower()
    if suffix in _EXCEL_SUFFIXES:
        raw = _read_xlsx(path, sheet, header_row, progress)
    elif suffix in _PARQUET_SUFFIXES:
        raw = _read_parquet(path)
    elif suffix in CSV_SUFFIXES:
        raw = _read_text(path, delimiter, header_row, quote, progress)
    else:
        raise InputError(tr("load.unsupported_format", file=path.name, suffix=suffix or "-"))
    if raw.num_rows == 0:
        raise SchemaError(tr("load.no_rows", file=path.name))
    _check_cell_lengths(raw, path.name)
    return raw


def _check_cell_lengths(raw: RawTable, file: str) -> None:
    """Refuse cells longer than :data:`MAX_CELL_CHARS` (naming the column and the rows)."""
    for header in raw.headers:
        column = raw.data.column(header)
        lengths = pc.utf8_length(column)
        longest = pc.max(lengths).as_py()
        if longest is None or longest <= MAX_CELL_CHARS:
            continue
        mask = np.asarray(pc.fill_null(pc.greater(lengths, MAX_CELL_CHARS), False)
                          .to_numpy(zero_copy_only=False), dtype=bool)
        raise SchemaError(tr("load.cell_too_long", file=file, column=header,
                             count=f"{int(mask.sum()):,}", rows=format_rows(raw.rows[mask]),
                             longest=f"{longest:,}", limit=f"{MAX_CELL_CHARS:,}"))


# -- text files ------------------------------------------------------------------------------


def decode_csv(data: bytes, file: str) -> tuple[str, str | None]:
    r"""Detect the encoding of a text file's bytes.

    Parameters
    ----------
    data
        The file's bytes.
    file
        File name, for the error message.

    Returns
    -------
    tuple
        The encoding (``utf-8-sig``, ``utf-8`` or ``cp949``) and, for ``cp949``, the decoded
        text (``None`` otherwise: the bytes are already UTF-8).

    Raises
    ------
    SchemaError
        No encoding decodes the bytes; the message names the line and byte offset.

    Examples
    --------
    >>> decode_csv("a\n똠".encode("cp949"), "x.csv")
    ('cp949', 'a\n똠')
    >>> decode_csv(b"\xef\xbb\xbfa", "x.csv")
    ('utf-8-sig', None)
    """
    if data.startswith(_BOM):
        try:
            data[len(_BOM):].decode("utf-8")
        except UnicodeDecodeError as exc:
            shifted = UnicodeDecodeError(exc.encoding, data, exc.start + len(_BOM),
                                         exc.end + len(_BOM), exc.reason)
            raise _undecodable(data, file, [("utf-8-sig", shifted)]) from None
        return "utf-8-sig", None
    failures: list[tuple[str, UnicodeDecodeError]] = []
    for encoding in ("utf-8", "cp949"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            failures.append((encoding, exc))
            continue
        return encoding, (text if encoding == "cp949" else None)
    raise _undecodable(data, file, failures)


def _undecodable(data: bytes, file: str,
                 failures: list[tuple[str, UnicodeDecodeError]]) -> SchemaError:
    # The encoding that decoded furthest is the file's likely one; its failure is the real spot.
    _, exc = max(failures, key=lambda item: item[1].start)
    offset = exc.start
    line = data.count(b"\n", 0, offset) + 1
    shown = " ".join(f"0x{b:02x}" for b in data[offset:min(exc.end, offset + 4)])
    tried = ", ".join(enc.upper() for enc, _ in failures)
    return SchemaError(tr("load.undecodable", file=file, line=line, offset=offset, bytes=shown,
                          tried=tried))


def _resolve_delimiter(delimiter: str | None, suffix: str, first_line: str) -> str:
    if delimiter:
        return _DELIMITERS.get(delimiter, delimiter)
    if suffix == ".tsv" or ("\t" in first_line and "," not in first_line):
        return "\t"
    return ","


def _read_text(path: Path, delimiter: str | None, header_row: int, quote: bool,
               progress: Progress | None) -> RawTable:
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    encoding, text = decode_csv(data, path.name)
    if text is not None:
        data = text.encode("utf-8")
    elif encoding == "utf-8-sig":
        data = data[len(_BOM):]
    body = data.split(b"\n", header_row - 1)[-1] if header_row > 1 else data
    if not body[:4096].strip() and not body.strip():
        raise SchemaError(tr("load.empty_file", file=path.name))
    if progress:  # rows, not bytes: the line count less the header (quoted newlines aside)
        lines = body.count(b"\n") + (not body.endswith(b"\n"))
        progress("read", 0, max(lines - 1, 0))
    first = body[:1 << 16].decode("utf-8", errors="ignore").split("\n", 1)[0]
    sep = _resolve_delimiter(delimiter, path.suffix.lower(), first)
    if sep == "whitespace":
        body = _whitespace_to_tabs(body)
        sep, quote = "\t", False
    headers = _unique(_header_fields(body, sep, quote))
    if not any(h.strip() for h in headers):
        raise SchemaError(tr("load.empty_file", file=path.name))
    table = _parse_csv(body, headers, sep, quote, path.name, header_offset=header_row - 1)
    if progress:
        progress("read", table.num_rows, table.num_rows)
    rows = np.arange(header_row + 1, header_row + 1 + table.num_rows, dtype=np.int64)
    return RawTable(table, headers, rows, encoding, None, digest, header_row)


def _whitespace_to_tabs(body: bytes) -> bytes:
    body = re.sub(rb"[ \t]+", b"\t", body)
    return re.sub(rb"(?m)^\t|\t(?=\r?$)", b"", body)


def _header_fields(body: bytes, sep: str, quote: bool) -> list[str]:
    head = body[:1 << 16].decode("utf-8", errors="ignore")
    reader = csv.reader(io.StringIO(head), delimiter=sep,
                        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE)
    fields = next(reader, [])
    return [f.strip() for f in fields]


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(headers, start=1):
        name = name or f"column{i}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _parse_csv(body: bytes, headers: list[str], sep: str, quote: bool, file: str,
               header_offset: int = 0) -> pa.Table:
    read = pacsv.ReadOptions(column_names=headers, skip_rows=1, block_size=1 << 24)
    parse = pacsv.ParseOptions(delimiter=sep, quote_char='"' if quote else False,
                               newlines_in_values=quote)
    convert = pacsv.ConvertOptions(column_types={h: pa.string() for h in headers},
                                   strings_can_be_null=True, null_values=[""],
                                   quoted_strings_can_be_null=True)
    try:
        return pacsv.read_csv(io.BytesIO(body), read_options=read, parse_options=parse,
                              convert_options=convert)
    except pa.ArrowInvalid as exc:
        detail = str(exc).splitlines()[0].removeprefix("CSV parse error: ")
        shown = {"\t": "tab", ",": "','"}.get(sep, repr(sep))
        # Arrow quotes the whole offending row, with the customer's name, phone and email:
        # say where it is instead, since error messages end up in cron logs.
        counts = re.match(r"Expected (\d+) columns, got (\d+)", detail)
        if counts:
            line = _first_bad_line(body, sep, quote, int(counts.group(1)))
            detail = tr("load.csv_wrong_fields", expected=counts.group(1), got=counts.group(2),
                        line="?" if line is None else str(line + header_offset))
        else:
            detail = detail.split(":", 1)[0]
        raise SchemaError(tr("load.csv_parse", file=file, delimiter=shown,
                             detail=detail)) from None


def _first_bad_line(body: bytes, sep: str, quote: bool, width: int) -> int | None:
    """Return the line (1 = the header) of the first record without ``width`` fields."""
    text = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8", errors="replace", newline="")
    reader = csv.reader(text, delimiter=sep,
                        quoting=csv.QUOTE_MINIMAL if quote else csv.QUOTE_NONE)
    try:
        start = 1
        for record in reader:
            if record and len(record) != width:
                return start
            start = reader.line_num + 1
    except csv.Error:
        return start
    return None


# -- Excel -----------------------------------------------------------------------------------


def _cell_text(value: object) -> str | None:
    """Turn a cell value into text: whole numbers without ``.0``, huge ones as Excel shows."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            # Excel keeps 15 significant digits: larger whole numbers (long IDs) lost digits
            # already, so show them as Excel does and let the ID check report them.
            return str(int(value)) if abs(value) < 1e15 else f"{value:.15G}"
        return repr(value)
    if isinstance(value, dt.datetime):
        # date cells come back as midnight datetimes: show them as the dates people typed
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(path: Path, sheet: str | None, header_row: int,
               progress: Progress | None) -> RawTable:
    # Imported here: openpyxl adds 0.21-0.27 s to start-up (three runs, perf_counter, 2 cores)
    # that CSV and Parquet loads never need.
    import openpyxl

    digest = fingerprint(path)
    _check_workbook_size(path)
    # openpyxl raises whatever its XML and zip layers raise on a damaged file (KeyError,
    # TypeError, IndexError, ParseError, ...): every one of them means "not a workbook we can
    # read", and the size check above bounds what a hostile file can cost before this point.
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - see above
        raise SchemaError(tr("load.not_excel", file=path.name, detail=_short(exc))) from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise SchemaError(tr("load.no_sheet", file=path.name, sheet=sheet,
                                 sheets=", ".join(f"'{s}'" for s in book.sheetnames)))
        ws = book[sheet] if sheet is not None else book.worksheets[0]
        declared = (ws.max_row or 0) * (ws.max_column or 0)
        if declared > MAX_XLSX_CELLS:
            # A declared size beyond the limit is either a lie (read what is really there,
            # without padding every row to it) or a real monster (the count below stops it).
            ws.reset_dimensions()
        total = ws.max_row or 0
        header, rows, numbers = _xlsx_rows(ws, header_row, total, progress, path.name)
    except (SchemaError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - damaged sheet XML fails while it is read
        raise SchemaError(tr("load.not_excel", file=path.name, detail=_short(exc))) from None
    finally:
        book.close()
    if header is None:
        raise SchemaError(tr("load.empty_file", file=path.name))
    width = max([len(header), *(len(r) for r in rows)])
    names = [(_cell_text(v) or "").strip() for v in header]
    headers = _unique(names + [""] * (width - len(names)))
    columns = [[] for _ in headers]
    for row in rows:
        for i in range(width):
            columns[i].append(row[i] if i < len(row) else None)
    table = pa.table([pa.array(c, type=pa.string()) for c in columns], names=headers)
    return RawTable(table, headers, np.asarray(numbers, dtype=np.int64), None, ws.title,
                    digest, header_row)


def _short(exc: BaseException) -> str:
    text = (str(exc).splitlines() or [""])[0].strip()
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def _check_workbook_size(path: Path) -> None:
    """Refuse a workbook that is not a zip file or would expand beyond the limit."""
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise SchemaError(tr("load.not_excel", file=path.name, detail=_short(exc))) from None
    if expanded > MAX_XLSX_EXPANDED:
        raise SchemaError(tr("load.xlsx_too_big", file=path.name,
                             size=f"{expanded / 2**20:,.0f}",
                             limit=f"{MAX_XLSX_EXPANDED / 2**20:,.0f}"))


def _xlsx_rows(ws, header_row: int, total: int, progress: Progress | None, file: str = "-"):
    header = None
    rows: list[list[str | None]] = []
    numbers: list[int] = []
    cells = 0
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        cells += len(values)
        if cells > MAX_XLSX_CELLS:
            raise SchemaError(tr("load.xlsx_too_many_cells", file=file,
                                 limit=f"{MAX_XLSX_CELLS:,}", row=number))
        if number < header_row:
            continue
        cells_text = [_cell_text(v) for v in values]
        if number == header_row:
            header = values if any(c is not None for c in cells_text) else None
            continue
        if any(c is not None and c.strip() for c in cells_text):
            rows.append(cells_text)
            numbers.append(number)
        if progress and number % 50_000 == 0:
            progress("read", number, total)
    if progress:
        progress("read", total, total)
    return header, rows, numbers


# -- Parquet ---------------------------------------------------------------------------------


def _read_parquet(path: Path) -> RawTable:
    digest = fingerprint(path)
    if path.stat().st_size == 0:
        raise SchemaError(tr("load.empty_file", file=path.name))
    try:
        meta = pq.ParquetFile(path).metadata
        expanded = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        schema = meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError) as exc:
        raise SchemaError(tr("load.not_parquet", file=path.name, detail=_short(exc))) from None
    if expanded > MAX_PARQUET_EXPANDED:
        raise SchemaError(tr("load.parquet_too_big", file=path.name,
                             size=f"{expanded / 2**30:,.1f}",
                             limit=f"{MAX_PARQUET_EXPANDED / 2**30:,.0f}"))
    nested = [f.name for f in schema if pa.types.is_nested(f.type)
              or (pa.types.is_dictionary(f.type) and pa.types.is_nested(f.type.value_type))]
    if nested:
        raise SchemaError(tr("load.parquet_nested", file=path.name,
                             columns=", ".join(f"'{n}'" for n in nested[:5])))
    # Text columns are read as dictionaries: a file of a few hundred bytes can repeat one
    # long string millions of times (its metadata counts the string once), so the decoded
    # size is checked before anything is decoded.
    texts = [f.name for f in schema if _is_text(f.type)]
    try:
        table = pq.read_table(path, read_dictionary=texts)
    except (pa.ArrowException, OSError) as exc:
        raise SchemaError(tr("load.not_parquet", file=path.name, detail=_short(exc))) from None
    _check_decoded_size(table, path.name)
    headers = _unique([name.strip() for name in table.column_names])
    columns = []
    for i, header in enumerate(headers):
        try:
            columns.append(_parquet_text(table.column(i)))
        except (pa.ArrowException, ValueError) as exc:
            raise SchemaError(tr("load.parquet_column", file=path.name, column=header,
                                 kind=str(table.schema.field(i).type),
                                 detail=_short(exc))) from None
    text = pa.table(columns, names=headers)
    rows = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return RawTable(text, headers, rows, None, None, digest, header_row=0)


def _is_text(kind: pa.DataType) -> bool:
    return (pa.types.is_string(kind) or pa.types.is_large_string(kind)
            or pa.types.is_binary(kind) or pa.types.is_large_binary(kind))


def _check_decoded_size(table: pa.Table, file: str) -> None:
    """Refuse dictionary columns whose cells or total would be too large once decoded."""
    total = 0
    for name, column in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_dictionary(column.type):
            total += column.nbytes
            continue
        # bytes per cell: a cell of more than 4 bytes per allowed character is too long in any
        # encoding; the exact character count is checked once the text is decoded
        used = pa.chunked_array([pc.take(pc.binary_length(c.dictionary), c.indices)
                                 for c in column.chunks], type=pa.int32())
        longest = pc.max(used).as_py() or 0
        if longest > 4 * MAX_CELL_CHARS:
            mask = np.asarray(pc.fill_null(pc.greater(used, 4 * MAX_CELL_CHARS), False)
                              .to_numpy(), dtype=bool)
            raise SchemaError(tr("load.cell_too_long", file=file, column=name,
                                 count=f"{int(mask.sum()):,}",
                                 rows=format_rows(np.flatnonzero(mask) + 1),
                                 longest=f"{longest:,}", limit=f"{MAX_CELL_CHARS:,}"))
        total += int(pc.sum(used).as_py() or 0)
        if total > MAX_PARQUET_EXPANDED:
            raise SchemaError(tr("load.parquet_too_big", file=file,
                                 size=f"{total / 2**30:,.1f}+",
                                 limit=f"{MAX_PARQUET_EXPANDED / 2**30:,.0f}"))


def _parquet_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(
            kind):
        # Bytes are text only if they are UTF-8 (cast checks it and fails otherwise).
        return column.cast(pa.binary()).cast(pa.string())
    if pa.types.is_floating(kind):
        # 17850.0 -> "17850" as in spreadsheets; other floats keep their shortest form
        whole = pc.and_(pc.equal(column, pc.floor(column)), pc.less(pc.abs(column), 1e15))
        as_int = pc.cast(pc.if_else(whole, column, None), pa.int64(), safe=False)
        return pc.coalesce(pc.cast(as_int, pa.string()), pc.cast(column, pa.string()))
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        # ISO 8601 with "Z": the instant survives the round trip through text
        utc = column.cast(pa.timestamp("us", tz="UTC"))
        return pc.strftime(utc, format="%Y-%m-%dT%H:%M:%SZ")
    return column.cast(pa.string())
