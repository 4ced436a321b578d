"""gunicorn settings for the web service: the shared ones (textclf_ops.gunicorn_conf; GUNICORN_*,
LOG_* and FORWARDED_ALLOW_IPS from the environment), and the web service's own warm-up.

Run: gunicorn -c gunicorn.conf.py config.wsgi:application
"""

from textclf_ops import gunicorn_conf as _shared

# Underscored names are ours: gunicorn treats this module's public names as settings.
globals().update(_shared.settings(service="web"))
on_starting = _shared.on_starting
child_exit = _shared.child_exit
when_ready = _shared.when_ready


def _import_urlconf(worker) -> None:
    """The URLconf and its views, loaded before the first request instead of during it."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - the import is the point


post_worker_init = _shared.post_worker_init_with(_import_urlconf)
