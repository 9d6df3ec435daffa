from django.utils.translation import gettext_lazy as _
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
    if response.status_code == status.HTTP_400_BAD_REQUEST:
        if isinstance(response.data, list):  # `ValidationError("…")` with no field: one sentence
            response.data = {"detail": " ".join(str(m) for m in response.data), "code": "invalid"}
        elif isinstance(response.data, dict):
            response.data.setdefault("code", "invalid")
            # Every 400 has a `detail` (the README promises it): the first field's message names the field.
            response.data.setdefault("detail", _first_message(response.data))
    return response


def _first_message(data: dict) -> str:
    for field, messages in data.items():
        if field in ("code", "detail"):
            continue
        first = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(first, dict):  # a nested serializer: its own first message
            return f"{field}: {_first_message(first)}"
        return f"{field}: {first}" if field != "non_field_errors" else str(first)
    return str(_("The request is not valid."))
