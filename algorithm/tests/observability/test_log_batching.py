import io
import logging
import os
import subprocess
import sys
import time

import pytest

from mlservice.observability.log_batching import PIPE_BUF, BatchingStreamHandler
from tests.conftest import ALGORITHM_DIR


class RecordingStream(io.StringIO):
    """A stream that keeps each write apart, to see how lines were batched."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("textclf.test", level, __file__, 1, message, None, None)


@pytest.fixture
def stream() -> RecordingStream:
    return RecordingStream()


@pytest.fixture
def handler(stream):
    # A long interval: only what the test does writes the lines.
    handler = BatchingStreamHandler(stream, interval=3600)
    yield handler
    handler.close()


def test_info_lines_wait_and_go_out_in_one_write(handler, stream):
    for n in range(3):
        handler.handle(record(f"line {n}"))

    assert stream.writes == []
    handler.flush()

    assert stream.writes == ["line 0\nline 1\nline 2\n"]


def test_a_warning_writes_itself_and_everything_before_it_at_once(handler, stream):
    handler.handle(record("routine"))
    handler.handle(record("trouble", logging.WARNING))

    assert stream.writes == ["routine\ntrouble\n"]


def test_no_write_exceeds_a_pipes_atomic_size_nor_splits_a_line(handler, stream):
    lines = [f"{n:04d} " + "x" * 395 for n in range(100)]  # 400 bytes each

    for line in lines:
        handler.handle(record(line))
    handler.flush()

    assert all(len(write.encode()) <= PIPE_BUF for write in stream.writes)
    assert all(write.endswith("\n") for write in stream.writes)
    assert "".join(stream.writes) == "".join(f"{line}\n" for line in lines)


def test_the_size_limit_counts_bytes_not_characters(stream):
    handler = BatchingStreamHandler(stream, interval=3600, capacity=100)
    for _ in range(2):
        handler.handle(record("é" * 30))  # 61 bytes with the newline, 31 characters

    assert stream.writes == ["é" * 30 + "\n"]  # the second line would have made 122 bytes
    handler.close()
    assert stream.writes[1] == "é" * 30 + "\n"


def test_a_line_longer_than_the_limit_is_written_whole(handler, stream):
    handler.handle(record("short"))
    handler.handle(record("y" * (2 * PIPE_BUF)))

    assert stream.writes == ["short\n", "y" * (2 * PIPE_BUF) + "\n"]


def test_pending_lines_are_written_within_the_interval(stream):
    handler = BatchingStreamHandler(stream, interval=0.05)
    handler.handle(record("eventually"))

    deadline = time.monotonic() + 5
    while not stream.writes and time.monotonic() < deadline:
        time.sleep(0.01)

    assert stream.writes == ["eventually\n"]
    handler.close()


def test_closing_writes_what_is_pending(handler, stream):
    handler.handle(record("last words"))

    handler.close()

    assert stream.writes == ["last words\n"]


def test_a_forked_child_does_not_repeat_its_parents_pending_lines():
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as shared_stdout:
        handler = BatchingStreamHandler(shared_stdout, interval=3600)
        handler.handle(record("parent, before the fork"))
        pid = os.fork()
        if pid == 0:  # the child: as a gunicorn worker forked by the master
            handler.handle(record("child"))
            handler.flush()
            os._exit(0)
        os.waitpid(pid, 0)
        handler.close()
    with os.fdopen(read_end) as output:
        lines = output.read().splitlines()

    assert sorted(lines) == ["child", "parent, before the fork"]


def test_lines_still_pending_at_exit_are_written():
    script = (
        "import logging, sys;"
        "from mlservice.observability.log_batching import BatchingStreamHandler;"
        "logging.getLogger().addHandler(BatchingStreamHandler(sys.stdout, interval=3600));"
        "logging.getLogger().setLevel('INFO');"
        "logging.getLogger('textclf').info('said just before exiting')"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ALGORITHM_DIR,
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout == "said just before exiting\n"


@pytest.mark.parametrize("interval", [0, -1])
def test_an_interval_that_would_make_the_flusher_spin_is_refused(stream, interval):
    with pytest.raises(ValueError, match="interval must be positive"):
        BatchingStreamHandler(stream, interval=interval)
