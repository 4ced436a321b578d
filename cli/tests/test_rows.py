import gzip
import json

import pytest
from openpyxl import Workbook

from textclf_cli.rows import FileFormatError, Row, detect_format, read_rows, validate


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.csv", "csv"),
        ("a.CSV", "csv"),
        ("a.csv.gz", "csv"),
        ("a.jsonl", "jsonl"),
        ("a.ndjson", "jsonl"),
        ("a.jsonl.gz", "jsonl"),
        ("a.xlsx", "xlsx"),
    ],
)
def test_format_from_the_name(tmp_path, name, fmt):
    assert detect_format(tmp_path / name) == fmt


def test_unknown_format_asks_for_format(tmp_path):
    with pytest.raises(FileFormatError, match="--format"):
        detect_format(tmp_path / "a.txt")


def test_csv_rows_carry_the_line_they_start_on(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text('\ufefftext,label,id\n"two\nlines",x,1\n\nplain,y,2\nshort\n', encoding="utf-8")
    rows = list(read_rows(path, "csv"))
    assert rows == [Row(2, "two\nlines", "x"), Row(5, "plain", "y"), Row(6, "short", None)]


def test_csv_gz_is_read(tmp_path):
    path = tmp_path / "a.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write("label,text\nx,hello\n")
    assert list(read_rows(path, "csv")) == [Row(2, "hello", "x")]


def test_csv_without_the_columns_is_a_file_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("body,category\nhello,x\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="missing: text, label"):
        list(read_rows(path, "csv"))


def test_jsonl_keeps_types_and_reports_bad_lines(tmp_path):
    path = tmp_path / "a.jsonl"
    lines = [
        json.dumps({"text": "ok", "label": "x", "extra": 1}),
        "",
        "{not json",
        json.dumps(["a", "b"]),
        json.dumps({"text": 5, "label": "x"}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = list(read_rows(path, "jsonl"))
    assert [row.line for row in rows] == [1, 3, 4, 5]
    assert rows[0] == Row(1, "ok", "x")
    assert rows[1].error.startswith("invalid JSON")
    assert rows[2].error == "not a JSON object"
    assert validate(rows[3]) == "text: Not a valid string."


def test_xlsx_first_sheet_with_header_row(tmp_path):
    path = tmp_path / "a.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Label", "Text"])
    sheet.append(["games", "A chess engine"])
    sheet.append([None, None])
    sheet.append([2024, "numbered"])
    sheet.append(["x", None])
    workbook.create_sheet("other").append(["text", "label"])
    workbook.save(path)
    rows = list(read_rows(path, "xlsx"))
    assert rows == [
        Row(2, "A chess engine", "games"),
        Row(4, "numbered", "2024"),
        Row(5, None, "x"),
    ]
    assert validate(rows[2]) == "text: This field is required."


def test_not_a_workbook_is_a_file_error(tmp_path):
    path = tmp_path / "a.xlsx"
    path.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match="xlsx"):
        list(read_rows(path, "xlsx"))


@pytest.mark.parametrize(
    ("text", "label", "reason"),
    [
        ("fine", "x", None),
        (" padded, kept as is ", "x", None),
        ("   ", "x", "text: This field may not be blank."),
        ("", "", "text: This field may not be blank.; label: This field may not be blank."),
        ("a\x00b", "x", "text: Null characters are not allowed."),
        ("a\ud800", "x", "text: Surrogate characters are not allowed: U+D800."),
        ("t", "l" * 101, "label: Ensure this field has no more than 100 characters."),
        ("t" * 100_001, "x", "text: Ensure this field has no more than 100000 characters."),
        ("t", 3, "label: Not a valid string."),
    ],
)
def test_validate_as_the_server_does(text, label, reason):
    assert validate(Row(1, text, label)) == reason
