"""gunicorn settings for the ML API: `gunicorn -c gunicorn.conf.py "mlservice:create_app()"`.

The shared settings and hooks (textclf_ops.gunicorn_conf; GUNICORN_*, LOG_* and
FORWARDED_ALLOW_IPS from the environment), and the ML API's own warm-up: the current model.
"""

from textclf_ops import gunicorn_conf as _shared
from textclf_ops import multiproc as _multiproc

from mlservice.config import Settings as _Settings

# Underscored names are ours: gunicorn treats this module's public names as settings.
# Every setting is checked in the master, before any worker forks.
_settings = _Settings.from_env()
# The hooks find the metrics directory in the environment, as the workers do.
_multiproc.prepare(_settings.prometheus_multiproc_dir)

globals().update(_shared.settings(service="algorithm"))
on_starting = _shared.on_starting
child_exit = _shared.child_exit


def _load_current_model(worker) -> None:
    """The current model, loaded before the first request instead of during it. It stays out
    of the collector's full passes until a newer model replaces it (reference counting frees
    the old one)."""
    worker.wsgi.extensions["model_store"].current()


post_worker_init = _shared.post_worker_init_with(_load_current_model)
when_ready = _shared.when_ready
