"""Settings shared by every environment; the only module that reads the environment.

local/test/production import everything from here and only fill in defaults or refuse to
start; see the table of variables in the repository's README.
"""

from pathlib import Path

import dj_database_url

from config.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parents[2]

# --- core ---------------------------------------------------------------------------------
# Empty here: local/test supply a development key, production refuses to start without one.
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

# nginx terminates client connections and forwards the original scheme and host.
USE_X_FORWARDED_HOST = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "accounts",
    "data",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
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
        "DIRS": [],
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
DATABASE_URL = env_str("DATABASE_URL", "postgres://textclf:textclf@db:5432/textclf")
DATABASES = {
    "default": {
        **dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True),
        # A database that is down must cost a request seconds (then a 503), not a hang.
        "OPTIONS": {"connect_timeout": 3, "application_name": "textclf-web"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

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

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: anything else is a 415, never a half-understood form post.
    "DEFAULT_PARSER_CLASSES": ["common.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "EXCEPTION_HANDLER": "common.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# --- input caps (shared with the ML service where the names match) ------------------------
TEXT_MAX_LENGTH = env_int("TEXT_MAX_LENGTH", 100_000)
DATA_BULK_MAX_ITEMS = env_int("DATA_BULK_MAX_ITEMS", 1000)
DATA_PAGE_SIZE = env_int("DATA_PAGE_SIZE", 50)
DATA_MAX_PAGE_SIZE = env_int("DATA_MAX_PAGE_SIZE", 1000)
PREDICT_BATCH_MAX = env_int("PREDICT_BATCH_MAX", 1000)

# --- ML service (algorithm) ---------------------------------------------------------------
ML_SERVICE_URL = env_str("ML_SERVICE_URL", "http://algorithm:8000")
ML_SERVICE_CONNECT_TIMEOUT = env_float("ML_SERVICE_CONNECT_TIMEOUT", 1.0)
ML_SERVICE_READ_TIMEOUT = env_float("ML_SERVICE_READ_TIMEOUT", 30.0)
# One pooled HTTP connection per gunicorn thread, so concurrent requests never queue for one.
ML_SERVICE_POOL_SIZE = env_int("GUNICORN_THREADS", 4)

# --- bootstrap admin (management command `ensure_admin`) -----------------------------------
ADMIN_USERNAME = env_str("ADMIN_USERNAME", "admin")
# Empty here like SECRET_KEY: local/test default it to "admin", production requires it.
ADMIN_PASSWORD = env_str("ADMIN_PASSWORD", "")
ADMIN_EMAIL = env_str("ADMIN_EMAIL", "admin@example.com")

# --- logging ------------------------------------------------------------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s [%(name)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
}
