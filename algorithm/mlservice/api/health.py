from flask import Blueprint, current_app

from mlservice import artifacts

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """Liveness: answers without touching the database, the broker or the model files."""
    version = artifacts.current_version(current_app.config["SETTINGS"].models_dir)
    return {"status": "ok", "model_version": version}
