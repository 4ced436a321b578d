from types import SimpleNamespace

from celery.utils.timer2 import Timer

from mlservice.worker.heartbeat import HeartbeatFile


def test_the_bootstep_beats_while_consuming_and_cleans_up_on_shutdown(app, settings):
    timer = Timer()
    consumer = SimpleNamespace(app=app.extensions["celery"], timer=timer)
    step = HeartbeatFile(consumer)
    try:
        step.start(consumer)
        assert settings.worker_heartbeat_file.exists()
        step.stop(consumer)  # connection lost: stop beating, keep the file to age out
        assert step.timer_entry is None
        assert settings.worker_heartbeat_file.exists()
        step.shutdown(consumer)
        assert not settings.worker_heartbeat_file.exists()
    finally:
        timer.stop()
