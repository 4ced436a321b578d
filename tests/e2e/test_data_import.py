"""POST /api/data/import/ through nginx: CSV and XLSX files read by the image, row errors."""

from __future__ import annotations

import io
import uuid

import openpyxl

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _label() -> str:
    return f"e2e-import-{uuid.uuid4().hex[:8]}"


def _rows(api, label: str) -> list[tuple[str, str]]:
    body = api.get("/api/data/", params={"label": label, "page_size": 100}).json()
    return [(row["text"], row["label"]) for row in body["results"]]


def test_a_csv_with_a_bad_row_saves_nothing_then_partial_saves_the_rest(api):
    label = _label()
    content = (
        "\ufefftext,label\n"
        f'"Quoted, with a comma\nand a newline",{label}\n'
        f"   ,{label}\n"
        f"Plain text,{label}\n"
    ).encode()
    files = {"file": ("corpus.csv", content, "text/csv")}

    strict = api.post("/api/data/import/", files=files)
    assert strict.status_code == 400, strict.text
    assert strict.json()["errors"] == {"3": {"text": ["This field may not be blank."]}}
    assert _rows(api, label) == []

    partial = api.post("/api/data/import/", params={"partial": "true"}, files=files)
    assert partial.status_code == 201, partial.text
    assert (partial.json()["created"], partial.json()["rejected"]) == (2, 1)
    assert _rows(api, label) == [
        ("Quoted, with a comma\nand a newline", label),
        ("Plain text", label),
    ]


def test_an_xlsx_is_imported(api):
    label = _label()
    workbook = openpyxl.Workbook()
    workbook.active.append(["label", "text"])
    for index in range(3):
        workbook.active.append([label, f"Spreadsheet row {index}"])
    buffer = io.BytesIO()
    workbook.save(buffer)

    response = api.post(
        "/api/data/import/", files={"file": ("corpus.xlsx", buffer.getvalue(), XLSX)}
    )

    assert response.status_code == 201, response.text
    assert response.json()["created"] == 3
    assert _rows(api, label) == [(f"Spreadsheet row {i}", label) for i in range(3)]


def test_an_unsupported_file_is_a_415_and_no_token_a_401(api, anonymous):
    files = {"file": ("corpus.json", b'[{"text": "x", "label": "y"}]', "application/json")}

    assert api.post("/api/data/import/", files=files).status_code == 415
    assert anonymous.post("/api/data/import/", files=files).status_code == 401
