from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from empower.db_retry import DatabaseBusy, busy, is_retryable
from empower.errors import DomainError


def exception_handler(exc, context):
    """Domain errors become the same JSON shape as DRF's own: `detail`, `code` and field errors."""
    if is_retryable(exc):  # a deadlock or serialization failure no service retried: busy, try again
        exc = busy()
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.message), "code": exc.code}
        body.update({field: [str(m) for m in messages] for field, messages in exc.field_errors.items()})
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, DatabaseBusy) else None
        return Response(body, status=exc.status, headers=headers)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(response.data, dict):
        response.data.setdefault("code", "invalid")
    return response
