"""Development and the default docker compose stack: insecure defaults are acceptable here."""

from .base import *  # noqa: F403
from .base import ADMIN_PASSWORD, ALLOWED_HOSTS, ML_SERVICE_TOKEN, SECRET_KEY

SECRET_KEY = SECRET_KEY or "django-insecure-local-only-never-use-in-production"
ALLOWED_HOSTS = ALLOWED_HOSTS or ["*"]
ADMIN_PASSWORD = ADMIN_PASSWORD or "admin"
ML_SERVICE_TOKEN = ML_SERVICE_TOKEN or "dev-ml-service-token"
