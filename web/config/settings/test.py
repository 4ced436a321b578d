"""pytest settings: the host's Postgres (DATABASE_URL), a fake ML service URL, fast hashing."""

from .base import *  # noqa: F403

SECRET_KEY = "test-only-secret-key"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
ADMIN_PASSWORD = "admin"  # noqa: S105

# Never reached over the network: tests intercept it at the HTTP boundary (`responses`).
ML_SERVICE_URL = "http://ml-service.test"
ML_SERVICE_TOKEN = "test-ml-service-token"  # noqa: S105

# collectstatic does not run before the tests; the manifest storage would refuse to render.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Per-test isolation; the throttling tests switch to the host's Redis themselves.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Every request looks its token up, as most tests expect; tests of the cache turn it on.
TOKEN_CACHE_SECONDS = 0
# No indexing thread racing the test database's teardown: bulk inserts index their rows
# inline; data.search_index's own tests turn it on.
DATA_SEARCH_INDEX_IN_BACKGROUND = False
