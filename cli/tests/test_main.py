import io
import json

import httpx
import pytest

from textclf_cli import main
from textclf_cli.client import Client


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


@pytest.fixture
def use(monkeypatch):
    def install(handler):
        client = Client("http://textclf.test", "t", transport=httpx.MockTransport(handler))
        monkeypatch.setattr(main, "_client", lambda args: client)

    return install


def test_import_summary_names_the_rejected_line_and_exits_5(tmp_path, use, server, capsys):
    use(server.handle)
    path = tmp_path / "rows.csv"
    path.write_text("text,label\ngood one,a\nbad one,\ngood two,b\n", encoding="utf-8")

    assert main.main(["import", str(path)]) == 5

    printed = capsys.readouterr().out
    assert "Added 2 rows, rejected 1 (from 3 rows in rows.csv)." in printed
    assert "│ 3    │ label: This field may not be blank. │" in printed
    assert [row["text"] for row in server.rows] == ["good one", "good two"]


def test_an_api_error_during_import_says_how_to_resume(tmp_path, use, capsys):
    use(lambda request: httpx.Response(503, json={"detail": "The database is unavailable."}))
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "t", "label": "l"}\n', encoding="utf-8")

    assert main.main(["import", str(path)]) == 1

    error = capsys.readouterr().err.splitlines()[-1]  # after the progress bar's last state
    assert error.startswith("textclf: error: Service unavailable: The database is unavailable.")
    assert f"textclf import {path} --resume" in error


def test_predict_reads_one_text_per_line_from_stdin(use, monkeypatch, capsys):
    sent = []

    def handle(request):
        texts = json.loads(request.content)["texts"]
        sent.append(texts)
        predictions = [{"label": "games", "probabilities": {"games": 0.9, "libs": 0.1}}] * len(
            texts
        )
        return httpx.Response(200, json={"predictions": predictions, "model_version": "v1"})

    use(handle)
    monkeypatch.setattr("sys.stdin", io.StringIO("first text\n\nsecond text\n"))

    assert main.main(["predict", "-", "--json"]) == 0

    assert sent == [["first text", "second text"]]
    body = json.loads(capsys.readouterr().out)
    assert body["model_version"] == "v1"
    assert [item["text"] for item in body["predictions"]] == ["first text", "second text"]


def test_not_logged_in(capsys):
    assert main.main(["models"]) == 4
    assert "textclf login" in capsys.readouterr().err


def test_an_unknown_file_format_is_a_usage_error(tmp_path, capsys):
    path = tmp_path / "rows.txt"
    path.write_text("x", encoding="utf-8")
    assert main.main(["import", str(path)]) == 2
    assert "--format" in capsys.readouterr().err
