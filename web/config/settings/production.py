"""Production: the same settings as local, minus every insecure default.

Refuses to start without DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and ADMIN_PASSWORD, so a
misconfigured deployment fails at boot instead of running with a guessable key.
"""

from config.env import require

from .base import *  # noqa: F403
from .base import ADMIN_PASSWORD, ALLOWED_HOSTS, SECRET_KEY

require(SECRET_KEY, "DJANGO_SECRET_KEY")
require(ALLOWED_HOSTS, "DJANGO_ALLOWED_HOSTS")
require(ADMIN_PASSWORD, "ADMIN_PASSWORD")

DEBUG = False
# The container's own healthcheck calls http://127.0.0.1:8000/api/health/.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "127.0.0.1"]
