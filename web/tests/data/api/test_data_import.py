"""POST /api/data/import/: CSV and XLSX files of labelled texts, validated row by row.

Against the real Postgres: what is saved is read back from the table.
"""

import csv
import datetime
import io
import zipfile

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from data.models import Data

URL = "/api/data/import/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

pytestmark = pytest.mark.django_db


def upload(client, name, content, content_type="application/octet-stream", **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return client.post(
        f"{URL}?{query}" if query else URL,
        {"file": SimpleUploadedFile(name, content, content_type=content_type)},
        format="multipart",
    )


def csv_bytes(rows, *, bom=False, delimiter=","):
    buffer = io.StringIO(newline="")
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return ("\ufeff" if bom else "").encode() + buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def stored():
    return list(Data.objects.order_by("id").values_list("text", "label"))


# --- CSV ------------------------------------------------------------------------------------


def test_a_csv_with_bom_quotes_and_newlines_is_stored_exactly(api_client):
    texts = [
        'He said "hello", then left',
        "Two lines\nin one field",
        "  leading spaces, an emoji 🚀 and RTL مرحبا  ",
    ]
    content = csv_bytes(
        [["label", "id", "text"], *[[f"l{i}", str(i), text] for i, text in enumerate(texts)]],
        bom=True,
    )

    response = upload(api_client, "corpus.csv", content, "text/csv")

    assert response.status_code == 201, response.json()
    assert response.json() == {
        "rows": 3,
        "created": 3,
        "rejected": 0,
        "blank_rows": 0,
        "ignored_columns": ["id"],
        "errors": {},
    }
    assert stored() == [(text, f"l{i}") for i, text in enumerate(texts)]


def test_a_csv_without_bom_and_with_crlf_line_ends(api_client):
    content = b"text,label\r\nfirst text,a\r\nsecond text,b\r\n"

    response = upload(api_client, "corpus.csv", content)

    assert response.status_code == 201, response.json()
    assert stored() == [("first text", "a"), ("second text", "b")]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_a_semicolon_or_tab_separated_header_is_recognised(api_client, delimiter):
    content = csv_bytes([["Text ", " LABEL"], ["one, with a comma", "x"]], delimiter=delimiter)

    response = upload(api_client, "corpus.csv", content)

    assert response.status_code == 201, response.json()
    assert stored() == [("one, with a comma", "x")]


def test_blank_lines_are_skipped_and_counted(api_client):
    content = b"text,label\n\nfirst,a\n,\n\nsecond,b\n"

    response = upload(api_client, "corpus.csv", content)

    assert response.status_code == 201, response.json()
    assert response.json()["blank_rows"] == 3
    assert stored() == [("first", "a"), ("second", "b")]


def test_a_content_type_names_the_format_when_the_name_does_not(api_client):
    response = upload(api_client, "upload", b"text,label\nx,y\n", "text/csv")

    assert response.status_code == 201, response.json()


# --- XLSX -----------------------------------------------------------------------------------


def test_an_xlsx_is_read_from_its_first_sheet(api_client):
    content = xlsx_bytes(
        [
            ["source", "text", "label"],
            ["web", "A text with a\nnewline", "games"],
            [None, None, None],
            ["web", "Numbers become text", 5],
            ["web", 3.5, "floats"],
        ]
    )

    response = upload(api_client, "corpus.xlsx", content, XLSX)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["rows"], body["created"], body["blank_rows"]) == (3, 3, 1)
    assert body["ignored_columns"] == ["source"]
    assert stored() == [
        ("A text with a\nnewline", "games"),
        ("Numbers become text", "5"),
        ("3.5", "floats"),
    ]


def test_xlsx_cells_that_are_not_text_or_numbers_are_row_errors(api_client):
    content = xlsx_bytes(
        [["text", "label"], ["fine", "a"], [datetime.datetime(2026, 1, 2), "b"], ["x", True]]
    )

    response = upload(api_client, "corpus.xlsx", content, XLSX)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"3", "4"}
    assert response.json()["errors"]["3"] == {"text": ["Not a valid string."]}
    assert stored() == []


def test_xlsx_cells_right_of_the_header_are_not_read(api_client):
    content = xlsx_bytes([["text", "label"], ["kept", "a", "outside the table"]])

    response = upload(api_client, "corpus.xlsx", content, XLSX)

    assert response.status_code == 201, response.json()
    assert stored() == [("kept", "a")]


# --- validation: the data API's rules, all or nothing by default ----------------------------


def test_one_bad_row_saves_nothing_and_is_reported_by_its_row_number(api_client):
    content = csv_bytes(
        [
            ["text", "label"],
            ["good one", "a"],  # row 2
            ["spans\ntwo lines", "a"],  # row 3: still one row
            ["   ", "a"],  # row 4: blank text
            ["good two", "x" * 101],  # row 5: label too long
        ]
    )

    response = upload(api_client, "corpus.csv", content)

    assert response.status_code == 400
    body = response.json()
    assert body["detail"].startswith("2 of 4 rows are invalid; nothing was saved.")
    assert "row 4, text" in body["detail"]
    assert (body["rows"], body["created"], body["rejected"]) == (4, 0, 2)
    assert body["errors"] == {
        "4": {"text": ["This field may not be blank."]},
        "5": {"label": ["Ensure this field has no more than 100 characters."]},
    }
    assert stored() == []


def test_partial_saves_the_good_rows_and_reports_the_bad(api_client):
    content = csv_bytes([["text", "label"], ["good", "a"], ["bad", ""], ["also good", "b"]])

    response = upload(api_client, "corpus.csv", content, partial="true")

    assert response.status_code == 201
    body = response.json()
    assert (body["rows"], body["created"], body["rejected"]) == (3, 2, 1)
    assert body["errors"] == {"3": {"label": ["This field may not be blank."]}}
    assert stored() == [("good", "a"), ("also good", "b")]


def test_partial_with_no_good_row_is_a_400(api_client):
    response = upload(api_client, "c.csv", b"text,label\n ,a\n", partial="true")

    assert response.status_code == 400
    assert response.json()["created"] == 0
    assert stored() == []


def test_rows_get_the_same_errors_as_items_of_the_data_api(api_client, settings):
    settings.TEXT_MAX_LENGTH = 10
    items = [
        {"text": "x" * 11, "label": "a"},
        {"text": "nul \x00 inside", "label": "a"},
        {"text": "fine", "label": " \t "},
        {"text": "", "label": "b" * 101},
    ]
    via_json = api_client.post("/api/data/", items, format="json")
    content = csv_bytes([["text", "label"], *[[item["text"], item["label"]] for item in items]])

    via_file = upload(api_client, "c.csv", content)

    assert via_json.status_code == via_file.status_code == 400
    # Row n + 2 of the file is item n of the list (row 1 is the header).
    rows = {str(int(row) - 2): errors for row, errors in via_file.json()["errors"].items()}
    assert rows == via_json.json()["errors"]
    assert len(rows) == 4
    assert stored() == []


def test_a_csv_row_with_more_cells_than_the_header_is_a_row_error(api_client):
    response = upload(api_client, "c.csv", b"text,label\nHello, world,greetings\n")

    assert response.status_code == 400
    assert "quote a text" in response.json()["errors"]["2"]["non_field_errors"][0]


# --- the file's shape -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("c.csv", b"", "The submitted file is empty."),
        ("c.csv", b"text,label\n", "no data rows"),
        ("c.csv", b"\n\n", "must name the columns text and label"),
        ("c.csv", b"text,lable\nx,y\n", "missing: label"),
        ("c.csv", b"text,label,Text\nx,y,z\n", "names the column 'text' twice"),
        ("c.csv", "text,label\ncaf\u00e9,x\n".encode("latin-1"), "not UTF-8"),
        ("c.csv", b'text,label\n"unterminated,x\n', "malformed"),
        ("c.xlsx", b"text,label\nx,y\n", "not a valid .xlsx workbook"),
    ],
)
def test_an_unreadable_file_is_a_400_with_the_reason(api_client, name, content, message):
    response = upload(api_client, name, content)

    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert stored() == []


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("c.json", "application/json"), ("c.xls", "application/vnd.ms-excel"), ("c", "")],
)
def test_an_unsupported_file_type_is_a_415(api_client, name, content_type):
    response = upload(api_client, name, b"text,label\nx,y\n", content_type or "text/plain")

    assert response.status_code == 415
    assert ".csv" in response.json()["detail"]


def test_a_json_body_is_a_415(api_client):
    response = api_client.post(URL, [{"text": "x", "label": "y"}], format="json")

    assert response.status_code == 415
    assert response.json()["detail"]


def test_a_form_without_the_file_or_with_other_fields_is_a_400(api_client):
    missing = api_client.post(URL, {}, format="multipart")
    extra = api_client.post(
        URL,
        {"file": SimpleUploadedFile("c.csv", b"text,label\nx,y\n"), "partial": "true"},
        format="multipart",
    )

    assert missing.status_code == 400
    assert "file" in missing.json()["errors"]
    assert extra.status_code == 400
    assert extra.json()["errors"] == {"partial": ["Unknown field."]}
    assert stored() == []


def test_partial_must_be_a_boolean(api_client):
    response = upload(api_client, "c.csv", b"text,label\nx,y\n", partial="maybe")

    assert response.status_code == 400
    assert "partial" in response.json()["errors"]


# --- limits, before any row is validated ----------------------------------------------------


def test_more_rows_than_the_limit_is_a_400_and_saves_nothing(api_client, settings):
    settings.DATA_IMPORT_MAX_ROWS = 3
    rows = [["text", "label"], *[[f"t{i}", "a"] for i in range(4)]]

    too_many = upload(api_client, "c.csv", csv_bytes(rows))
    at_limit = upload(api_client, "c.csv", csv_bytes(rows[:4]))

    assert too_many.status_code == 400
    assert "more than 3 rows" in too_many.json()["detail"]
    assert at_limit.status_code == 201
    assert len(stored()) == 3


def test_the_xlsx_row_limit_holds_too(api_client, settings):
    settings.DATA_IMPORT_MAX_ROWS = 2
    content = xlsx_bytes([["text", "label"], *[[f"t{i}", "a"] for i in range(3)]])

    response = upload(api_client, "c.xlsx", content)

    assert response.status_code == 400
    assert "more than 2 rows" in response.json()["detail"]
    assert stored() == []


def test_an_upload_over_the_body_limit_is_a_413(api_client, settings):
    content = csv_bytes([["text", "label"], ["x" * 2000, "a"]])
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(content)  # the multipart framing adds more

    response = upload(api_client, "c.csv", content)

    assert response.status_code == 413
    assert response.json()["detail"]
    assert stored() == []


def test_an_import_that_cannot_finish_in_time_is_a_413_and_saves_nothing(api_client, settings):
    settings.DATA_IMPORT_TIMEOUT_SECONDS = 0.0001

    response = upload(api_client, "c.csv", b"text,label\nx,y\n")

    assert response.status_code == 413
    assert "DATA_IMPORT_TIMEOUT_SECONDS" in response.json()["detail"]
    assert stored() == []


def test_a_workbook_that_unpacks_past_the_limit_is_refused_unread(api_client, settings):
    # A zip bomb in miniature: 20 MB of one repeated byte packs into ~20 KB.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * (20 * 1024 * 1024))
    settings.DATA_IMPORT_MAX_UNPACKED_BYTES = 16 * 1024 * 1024

    response = upload(api_client, "bomb.xlsx", buffer.getvalue())

    assert len(buffer.getvalue()) < 100_000
    assert response.status_code == 400
    assert "DATA_IMPORT_MAX_UNPACKED_BYTES" in response.json()["detail"]


def _with_member(content: bytes, name: str, payload: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(content)) as source, zipfile.ZipFile(out, "w") as target:
        for member in source.namelist():
            target.writestr(member, payload if member == name else source.read(member))
    return out.getvalue()


ENTITY_BOMB = (
    b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
    b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    b'<row r="1"><c r="A1" t="inlineStr"><is><t>&c;</t></is></c></row></sheetData></worksheet>'
)


@pytest.mark.parametrize("payload", [b"<worksheet><sheetData><row>", ENTITY_BOMB])
@pytest.mark.parametrize("member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml"])
def test_a_malformed_workbook_or_an_xml_entity_bomb_is_a_400(api_client, member, payload):
    content = _with_member(xlsx_bytes([["text", "label"], ["x", "y"]]), member, payload)

    response = upload(api_client, "c.xlsx", content)

    assert response.status_code == 400
    assert "not a valid .xlsx workbook" in response.json()["detail"]
    assert stored() == []


def test_the_unpacked_limit_counts_every_member(api_client, settings):
    content = xlsx_bytes([["text", "label"], ["x", "y"]])
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())

    settings.DATA_IMPORT_MAX_UNPACKED_BYTES = unpacked - 1
    refused = upload(api_client, "c.xlsx", content)
    settings.DATA_IMPORT_MAX_UNPACKED_BYTES = unpacked
    accepted = upload(api_client, "c.xlsx", content)

    assert refused.status_code == 400
    assert accepted.status_code == 201


# --- who may import: whoever may write data -------------------------------------------------


@pytest.mark.parametrize(
    ("client_name", "expected"),
    [("anonymous_client", 401), ("api_client", 201), ("staff_client", 201)],
)
def test_who_may_import(request, client_name, expected):
    client = request.getfixturevalue(client_name)

    response = upload(client, "c.csv", b"text,label\nx,y\n")

    assert response.status_code == expected
    assert len(stored()) == (1 if expected == 201 else 0)
