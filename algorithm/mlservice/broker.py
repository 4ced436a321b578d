"""Direct, bounded Redis access for what Celery does not offer cheaply: a readiness ping and
queue lengths. Celery still does all the messaging.

The client never retries and times out quickly, so a dead Redis costs a health check or a
scrape about a second, never a hang.
"""

from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

# kombu's Redis transport keeps messages with a priority in sibling lists named
# "<queue>\x06\x16<priority>"; the queue's length is the sum over all of them.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


def client(url: str, *, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=0,
    )


def problem(redis_client: redis.Redis) -> str | None:
    """None when Redis answers PING, else why it does not."""
    try:
        redis_client.ping()
    except (redis.RedisError, OSError) as exc:
        return f"unreachable ({type(exc).__name__}: {exc})"
    return None


def queue_lengths(redis_client: redis.Redis, queues: tuple[str, ...]) -> dict[str, int]:
    """Messages waiting in each queue (not counting those a worker has reserved)."""
    with redis_client.pipeline(transaction=False) as pipe:
        for queue in queues:
            pipe.llen(queue)
            for priority in _PRIORITY_STEPS:
                pipe.llen(f"{queue}{_PRIORITY_SEPARATOR}{priority}")
        counts = pipe.execute()
    per_queue = len(_PRIORITY_STEPS) + 1
    return {
        queue: sum(counts[i * per_queue : (i + 1) * per_queue]) for i, queue in enumerate(queues)
    }
