from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from empower.errors import DomainError


def exception_handler(exc, context):
    """Domain errors become the same JSON shape as DRF's own: `detail`, `code` and field errors."""
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.message), "code": exc.code}
        body.update({field: [str(m) for m in messages] for field, messages in exc.field_errors.items()})
        return Response(body, status=exc.status)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == status.HTTP_400_BAD_REQUEST and isinstance(response.data, dict):
        response.data.setdefault("code", "invalid")
    return response
