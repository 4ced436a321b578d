"""Production: the same settings as local, minus every insecure default.

Refuses to start without its secrets (DJANGO_SECRET_KEY, DATABASE_URL, ADMIN_PASSWORD,
ML_SERVICE_TOKEN, CACHE_URL's Redis password; each may come from a NAME_FILE) and
DJANGO_ALLOWED_HOSTS, so a misconfigured
deployment fails at boot instead of running with a guessable key. A secret that is a development
value (textclf_ops.secrets.DEVELOPMENT_SECRETS) or too short is refused the same way, naming the
setting.
With its defaults, `manage.py check --deploy` reports no issues.
"""

from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from textclf_ops.secrets import weak_secret

from config.env import refuse_weak, require

from .base import *  # noqa: F403
from .base import (
    ADMIN_PASSWORD,
    ALLOWED_HOSTS,
    AUTH_PASSWORD_VALIDATORS,
    CACHE_URL,
    DATABASE_PASSWORD,
    DATABASE_URL,
    ML_SERVICE_TOKEN,
    SECRET_KEY,
    SECURE_HSTS_SECONDS,
    SECURE_SSL_REDIRECT,
    SESSION_COOKIE_SECURE,
    WEB_DATABASE_PASSWORD,
)

require(SECRET_KEY, "DJANGO_SECRET_KEY")
require(ALLOWED_HOSTS, "DJANGO_ALLOWED_HOSTS")
require(DATABASE_URL, "DATABASE_URL")
require(ADMIN_PASSWORD, "ADMIN_PASSWORD")
require(ML_SERVICE_TOKEN, "ML_SERVICE_TOKEN")
if not AUTH_PASSWORD_VALIDATORS:
    raise ImproperlyConfigured("AUTH_PASSWORD_VALIDATORS must not be empty in production.")

refuse_weak(
    [
        # Django's own deploy check (security.W009) wants 50 characters.
        weak_secret("DJANGO_SECRET_KEY", SECRET_KEY, min_length=50),
        weak_secret("ML_SERVICE_TOKEN", ML_SERVICE_TOKEN),
        weak_secret(
            "DATABASE_URL's password (or DATABASE_PASSWORD)",
            DATABASE_PASSWORD or dj_database_url.parse(DATABASE_URL)["PASSWORD"],
        ),
        weak_secret("CACHE_URL's password", urlsplit(CACHE_URL).password),
        # Set only where web_migrate creates the role; web itself logs in with DATABASE_URL.
        WEB_DATABASE_PASSWORD and weak_secret("WEB_DATABASE_PASSWORD", WEB_DATABASE_PASSWORD),
        # Humans type this one: Django's password validators judge it (ensure_admin) and it
        # must at least not be a published value.
        weak_secret("ADMIN_PASSWORD", ADMIN_PASSWORD, min_length=1),
    ]
)
ENFORCE_STRONG_SECRETS = True

DEBUG = False
# The container's own healthcheck calls http://127.0.0.1:8000/api/health/ready.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1"]

# HTTPS only, unless the environment explicitly says otherwise (e.g. a plain-HTTP test run).
SECURE_SSL_REDIRECT = True if SECURE_SSL_REDIRECT is None else SECURE_SSL_REDIRECT
SECURE_HSTS_SECONDS = 31_536_000 if SECURE_HSTS_SECONDS is None else SECURE_HSTS_SECONDS
# One public hostname: its subdomains are ours too. Preload only makes the host eligible;
# joining the browsers' list is a separate, manual submission.
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True if SESSION_COOKIE_SECURE is None else SESSION_COOKIE_SECURE
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
