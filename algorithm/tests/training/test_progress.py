"""The progress reporter: what reaches the job row and Flower, and when (writes captured at the
boundary the reporter is given; test_training checks the real job row)."""

from datetime import datetime

import psycopg
import pytest
from celery.exceptions import SoftTimeLimitExceeded

from mlservice.training import progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


def _reporter(clock, *, accept=True):
    written, announced = [], []

    def write(p):
        written.append(p)
        return accept

    return progress.Reporter(write, announce=announced.append, clock=clock), written, announced


def _counts(written):
    return [(p["phase"], p["done"], p["total"]) for p in written]


def test_a_fast_loop_writes_at_most_once_per_interval(clock):
    report, written, _ = _reporter(clock)
    for done in range(0, 1000, 100):
        report("reading_rows", done, 1000)
        clock.now += 0.25
    # Written at 0 s (phase start), then at 1.0 s and 2.0 s of the 2.5 s loop.
    assert _counts(written) == [
        ("reading_rows", 0, 1000),
        ("reading_rows", 400, 1000),
        ("reading_rows", 800, 1000),
    ]


def test_a_phase_change_is_written_at_once(clock):
    report, written, _ = _reporter(clock)
    report("reading_rows", 0, 10)
    report("reading_rows", 10, 10)  # same phase, too soon: skipped
    report("fitting", 0, 2)
    report("evaluating")
    report("fitting", 1, 2)
    report("publishing")
    assert _counts(written) == [
        ("reading_rows", 0, 10),
        ("fitting", 0, 2),
        ("evaluating", None, None),
        ("fitting", 1, 2),
        ("publishing", None, None),
    ]


def test_each_write_has_the_documented_shape_and_is_announced(clock):
    report, written, announced = _reporter(clock)
    report("fitting", 0, 2)
    [p] = written
    assert set(p) == {"phase", "done", "total", "updated_at"}
    assert p["updated_at"].endswith("Z")
    assert datetime.fromisoformat(p["updated_at"]).utcoffset().total_seconds() == 0
    assert announced == written


def test_once_the_job_is_not_this_runs_nothing_more_is_written_or_announced(clock):
    report, written, announced = _reporter(clock, accept=False)
    report("reading_rows", 0, 10)
    report("fitting", 0, 2)
    report("publishing")
    assert len(written) == 1
    assert announced == []


def test_a_failed_write_is_skipped_and_the_next_phase_still_written(clock):
    calls = []

    def write(p):
        calls.append(p["phase"])
        if len(calls) == 1:
            raise psycopg.OperationalError("database restarting")
        return True

    announced = []
    report = progress.Reporter(write, announce=announced.append, clock=clock)
    report("reading_rows", 0, 10)
    report("fitting", 0, 2)
    assert calls == ["reading_rows", "fitting"]
    assert [p["phase"] for p in announced] == ["fitting"]


def test_a_failed_announcement_does_not_stop_the_training(clock):
    def announce(p):
        raise OSError("broker gone")

    written = []
    report = progress.Reporter(lambda p: written.append(p) or True, announce=announce, clock=clock)
    report("fitting", 0, 2)
    report("publishing")
    assert [p["phase"] for p in written] == ["fitting", "publishing"]


def test_the_soft_time_limit_is_not_swallowed_by_an_announcement(clock):
    def announce(p):
        raise SoftTimeLimitExceeded()

    report = progress.Reporter(lambda p: True, announce=announce, clock=clock)
    with pytest.raises(SoftTimeLimitExceeded):
        report("fitting", 0, 2)


def test_an_unknown_phase_is_a_bug(clock):
    report, _, _ = _reporter(clock)
    with pytest.raises(ValueError, match="Unknown training phase"):
        report("dreaming")


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        ({"phase": "reading_rows", "done": 5000, "total": 63000}, "reading_rows 5000/63000"),
        ({"phase": "evaluating", "done": None, "total": None}, "evaluating"),
    ],
)
def test_the_summary_shown_in_flower(p, expected):
    assert progress.summary(p) == expected
