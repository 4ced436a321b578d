"""Settings shared by every environment; the only module that reads the environment.

local/test/production import everything from here and only fill in defaults or refuse to
start; see the table of variables in the repository's README.
"""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry
from sentry_sdk.integrations.django import DjangoIntegration
from textclf_ops.logs import logging_config
from textclf_ops.secrets import SettingError
from textclf_ops.sentry import sentry_init
from textclf_ops.settings import GunicornSettings

from config.env import (
    env_bool,
    env_float,
    env_fraction,
    env_int,
    env_list,
    env_rate,
    env_secret,
    env_str,
)
from observability import SERVICE

BASE_DIR = Path(__file__).resolve().parents[2]
# The settings gunicorn.conf.py reads too (GUNICORN_*, LOG_*), read the same way.
try:
    _GUNICORN = GunicornSettings.from_env()
except SettingError as exc:
    raise ImproperlyConfigured(str(exc)) from None

# --- core ---------------------------------------------------------------------------------
# Secrets may also come from files: NAME_FILE=/run/secrets/... (see config.env.env_secret).
# Empty here: local/test supply a development key, production refuses to start without one.
SECRET_KEY = env_secret("DJANGO_SECRET_KEY")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# nginx terminates client connections and forwards the original scheme and host.
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- transport security -------------------------------------------------------------------
# None (unset) means "this environment's default": production.py turns each one on, local and
# test leave it off (Django treats None as off).
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", None)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", None, minimum=0)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", None)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# Container healthchecks and Prometheus call plain http://<container>:8000 from inside.
SECURE_REDIRECT_EXEMPT = [r"^api/health/", r"^metrics$"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # Only for the migration that moves its tokens into accounts.ApiToken (hashed).
    "rest_framework.authtoken",
    "knox",  # its token model is swapped for accounts.ApiToken (KNOX_TOKEN_MODEL)
    "django_filters",
    "drf_spectacular",
    # Swagger UI and Redoc's files, served by whitenoise: the docs pages need no CDN.
    "drf_spectacular_sidecar",
    "accounts",
    "data",
]

MIDDLEWARE = [
    "observability.middleware.RequestIdMiddleware",
    "observability.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # On every answer of a throttled view, 429s included; the throttles run inside the view.
    "common.throttling.RateLimitHeadersMiddleware",
    # Before anything reads the body: an oversized Content-Length is a 413 at once.
    "common.request_limits.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
# The browsable API's session login (/api/auth/login/) lands on the data list.
LOGIN_REDIRECT_URL = "/api/data/"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -----------------------------------------------------------------------------
# Empty here: the development URL below serves local/test, production requires it.
DATABASE_URL = env_secret("DATABASE_URL")
# Optional: replaces the password in DATABASE_URL, so it can come from a secret file
# (DATABASE_PASSWORD_FILE) shared with the db container's POSTGRES_PASSWORD_FILE.
DATABASE_PASSWORD = env_secret("DATABASE_PASSWORD")
DATABASE_STATEMENT_TIMEOUT_MS = env_int("DATABASE_STATEMENT_TIMEOUT_MS", 5000, minimum=0)
# A bulk insert's COPY keeps the trigram index up to date for up to REQUEST_MAX_BODY_BYTES of
# text (seconds, not milliseconds): it gets its own bound, under nginx's 60 s read timeout.
DATA_BULK_STATEMENT_TIMEOUT_MS = env_int("DATA_BULK_STATEMENT_TIMEOUT_MS", 50_000, minimum=0)
# Bulk inserts leave their rows out of the trigram index and a thread of the web process
# indexes them behind the import (data.search_index); false: indexed inside the insert.
DATA_SEARCH_INDEX_IN_BACKGROUND = env_bool("DATA_SEARCH_INDEX_IN_BACKGROUND", True)
# How often that thread looks for a backlog it was not told about (a process that died).
DATA_SEARCH_INDEX_POLL_SECONDS = env_int("DATA_SEARCH_INDEX_POLL_SECONDS", 60, minimum=1)
DATABASES = {
    "default": {
        **dj_database_url.parse(
            DATABASE_URL or "postgres://textclf:textclf@db:5432/textclf",
            conn_max_age=60,
            conn_health_checks=True,
        ),
        **({"PASSWORD": DATABASE_PASSWORD} if DATABASE_PASSWORD else {}),
        "OPTIONS": {
            # A database that is down must cost a request seconds (then a 503), not a hang.
            "connect_timeout": 3,
            "application_name": "textclf-web",
            # No statement holds a connection (and a gunicorn thread) longer than this; the
            # API answers 503 (common.errors). 0 turns it off, as web_migrate does.
            "options": f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT_MS}",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The role web serves requests as: `ensure_db_role` (run by web_migrate with the owner's
# DATABASE_URL) creates it with DML on web's tables only, so it can neither alter nor drop them.
WEB_DATABASE_USER = env_str("WEB_DATABASE_USER", "textclf_web")
WEB_DATABASE_PASSWORD = env_secret("WEB_DATABASE_PASSWORD")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- static files (collected at image build time, served by whitenoise) -------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- cache (throttling counters) ------------------------------------------------------------
# A secret: in production its URL carries Redis's password (CACHE_URL_FILE in Swarm).
CACHE_URL = env_secret("CACHE_URL", "redis://redis:6379/1")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "KEY_PREFIX": "textclf-web",
        # Short timeouts and no retries: a Redis outage must cost a request milliseconds
        # (the throttle then fails open), never seconds.
        "OPTIONS": {
            "socket_connect_timeout": 0.5,
            "socket_timeout": 0.5,
            "retry": Retry(NoBackoff(), retries=0),
        },
    }
}

# --- authentication ------------------------------------------------------------------------
# How long a web process trusts a token it verified without looking it up again
# (accounts.authentication): a deleted token or deactivated user works this much longer at most.
TOKEN_CACHE_SECONDS = env_int("TOKEN_CACHE_SECONDS", 5, minimum=0)
# How long a token verified by this process keeps working while Postgres is unreachable
# (accounts.authentication); 0 turns that off.
TOKEN_OUTAGE_GRACE_SECONDS = env_int("TOKEN_OUTAGE_GRACE_SECONDS", 300, minimum=0)
# Tokens are django-rest-knox tokens in our own model (a name, an optional expiry); only a
# SHA-512 digest is stored.
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 - a model name
# knox's own migrations would create its unused AuthToken table anyway.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"AUTH_HEADER_PREFIX": "Token", "TOKEN_TTL": None, "AUTO_REFRESH": False}
# Lifetime of the token POST /api/auth/token/ issues (named "login"); 0: no expiry.
LOGIN_TOKEN_EXPIRES_SECONDS = env_int("LOGIN_TOKEN_EXPIRES_SECONDS", 30 * 24 * 3600, minimum=0)
# Password guessing: attempts at /api/auth/token/ and /admin/login/, counted in Redis before
# the password is checked, per client address and per username tried (429 beyond).
LOGIN_THROTTLE_CLIENT = env_rate("LOGIN_THROTTLE_CLIENT", "10/min")
LOGIN_THROTTLE_USERNAME = env_rate("LOGIN_THROTTLE_USERNAME", "5/min")

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.OutageTolerantTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: anything else is a 415, never a half-understood form post.
    "DEFAULT_PARSER_CLASSES": ["common.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "common.negotiation.JSONFallbackNegotiation",
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per token, on top of nginx's per-client limit; fails open when Redis is down.
    "DEFAULT_THROTTLE_CLASSES": [
        "common.throttling.UserRateThrottle",
        "common.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_rate("DRF_THROTTLE_USER", "6000/min"),
        "anon": env_rate("DRF_THROTTLE_ANON", "600/min"),
        "login_client": LOGIN_THROTTLE_CLIENT,
        "login_username": LOGIN_THROTTLE_USERNAME,
    },
    # The client address is the last X-Forwarded-For entry, the one nginx (the only way in)
    # writes from the connection; whatever a client put before it is ignored.
    "NUM_PROXIES": 1,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# OpenAPI 3 at /api/schema/, generated from the views' annotations, with Swagger UI at
# /api/docs/ and Redoc at /api/redoc/. All three are public: they describe the API, hold no
# data, and a consumer without a token yet must be able to read them; every operation they
# list still needs its token.
SPECTACULAR_SETTINGS = {
    "TITLE": "textclf API",
    "DESCRIPTION": "Labelled texts, training and prediction.\n\n"
    "**Authentication**: every operation but the health checks and `POST /api/auth/token/` "
    "needs the header `Authorization: Token <key>`. Get a key from `POST /api/auth/token/` "
    "(username and password) or from an operator, then press **Authorize** and enter "
    "`Token <key>` (the word `Token`, a space, then the key) in the `tokenAuth` field.",
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": "/api/",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {"ModelStageEnum": "gateway.serializers.MODEL_STAGES"},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No call to the public validator service (swagger.io) from the page.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# --- input caps (shared with the ML service where the names match) ------------------------
# Largest request body read (Django's DATA_UPLOAD_MAX_MEMORY_SIZE; larger -> 413). Matches
# nginx's client_max_body_size default (16m): a bulk insert of 1,000 long texts fits.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("REQUEST_MAX_BODY_BYTES", 16 * 1024 * 1024)
# Body limit of the login routes (/api/auth/, /admin/login/; common.request_limits).
AUTH_MAX_BODY_BYTES = env_int("AUTH_MAX_BODY_BYTES", 4096, minimum=1)
TEXT_MAX_LENGTH = env_int("TEXT_MAX_LENGTH", 100_000)
DATA_BULK_MAX_ITEMS = env_int("DATA_BULK_MAX_ITEMS", 1000)
DATA_PAGE_SIZE = env_int("DATA_PAGE_SIZE", 50)
DATA_MAX_PAGE_SIZE = env_int("DATA_MAX_PAGE_SIZE", 1000)
# A search in page mode counts its matches up to here (data.pagination says why).
DATA_SEARCH_COUNT_CAP = env_int("DATA_SEARCH_COUNT_CAP", 1000, minimum=1)
# A list page stops early once its texts add up to this many bytes (data.pagination).
DATA_MAX_RESPONSE_BYTES = env_int("DATA_MAX_RESPONSE_BYTES", 8 * 1024 * 1024, minimum=1)
# POST /api/data/import/: rows per file, and what an .xlsx may unpack to (its XML is parsed
# and its shared strings held in memory, so the packed size alone bounds nothing).
DATA_IMPORT_MAX_ROWS = env_int("DATA_IMPORT_MAX_ROWS", 50_000)
DATA_IMPORT_MAX_UNPACKED_BYTES = env_int("DATA_IMPORT_MAX_UNPACKED_BYTES", 64 * 1024 * 1024)
# An import reads, validates and saves in the request; past this many seconds its insert is
# cancelled and nothing is saved (413). Below nginx's 60 s proxy_read_timeout, so the client
# never gets a 503 for an import that is still running and may yet commit.
DATA_IMPORT_TIMEOUT_SECONDS = env_float("DATA_IMPORT_TIMEOUT_SECONDS", 45.0)
PREDICT_BATCH_MAX = env_int("PREDICT_BATCH_MAX", 1000)
# JSON bodies are refused before parsing when deeper or wider than any legitimate request:
# a bulk insert is 3 values per item (an object, a comma, a comma), a predict batch 1 per text.
REQUEST_JSON_MAX_DEPTH = env_int("REQUEST_JSON_MAX_DEPTH", 32, minimum=1)
REQUEST_JSON_MAX_VALUES = env_int(
    "REQUEST_JSON_MAX_VALUES", 4 * max(DATA_BULK_MAX_ITEMS, PREDICT_BATCH_MAX) + 64, minimum=1
)

# --- ML service (algorithm) ---------------------------------------------------------------
ML_SERVICE_URL = env_str("ML_SERVICE_URL", "http://algorithm:8000")
ML_SERVICE_CONNECT_TIMEOUT = env_float("ML_SERVICE_CONNECT_TIMEOUT", 1.0)
ML_SERVICE_READ_TIMEOUT = env_float("ML_SERVICE_READ_TIMEOUT", 30.0)
# Sent as X-Service-Token on every call; the ML API refuses internal calls without it.
# Empty here: local/test supply a development token, production requires it.
ML_SERVICE_TOKEN = env_secret("ML_SERVICE_TOKEN")
# One pooled HTTP connection per gunicorn thread, so concurrent requests never queue for one.
ML_SERVICE_POOL_SIZE = _GUNICORN.gunicorn_threads

# --- bootstrap admin (management command `ensure_admin`) -----------------------------------
ADMIN_USERNAME = env_str("ADMIN_USERNAME", "admin")
# Empty here like SECRET_KEY: local/test default it to "admin", production requires it.
ADMIN_PASSWORD = env_secret("ADMIN_PASSWORD")
ADMIN_EMAIL = env_str("ADMIN_EMAIL", "admin@example.com")
# production.py turns it on: ensure_admin then validates ADMIN_PASSWORD and keeps it in force.
ENFORCE_STRONG_SECRETS = False

# --- logging, errors ----------------------------------------------------------------------
# LOG_LEVEL, LOG_FORMAT and LOG_FLUSH_SECONDS, read as gunicorn.conf.py reads them.
LOG_LEVEL = _GUNICORN.log_level
# json: one object per line (containers); console: readable lines for local development.
LOG_FORMAT = _GUNICORN.log_format
LOGGING_CONFIG = "textclf_ops.logs.configure_from_dict"
# Log lines are written in batches, at most this late; warnings and errors at once.
LOG_FLUSH_SECONDS = _GUNICORN.log_flush_seconds
LOGGING = logging_config(
    service=SERVICE, level=LOG_LEVEL, fmt=LOG_FORMAT, flush_seconds=LOG_FLUSH_SECONDS
)

# Sentry is off unless SENTRY_DSN is set; events never carry PII (see textclf_ops.sentry).
SENTRY_DSN = env_secret("SENTRY_DSN")
SENTRY_ENVIRONMENT = env_str("SENTRY_ENVIRONMENT", "development")
SENTRY_RELEASE = env_str("SENTRY_RELEASE", f"textclf@{env_str('IMAGE_TAG', 'dev')}")
SENTRY_TRACES_SAMPLE_RATE = env_fraction("SENTRY_TRACES_SAMPLE_RATE", 0.0)
sentry_init(
    service=SERVICE,
    dsn=SENTRY_DSN,
    environment=SENTRY_ENVIRONMENT,
    release=SENTRY_RELEASE,
    traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    integrations=[DjangoIntegration()],
)
