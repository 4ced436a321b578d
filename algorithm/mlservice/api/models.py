from flask import Blueprint, current_app

from mlservice import artifacts

bp = Blueprint("models", __name__)

_LISTED_FIELDS = ("version", "created_at", "n_samples", "labels", "metrics", "parameters")


@bp.get("/models")
def list_models():
    models_dir = current_app.config["SETTINGS"].models_dir
    current = artifacts.current_version(models_dir)
    results = [
        {
            **{name: metadata.get(name) for name in _LISTED_FIELDS},
            "excluded_labels": metadata.get("excluded_labels", {}),
            "current": metadata.get("version") == current,
        }
        for metadata in artifacts.list_versions(models_dir)
    ]
    return {"current": current, "results": results}
