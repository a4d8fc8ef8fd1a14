"""Spreadsheets and tables: .xlsx/.xlsm (openpyxl, read-only), .xls (xlrd), and .csv/.tsv/.json.

Text by sheet: one row per line, its cells joined by a tab (so a phrase inside a row still
matches), empty rows left out; sheets separated by PAGE_BREAK, each labelled with its name.
Cached formula results are read, not formulas. Numbers are written as Excel shows them plainly
(12, not 12.0), dates as 2023-03-17.

Memory is bounded: at most MAX_ROWS rows and MAX_CELLS non-empty cells per file (openpyxl's
read-only mode streams rows; xlrd loads one sheet at a time); what is cut is said in a warning.
CSV, TSV and JSON are data rather than documents: they are read only when tables are asked for.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from kb.documents import PAGE_BREAK, Extracted
from kb.errors import ReadError
from kb.read.archive import check_package
from kb.read.base import brief
from kb.read.word97 import OLE_MAGIC, ole_streams

MAX_ROWS = 200_000
MAX_CELLS = 1_000_000  # openpyxl reads ~35,000 cells/s here: at most ~30 s for one workbook
MAX_CELL_CHARS = 32_767  # Excel's own limit for a cell


class _Budget:
    """Rows and cells still allowed for this file; remembers whether anything was cut."""

    def __init__(self) -> None:
        self.rows, self.cells, self.cut = MAX_ROWS, MAX_CELLS, False

    def take(self, cells: int) -> bool:
        if self.rows <= 0 or self.cells < cells:
            self.cut = True
            return False
        self.rows -= 1
        self.cells -= cells
        return True

    def warning(self) -> list[str]:
        if not self.cut:
            return []
        return [f"table cut: only the first {MAX_ROWS:,} rows / {MAX_CELLS:,} cells were read"]


def read_xlsx(path: Path, data: bytes) -> Extracted:
    """Read an Excel 2007+ workbook (.xlsx, .xlsm)."""
    if data.startswith(OLE_MAGIC):
        streams = ole_streams(path, data)
        if "EncryptedPackage" in streams:
            raise ReadError(path, "password-protected workbook")
        if streams & {"Workbook", "Book"}:
            return _as(read_xls(path, data), "an Excel 97-2003 .xls workbook")
        raise ReadError(path, "not an Excel workbook: an OLE file of another kind (renamed?)")
    check_package(path, data, "workbook")
    import openpyxl  # imported when a workbook is read: keeps `import kb.read` cheap

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl, zipfile and the XML parser each have their own errors
        raise ReadError(path, f"corrupt workbook: {brief(exc)}") from exc
    budget = _Budget()
    sheets = []
    try:
        for sheet in book.worksheets:
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # a declared A1:XFD1048576 must not pad every row
            rows = (row for row in sheet.iter_rows(values_only=True))
            sheets.append((sheet.title, _table_lines(rows, budget)))
    finally:
        book.close()
    return _workbook(sheets, "xlsx", budget)


def read_xls(path: Path, data: bytes) -> Extracted:
    """Read an Excel 97-2003 workbook (.xls); also the web pages and text many systems export as .xls."""
    if data.startswith(b"PK\x03\x04"):
        return _as(read_xlsx(path, data), "an Excel 2007+ .xlsx workbook")
    if not data.startswith(OLE_MAGIC):
        return _exported_table(path, data)
    import xlrd

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    except xlrd.XLRDError as exc:
        message = str(exc)
        if "encrypted" in message.lower():
            raise ReadError(path, "password-protected workbook") from exc
        if "workbook" in message.lower() or "BOF" in message:
            raise ReadError(path, f"not an Excel workbook (an OLE file of another kind?): {message}") from exc
        raise ReadError(path, f"corrupt .xls: {message}") from exc
    except Exception as exc:  # truncated streams raise struct, index or assertion errors
        raise ReadError(path, f"corrupt .xls: {brief(exc)}") from exc
    budget = _Budget()
    sheets = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            rows = ([_xls_value(cell, book.datemode) for cell in sheet.row(r)] for r in range(sheet.nrows))
            sheets.append((sheet.name, _table_lines(rows, budget)))
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return _workbook(sheets, "xls", budget)


def read_csv(path: Path, data: bytes, delimiter: str | None = None) -> Extracted:
    """Read comma- (or, for .tsv, tab-) separated values as one table, any Chinese encoding."""
    from kb.read.text import decode

    decoded = decode(path, data)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() == ".tsv" else _delimiter(decoded.text)
    budget = _Budget()
    try:
        lines = _table_lines(csv.reader(io.StringIO(decoded.text), delimiter=delimiter), budget)
    except csv.Error as exc:
        raise ReadError(path, f"malformed {path.suffix or 'CSV'} table: {exc}") from exc
    fmt = "tsv" if delimiter == "\t" else "csv"
    return Extracted(
        text="\n".join(lines), fmt=fmt, encoding=decoded.encoding, warnings=decoded.warnings + budget.warning()
    )


def read_json(path: Path, data: bytes) -> Extracted:
    """Read JSON data as a table: a list of records gives one line per record (values tab-separated)."""
    from kb.read.text import decode

    decoded = decode(path, data)
    try:
        value = json.loads(decoded.text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ReadError(path, f"not valid JSON: {brief(exc)}") from exc
    items = value if isinstance(value, list) else [value]
    rows = (list(_leaves(item)) for item in items)
    budget = _Budget()
    return Extracted(
        text="\n".join(_table_lines(rows, budget)), fmt="json", encoding=decoded.encoding,
        warnings=decoded.warnings + budget.warning(),
    )


def _workbook(sheets: list[tuple[str, list[str]]], fmt: str, budget: _Budget) -> Extracted:
    """Join non-empty sheets with page breaks, labelled with their names."""
    pages = [(name, lines) for name, lines in sheets if lines]
    return Extracted(
        text=PAGE_BREAK.join("\n".join(lines) for _, lines in pages),
        fmt=fmt,
        page_labels=[name for name, _ in pages],
        warnings=budget.warning(),
    )


def _table_lines(rows: Iterable[Iterable[object]], budget: _Budget) -> list[str]:
    lines = []
    for row in rows:
        cells = [_cell_text(value) for value in row]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if not budget.take(sum(1 for cell in cells if cell)):
            break
        lines.append("\t".join(cells))
    return lines


def _cell_text(value: object) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.15g}"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    text = str(value)[:MAX_CELL_CHARS]
    return " ".join(text.split()) if any(c in text for c in "\t\r\n") else text.strip()


def _xls_value(cell, datemode: int) -> object:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
        except (xlrd.xldate.XLDateError, OverflowError, ValueError):
            return cell.value
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_EMPTY):
        return None
    return cell.value


def _leaves(value: object) -> Iterator[object]:
    """The scalar values inside a JSON value, in order (keys are structure, not text)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
        elif item is not None:
            yield item


def _delimiter(text: str) -> str:
    """The separator of a .csv: a comma unless the first line clearly uses ; or tabs instead."""
    first = text.split("\n", 1)[0]
    counts = {sep: first.count(sep) for sep in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def _exported_table(path: Path, data: bytes) -> Extracted:
    """A .xls that is no workbook: web pages (HTML tables) and tab-separated text that systems export."""
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<", b"mime-version:")):
        from kb.read import html

        return _as(html.read(path, data), "a web page or XML table")
    try:
        extracted = read_csv(path, data, "\t" if b"\t" in data[:4096] else None)
    except ReadError as exc:
        raise ReadError(path, f"not an Excel workbook (no OLE header) nor a text table: {exc.cause}") from None
    return _as(extracted, "a text table")


def _as(extracted: Extracted, kind: str) -> Extracted:
    extracted.warnings.insert(0, f"this file is really {kind}; read as such")
    return extracted
