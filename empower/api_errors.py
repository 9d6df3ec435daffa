"""Every error under `/api/` is JSON with `detail` and `code`: those raised in a view (domain errors,
DRF's own, a body too large) through `exception_handler`, and those Django answers before or after a
view runs (an unknown route, a non-numeric id, a server error) through `json_error`, which the root
URLconf's `handler400`/`handler403`/`handler404`/`handler500` use (empower/error_pages.py)."""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from empower.db_retry import DatabaseBusy, busy, is_retryable
from empower.errors import DomainError

API_PREFIX = "/api/"

# What Django itself answers, in the API's words: (status, code, message).
TOO_LARGE = (413, "too_large", gettext_lazy("The request body is too large."))
NOT_FOUND = (404, "not_found", gettext_lazy("Not found."))
BAD_REQUEST = (400, "bad_request", gettext_lazy("Bad request."))
FORBIDDEN = (403, "permission_denied", gettext_lazy("You do not have permission to perform this action."))
SERVER_ERROR = (
    500,
    "server_error",
    gettext_lazy("Something went wrong on our side; nothing was changed. Please try again."),
)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def error_body(detail: str, code: str) -> dict:
    return {"detail": detail, "code": code}


def json_error(answer: tuple) -> JsonResponse:
    status_code, code, message = answer
    return JsonResponse(error_body(str(message), code), status=status_code)


def exception_handler(exc, context):
    """Domain errors become the same JSON shape as DRF's own: `detail`, `code` and field errors."""
    if is_retryable(exc):  # a deadlock or serialization failure no service retried: busy, try again
        exc = busy()
    if isinstance(exc, DomainError):
        body = {"detail": str(exc.message), "code": exc.code}
        body.update({field: [str(m) for m in messages] for field, messages in exc.field_errors.items()})
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, DatabaseBusy) else None
        return Response(body, status=exc.status, headers=headers)
    if isinstance(exc, RequestDataTooBig):  # the body is read lazily, inside the view
        status_code, code, message = TOO_LARGE
        return Response(error_body(str(message), code), status=status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(response.data, dict):
        if "code" not in response.data:
            response.data["code"] = _code_of(exc, response.status_code)
        if "detail" not in response.data:  # field errors only: the first field's message names the field
            response.data["detail"] = _first_message(response.data)
    elif isinstance(response.data, list):  # a bare list of messages
        response.data = {"detail": " ".join(str(m) for m in response.data), "code": _code_of(exc, response.status_code)}
    return response


def _code_of(exc, status_code: int) -> str:
    if status_code == status.HTTP_400_BAD_REQUEST and not isinstance(getattr(exc, "detail", None), str):
        return "invalid"  # field errors
    detail = getattr(exc, "detail", None)
    code = getattr(detail, "code", None) if isinstance(detail, str) else None
    if code:
        return str(code)
    if isinstance(exc, APIException):
        return exc.default_code
    # Django's own Http404 and PermissionDenied, which DRF answers for us.
    return {403: "permission_denied", 404: "not_found"}.get(status_code, "error")


def _first_message(data: dict) -> str:
    for field, messages in data.items():
        if field in ("code", "detail"):
            continue
        first = messages[0] if isinstance(messages, list) and messages else messages
        if isinstance(first, dict):  # a nested serializer: its own first message
            return f"{field}: {_first_message(first)}"
        return f"{field}: {first}" if field != "non_field_errors" else str(first)
    return str(_("The request is not valid."))
