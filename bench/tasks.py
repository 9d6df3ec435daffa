"""The bare Celery round trip: a task that only answers through the broker's own Redis.

The bench's worker imports this module (`celery -A empower worker -I bench.tasks`).
"""

import redis
from celery import shared_task
from django.conf import settings

_redis: list = []


def reply_key(token: str) -> str:
    return f"empower-bench:pong:{token}"


@shared_task(name="bench.ping", ignore_result=True)
def ping(token: str) -> None:
    if not _redis:
        _redis.append(redis.Redis.from_url(settings.CELERY_BROKER_URL))
    _redis[0].rpush(reply_key(token), b"1")
    _redis[0].expire(reply_key(token), 300)
