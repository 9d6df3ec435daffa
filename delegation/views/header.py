"""The header's live counts (unread notifications, escalations to answer), polled by htmx. It lives
here, beside the `header_counts` tag it renders, because it reads escalations as well as the
organization's notifications."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django_htmx.http import HTMX_STOP_POLLING


@require_GET
def header_counts_view(request: HttpRequest) -> HttpResponse:
    """Signed out: tell htmx to stop polling."""
    if getattr(request, "employee", None) is None:
        return HttpResponse(status=HTMX_STOP_POLLING)
    return render(request, "partials/nav_counts.html")
