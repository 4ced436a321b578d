import os
import threading

from textclf_ops.process_thread import ProcessThread


def _recording_thread():
    started = threading.Event()
    resets = []
    thread = ProcessThread(started.set, name="test-thread", before_start=lambda: resets.append(1))
    return thread, started, resets


def test_the_thread_starts_once_per_process():
    thread, started, resets = _recording_thread()
    assert not thread.running_here

    assert thread.ensure_started() is True
    assert thread.ensure_started() is False

    assert started.wait(5)
    assert thread.running_here
    assert resets == [1]


def test_a_forked_child_starts_its_own_thread():
    thread, started, resets = _recording_thread()
    thread.ensure_started()
    assert started.wait(5)
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child: the parent's thread did not survive the fork
        started.clear()
        ok = not thread.running_here and thread.ensure_started() and started.wait(5)
        os.write(write_end, b"1" if ok and len(resets) == 2 else b"0")
        os._exit(0)
    os.close(write_end)
    os.waitpid(child, 0)

    assert os.read(read_end, 1) == b"1"
    assert thread.running_here  # the parent's is untouched
    assert resets == [1]
