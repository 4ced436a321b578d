"""Rows of `text` and `label` from an uploaded CSV or XLSX file, for POST /api/data/import/.

Reading only: no validation of the values (the data serializer does that, row by row) and no
database. Rows are numbered as a spreadsheet shows them: the header is row 1, so the first data
row is row 2 (a CSV record with a newline inside a quoted field is still one row).

The file's shape is checked here, before any row is validated:
- the type comes from the file name (.csv, .xlsx), else from the part's content type; anything
  else is UnsupportedFileType (the API's 415);
- CSV is UTF-8, with or without a BOM, comma separated (a header row split by `;` or a tab is
  accepted too: spreadsheet programs in many locales export that); a record with more cells than
  the header is a row error, since it is usually an unquoted delimiter inside the text;
- XLSX: the first worksheet, cell values as last saved (formulas' cached results); only the
  header's columns are read, numbers become their text, other non-text cells are row errors;
- the header names `text` and `label` (any order, any case, surrounding spaces ignored); other
  named columns are ignored and reported; a missing or repeated column is a TableError;
- rows whose cells are all empty are skipped; more than `max_rows` other rows is TooManyRows.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

REQUIRED_COLUMNS = ("text", "label")
CSV_DELIMITERS = (",", ";", "\t")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_CONTENT_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values"})
_MALFORMED_XLSX = (
    InvalidFileException,
    zipfile.BadZipFile,
    ParseError,
    KeyError,
    ValueError,
    OSError,
)
# A header wider than this is not a table of labelled texts; it also bounds the header row read.
MAX_COLUMNS = 100


class TableError(Exception):
    """The file cannot be read as a table of labelled texts (the API's 400)."""


class UnsupportedFileType(Exception):
    """Neither CSV nor XLSX (the API's 415)."""


class TooManyRows(TableError):
    pass


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet numbers it: the header is row 1
    values: dict[str, Any]  # `text`, `label`: strings, or what the cell held
    error: str | None = None  # a problem of the row's shape, found while reading


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    blank_rows: int = 0


def file_format(name: str, content_type: str | None) -> str:
    """ "csv" or "xlsx", from the file name's extension, else from the declared content type."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if suffix in ("csv", "xlsx"):
        return suffix
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type in CSV_CONTENT_TYPES:
        return "csv"
    if media_type == XLSX_CONTENT_TYPE:
        return "xlsx"
    raise UnsupportedFileType(
        f"Unsupported file type ({name or 'no name'}, {media_type or 'no content type'}): "
        "send a .csv (UTF-8) or .xlsx file."
    )


def read_table(handle: IO[bytes], *, fmt: str, max_rows: int, max_unpacked_bytes: int) -> Table:
    if fmt == "csv":
        return _table(_csv_rows(handle), max_rows=max_rows)
    if fmt == "xlsx":
        return _read_xlsx(handle, max_rows=max_rows, max_unpacked_bytes=max_unpacked_bytes)
    raise UnsupportedFileType(f"Unsupported file type: {fmt}.")


# --- CSV ------------------------------------------------------------------------------------


def _csv_rows(handle: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) for every record."""
    try:
        # The body is at most the request size limit, already in memory or a temp file.
        text = handle.read().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableError(
            f"The CSV file is not UTF-8 (byte {exc.start}); save it as 'CSV UTF-8'."
        ) from None
    first_line = text.split("\n", 1)[0]
    delimiter = next((d for d in CSV_DELIMITERS if _has_required_columns(first_line.split(d))), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    number = 0
    try:
        for number, cells in enumerate(reader, start=1):
            yield number, cells
    except csv.Error as exc:
        raise TableError(f"Row {number + 1}: the CSV is malformed ({exc}).") from None


def _has_required_columns(cells: list[str]) -> bool:
    names = {_column_name(cell) for cell in cells}
    return all(column in names for column in REQUIRED_COLUMNS)


# --- XLSX -----------------------------------------------------------------------------------


def _read_xlsx(handle: IO[bytes], *, max_rows: int, max_unpacked_bytes: int) -> Table:
    try:
        with zipfile.ZipFile(handle) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise TableError("The file is not a valid .xlsx workbook.") from None
    # zipfile never inflates a member past the size its directory declares, so the sum of the
    # declared sizes bounds what openpyxl can unpack from these bytes, whatever the ratio.
    if unpacked > max_unpacked_bytes:
        raise TableError(
            f"The workbook unpacks to {unpacked} bytes, more than the "
            f"{max_unpacked_bytes} accepted (DATA_IMPORT_MAX_UNPACKED_BYTES)."
        )
    handle.seek(0)
    try:
        # read_only streams the sheet's XML row by row; data_only gives formulas' values.
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        try:
            if not workbook.worksheets:
                raise TableError("The workbook has no worksheet.")
            return _table(_xlsx_rows(workbook.worksheets[0]), max_rows=max_rows)
        finally:
            workbook.close()
    # Malformed parts: XML that does not parse, DTDs and entities (defusedxml's errors are
    # ValueErrors), members that are missing or of the wrong kind.
    except _MALFORMED_XLSX as exc:
        reason = type(exc).__name__
        raise TableError(f"The file is not a valid .xlsx workbook ({reason}).") from None


def _xlsx_rows(sheet) -> Iterator[tuple[int, list[Any]]]:
    rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
    header = next(rows, None)
    if header is None:
        return
    width = _trimmed_width(header)
    yield 1, list(header[:width])
    # Cells right of the header are outside the table; not even parsed into values.
    for number, cells in enumerate(
        sheet.iter_rows(min_row=2, max_col=max(width, 1), values_only=True), start=2
    ):
        yield number, list(cells)


def _trimmed_width(cells: Iterable[Any]) -> int:
    values = list(cells)
    while values and _is_empty(values[-1]):
        values.pop()
    return len(values)


# --- both -----------------------------------------------------------------------------------


def _table(records: Iterator[tuple[int, list[Any]]], *, max_rows: int) -> Table:
    first = next(records, None)
    if first is None:
        raise TableError("The file is empty: the first row must name the columns text and label.")
    header = first[1][: _trimmed_width(first[1])]
    if len(header) > MAX_COLUMNS:
        raise TableError(f"The header has more than {MAX_COLUMNS} columns.")
    positions = _column_positions(header)
    ignored = [str(name) for index, name in enumerate(header) if index not in positions.values()]
    table = Table(ignored_columns=[name for name in ignored if name.strip()])
    width = len(header)
    for number, cells in records:
        if all(_is_empty(cell) for cell in cells):
            table.blank_rows += 1
            continue
        if len(table.rows) == max_rows:
            raise TooManyRows(
                f"The file has more than {max_rows} rows (DATA_IMPORT_MAX_ROWS); split it."
            )
        error = None
        if len(cells) > width and any(not _is_empty(cell) for cell in cells[width:]):
            error = (
                f"This row has {len(cells)} cells but the header has {width}: quote a text "
                "that contains the delimiter."
            )
        values = {
            name: _cell_value(cells[index]) if index < len(cells) else ""
            for name, index in positions.items()
        }
        table.rows.append(Row(number=number, values=values, error=error))
    return table


def _column_positions(header: list[Any]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = _column_name(cell)
        if name in REQUIRED_COLUMNS:
            if name in positions:
                raise TableError(f"The header names the column {name!r} twice.")
            positions[name] = index
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        found = ", ".join(repr(str(cell)) for cell in header if not _is_empty(cell)) or "nothing"
        raise TableError(
            f"The first row must name the columns text and label (any order); "
            f"missing: {', '.join(missing)}; found: {found}."
        )
    return positions


def _column_name(cell: Any) -> str:
    return cell.strip().casefold() if isinstance(cell, str) else ""


def _is_empty(cell: Any) -> bool:
    return cell is None or cell == ""


def _cell_value(cell: Any) -> Any:
    """Text as it is; a number as its text (the serializer then sees a string); None as ""
    (a blank cell); anything else (dates, booleans) as it is, for the serializer to refuse."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    return cell
