"""Styled error pages in the product's look and the reader's language, for pages; JSON under /api/.

The 500 page renders without the database (the error may be the database): a standalone template,
no header counts, no context processors that query.
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.csrf import requires_csrf_token


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _page(request: HttpRequest, status: int, context: dict | None = None) -> HttpResponse:
    template = loader.get_template(f"{status}.html")
    # No request context (no header counts, no database): the page must render whatever broke.
    return HttpResponse(template.render({"request_path": request.path, **(context or {})}), status=status)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": _("Not found."), "code": "not_found"}, status=404)
    return _page(request, 404)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    if _is_api(request):
        return JsonResponse(
            {"detail": _("You do not have permission to perform this action."), "code": "permission_denied"},
            status=403,
        )
    message = str(exception) if exception is not None and str(exception) else ""
    return _page(request, 403, {"message": message})


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return JsonResponse({"detail": _("Something went wrong on our side."), "code": "server_error"}, status=500)
    return _page(request, 500)


def too_many_requests(request: HttpRequest, *, message: str = "") -> HttpResponse:
    """429 for pages (rate-limited forms such as the password reset); JSON under /api/."""
    message = message or _("Too many requests. Please wait a little and try again.")
    if _is_api(request):
        return JsonResponse({"detail": message, "code": "throttled"}, status=429)
    return _page(request, 429, {"message": message})
