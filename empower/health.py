from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from empower.celery import app


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        return "down"


def _broker() -> str:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=0, timeout=1)
        return "ok"
    except Exception:
        return "down"


@never_cache
def healthz(request):
    """200 when the database and the broker answer, 503 when either is down."""
    report = {"database": _database(), "broker": _broker()}
    status = 200 if all(v == "ok" for v in report.values()) else 503
    return JsonResponse(report, status=status)
