"""The ML service: a Flask API that queues training and serves predictions.

`create_app` follows the Flask tutorial's factory: settings from the environment (or the given
Settings), blueprints, JSON error handlers, the database CLI and the Celery app.
"""

from __future__ import annotations

import logging

from flask import Flask

from mlservice.config import Settings


def create_app(config: Settings | None = None) -> Flask:
    settings = config or Settings.from_env()
    _configure_logging(settings.log_level)

    app = Flask(__name__, static_folder=None)  # an API: no static files
    app.config.update(SETTINGS=settings, MAX_CONTENT_LENGTH=settings.max_request_bytes)
    app.json.sort_keys = False  # keep bodies in the documented field order

    from mlservice import db
    from mlservice.api import errors, health, models, prediction, training
    from mlservice.celery_app import celery_init_app
    from mlservice.model_store import ModelStore

    db.init_app(app)
    errors.register_error_handlers(app)
    for blueprint in (health.bp, training.bp, prediction.bp, models.bp):
        app.register_blueprint(blueprint)
    app.extensions["model_store"] = ModelStore(settings.models_dir)
    celery_init_app(app)
    return app


def _configure_logging(level: str) -> None:
    root = logging.getLogger()
    if not root.handlers:  # gunicorn and celery install their own; plain runs get one here
        logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("mlservice").setLevel(level)
