"""`/healthz/` for load balancers and operators: the database, the broker, and the routing backlog."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from kombu import Connection

from delegation.selectors import routing_backlog


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        return "down"


def _broker() -> str:
    # One attempt with the broker's own short timeouts: a retry would wait seconds between tries,
    # and a load balancer's health check must get its answer quickly.
    try:
        with Connection(
            settings.CELERY_BROKER_URL,
            connect_timeout=settings.CELERY_BROKER_CONNECTION_TIMEOUT,
            transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        ) as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
        return "ok"
    except Exception:
        return "down"


def _is_monitoring(request) -> bool:
    """A monitoring client: it sends `Authorization: Bearer <HEALTHZ_TOKEN>` or connects from an
    address in HEALTHZ_ALLOWED_IPS (the connection's own address, never a header it could choose)."""
    token = settings.HEALTHZ_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and sent.startswith("Bearer ") and constant_time_compare(sent.removeprefix("Bearer "), token):
        return True
    return request.META.get("REMOTE_ADDR") in settings.HEALTHZ_ALLOWED_IPS


@never_cache
def healthz(request):
    """200 when the database and the broker answer, 503 when either is down.

    Monitoring clients (`_is_monitoring`) also get the age of the oldest unrouted escalation and the
    worker's last heartbeat; everyone else the bare up/down. Exempt from the https redirect.
    """
    report = {"database": _database(), "broker": _broker()}
    status = 200 if all(v == "ok" for v in report.values()) else 503
    if report["database"] == "ok" and _is_monitoring(request):
        report |= routing_backlog()
    return JsonResponse(report, status=status)
