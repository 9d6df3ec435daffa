"""The root URLconf's error views, for what no view answered: an unknown route or a non-numeric id
(404), a request Django refused before any view ran (400, e.g. a body above
`DATA_UPLOAD_MAX_MEMORY_SIZE`, which the API answers 413), a permission refused (403) and an unhandled
server error (500). Under `/api/` they answer JSON with `detail` and `code` (`empower.api_errors`);
elsewhere styled pages in the product's look and the reader's language.

The pages render without the database (the error may be the database): standalone templates, no
header counts, no context processors that query.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token

from empower.api_errors import BAD_REQUEST, FORBIDDEN, NOT_FOUND, SERVER_ERROR, TOO_LARGE, is_api, json_error


def _page(request: HttpRequest, status: int, context: dict | None = None) -> HttpResponse:
    template = loader.get_template(f"{status}.html")
    # No request context (no header counts, no database): the page must render whatever broke.
    return HttpResponse(template.render({"request_path": request.path, **(context or {})}), status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    if is_api(request):
        return json_error(TOO_LARGE if isinstance(exception, RequestDataTooBig) else BAD_REQUEST)
    return _page(request, 400)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if is_api(request):
        return json_error(NOT_FOUND)
    return _page(request, 404)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if is_api(request):
        return json_error(FORBIDDEN)
    message = str(exception) if exception is not None and str(exception) else ""
    return _page(request, 403, {"message": message})


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return json_error(SERVER_ERROR)
    return _page(request, 500)


def too_many_requests(request: HttpRequest, *, message: str = "") -> HttpResponse:
    """429 for pages (rate-limited forms such as the password reset); JSON under /api/."""
    message = message or _("Too many requests. Please wait a little and try again.")
    if is_api(request):
        return JsonResponse({"detail": message, "code": "throttled"}, status=429)
    return _page(request, 429, {"message": message})
