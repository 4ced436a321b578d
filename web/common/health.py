"""What readiness depends on: the database answers a trivial query."""

import logging

from django.db import DatabaseError, connection

logger = logging.getLogger(__name__)


def database_status() -> str:
    """The string "ok", or a short reason for clients; the full error goes to the log only.

    Bounded by the connection's connect_timeout (3 s), so a dead database cannot hang the
    healthcheck.
    """
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("Readiness: database unavailable: %s", exc)
        # A broken persistent connection must not be reused by the next check.
        connection.close_if_unusable_or_obsolete()
        return "unavailable"
    return "ok"
