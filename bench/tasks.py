"""The bare tasks: a Celery round trip that only answers through the broker's own Redis, and the bare
counterpart of routing an escalation (claim a row, write it).

The bench's worker imports this module (`celery -A empower worker -I bench.tasks`).
"""

import redis
from celery import shared_task
from django.conf import settings
from django.db import connection, transaction

_redis: list = []


def reply_key(token: str) -> str:
    return f"empower-bench:pong:{token}"


@shared_task(name="bench.ping", ignore_result=True)
def ping(token: str) -> None:
    if not _redis:
        _redis.append(redis.Redis.from_url(settings.CELERY_BROKER_URL))
    _redis[0].rpush(reply_key(token), b"1")
    _redis[0].expire(reply_key(token), 300)


@shared_task(name="bench.assign", ignore_result=True)
def assign(job_id: int) -> None:
    """Claim a bare job still routing and mark it assigned: one conditional UPDATE, as routing claims."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE bench_job SET status = 'assigned', assigned_at = now() WHERE id = %s AND status = 'routing'",
            [job_id],
        )
