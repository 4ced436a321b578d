import httpx
import pytest

from textclf_cli import main
from textclf_cli.client import Client

JOB = "0f1e2d3c-aaaa-bbbb-cccc-000000000000"


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        ({"status": "queued"}, ("job 0f1e2d3c queued", None, 0, "")),
        ({"status": "running", "progress": None}, ("job 0f1e2d3c running", None, 0, "")),
        (
            {"status": "running", "progress": {"phase": "fitting", "done": None, "total": None}},
            ("job 0f1e2d3c running: fitting", None, 0, ""),
        ),
        (
            {
                "status": "running",
                "progress": {"phase": "reading rows", "done": 1500, "total": 3000},
            },
            ("job 0f1e2d3c running: reading rows", 3000, 1500, "1,500/3,000"),
        ),
        (
            {"status": "succeeded", "progress": {"phase": "publishing", "done": 1, "total": 1}},
            ("job 0f1e2d3c succeeded", 1, 1, ""),
        ),
    ],
)
def test_the_display_uses_progress_only_when_reported(job, expected):
    assert main.job_display(JOB, job) == expected


def test_follow_polls_until_the_job_ends():
    states = iter(
        [
            {"job_id": JOB, "status": "queued"},
            {"job_id": JOB, "status": "running", "progress": {"phase": "fitting"}},
            {"job_id": JOB, "status": "succeeded", "metrics": {"accuracy": 0.7}},
        ]
    )
    seen = []

    def handle(request):
        seen.append(request.url.path)
        return httpx.Response(200, json=next(states))

    client = Client("http://t", "tok", transport=httpx.MockTransport(handle))
    job = main.follow_job(client, JOB, poll=0)
    assert job["status"] == "succeeded"
    assert seen == [f"/api/train/{JOB}/"] * 3


def test_a_failed_job_exits_non_zero(capsys):
    assert main._report_job({"status": "failed", "error": "Training needs at least 20 rows"}) == 1
    assert "Training needs at least 20 rows" in capsys.readouterr().err
