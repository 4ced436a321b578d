"""Reading text/label rows from CSV, JSON Lines and Excel files, and checking each one the way
the server does, so a bad row is reported with its line number before anything is sent."""

from __future__ import annotations

import csv
import datetime
import gzip
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMATS = ("csv", "jsonl", "xlsx")
COLUMNS = ("text", "label")
# The server's defaults (web's TEXT_MAX_LENGTH and the label column's width). A server set
# stricter still rejects the row; its per-row answer is mapped back to the line.
TEXT_MAX_LENGTH = 100_000
LABEL_MAX_LENGTH = 100
_SURROGATE = re.compile("[\ud800-\udfff]")


class FileFormatError(Exception):
    """The file as a whole cannot be read (unknown format, no header, missing column)."""


@dataclass(frozen=True)
class Row:
    line: int  # where the row starts in the file (CSV/JSONL line, XLSX sheet row), 1-based
    text: Any
    label: Any
    error: str | None = None  # set when the row could not even be parsed


def detect_format(path: Path, explicit: str | None = None) -> str:
    if explicit:
        return explicit
    suffixes = [suffix.lower() for suffix in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last == ".csv":
        return "csv"
    if last in (".jsonl", ".ndjson"):
        return "jsonl"
    if last == ".xlsx":
        return "xlsx"
    raise FileFormatError(
        f"cannot tell the format of {path.name} from its name; use --format csv|jsonl|xlsx"
    )


def read_rows(path: Path, fmt: str) -> Iterator[Row]:
    if fmt == "csv":
        yield from _read_csv(path)
    elif fmt == "jsonl":
        yield from _read_jsonl(path)
    elif fmt == "xlsx":
        yield from _read_xlsx(path)
    else:
        raise FileFormatError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _open_text(path: Path) -> io.TextIOBase:
    # utf-8-sig: spreadsheet programs put a byte-order mark before the header.
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _columns(header: list[Any], where: str) -> dict[str, int]:
    names = [str(name).strip().lower() if name is not None else "" for name in header]
    missing = [column for column in COLUMNS if column not in names]
    if missing:
        raise FileFormatError(
            f"{where}: the header row needs the columns text and label "
            f"(missing: {', '.join(missing)}; found: {', '.join(filter(None, names)) or 'none'})"
        )
    return {column: names.index(column) for column in COLUMNS}


def _read_csv(path: Path) -> Iterator[Row]:
    try:
        with _open_text(path) as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None:
                raise FileFormatError(f"{path.name} is empty")
            columns = _columns(header, path.name)
            while True:
                # A quoted field may span lines: a row starts one past where the last one ended.
                line = reader.line_num + 1
                try:
                    values = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    yield Row(line, None, None, error=f"unreadable CSV: {exc}")
                    return
                if not values:
                    continue
                yield Row(
                    line,
                    *(
                        values[columns[name]] if columns[name] < len(values) else None
                        for name in COLUMNS
                    ),
                )
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path.name} is not UTF-8 text ({exc.reason})") from exc
    except (OSError, EOFError) as exc:
        raise FileFormatError(f"cannot read {path.name}: {exc}") from exc


def _read_jsonl(path: Path) -> Iterator[Row]:
    try:
        with _open_text(path) as handle:
            for line, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                try:
                    item = json.loads(raw)
                except json.JSONDecodeError as exc:
                    yield Row(line, None, None, error=f"invalid JSON: {exc.msg}")
                    continue
                if not isinstance(item, dict):
                    yield Row(line, None, None, error="not a JSON object")
                    continue
                yield Row(line, item.get("text"), item.get("label"))
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path.name} is not UTF-8 text ({exc.reason})") from exc
    except (OSError, EOFError) as exc:
        raise FileFormatError(f"cannot read {path.name}: {exc}") from exc


def _cell(value: Any) -> Any:
    """Spreadsheet cells carry Excel's types, not the author's: a label typed as 2024 is a
    number, a text typed as a date is a datetime. Send them as the text the sheet shows."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return value


def _read_xlsx(path: Path) -> Iterator[Row]:
    from openpyxl import load_workbook  # only needed for spreadsheets; slow to import

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile, KeyError, ValueError... for bad files
        raise FileFormatError(f"cannot read {path.name} as an .xlsx workbook: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise FileFormatError(f"{path.name}: the first sheet is empty")
        columns = _columns(list(header), f"{path.name} (sheet {sheet.title!r})")
        for line, values in enumerate(rows, start=2):
            if values is None or all(value is None for value in values):
                continue
            yield Row(
                line,
                *(
                    _cell(values[columns[name]]) if columns[name] < len(values) else None
                    for name in COLUMNS
                ),
            )
    finally:
        workbook.close()


def _field_error(value: Any, max_length: int) -> str | None:
    """The server's message for this value, or None (see web's StrictCharField)."""
    if value is None:
        return "This field is required."
    if not isinstance(value, str):
        return "Not a valid string."
    if not value.strip():
        return "This field may not be blank."
    if "\x00" in value:
        return "Null characters are not allowed."
    if found := _SURROGATE.search(value):
        return f"Surrogate characters are not allowed: U+{ord(found.group()):X}."
    if len(value) > max_length:
        return f"Ensure this field has no more than {max_length} characters."
    return None


def validate(row: Row, *, text_max_length: int = TEXT_MAX_LENGTH) -> str | None:
    """Why the server would reject this row ("label: This field may not be blank."), or None."""
    if row.error:
        return row.error
    problems = [
        f"{name}: {message}"
        for name, value, limit in (
            ("text", row.text, text_max_length),
            ("label", row.label, LABEL_MAX_LENGTH),
        )
        if (message := _field_error(value, limit))
    ]
    return "; ".join(problems) or None
