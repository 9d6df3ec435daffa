"""Pages of the organization: opening and resolving cases, notifications.

The pages that show authority, decisions and escalations live in `delegation.views`: the
organization knows nothing of authority (dependencies point feedback → delegation → empower).
"""

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from empower.errors import DomainError
from empower.forms import CaseOpenForm, CaseResolveForm, add_domain_error
from empower.selectors import cases_visible_to, notifications_for
from empower.services import case_open, case_resolve, notification_mark_read
from empower.tokens import api_token_issue, api_token_revoke, api_tokens_of

NOTIFICATIONS_SHOWN = 50  # a page


def staff_required(view: Callable) -> Callable:
    """Logged in, and an employee: a login without one (an administrator) gets a page saying so."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if getattr(request, "employee", None) is None:
            return render(request, "empower/no_employee.html", status=403)
        return view(request, *args, **kwargs)

    return login_required(wrapper)


@require_http_methods(["GET", "POST"])
@staff_required
def case_new(request: HttpRequest) -> HttpResponse:
    form = CaseOpenForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case = case_open(employee=request.employee, **form.cleaned_data)
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Case #%(id)s is open.") % {"id": case.pk})
                return redirect("case-detail", pk=case.pk)
        else:
            status = 400
    return render(request, "cases/new.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def case_resolve_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Resolve a case with a note. Works without JavaScript; errors come back on a page of their own."""
    case = get_object_or_404(cases_visible_to(employee=request.employee), pk=pk)
    form = CaseResolveForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                case_resolve(employee=request.employee, case=case, resolution_note=form.cleaned_data["resolution_note"])
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(request, _("Case #%(id)s is resolved.") % {"id": case.pk})
                return redirect("case-detail", pk=case.pk)
        else:
            status = 400
    return render(request, "cases/resolve.html", {"case": case, "form": form}, status=status)


@require_GET
@staff_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """The employee's notifications, the latest first, a page at a time (read from the
    `notification_recipient_recent` index: recipient, then newest first)."""
    notifications = notifications_for(employee=request.employee).order_by("-created_at", "-id")
    page = Paginator(notifications, NOTIFICATIONS_SHOWN).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"notifications": page, "page": page})


@require_POST
@staff_required
def notifications_mark_read(request: HttpRequest) -> HttpResponse:
    count = notification_mark_read(employee=request.employee)
    if count:
        messages.success(request, _("Marked %(count)s notifications as read.") % {"count": count})
    return redirect("notifications")


def login_locked_out(request: HttpRequest, original_response, credentials) -> HttpResponse:
    """What django-axes answers once a username has failed too often from one address: 429, in the
    API's JSON shape for the API and as a page for the browser."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = ngettext(
        "Too many failed attempts to log in. Please try again in %(minutes)d minute.",
        "Too many failed attempts to log in. Please try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)


@require_http_methods(["GET", "POST"])
@login_required
def api_tokens_view(request: HttpRequest) -> HttpResponse:
    """My API tokens: list, issue one (its key shown this once), revoke. A token issued here may end
    with this browser's login (ticked by default): logging out revokes it."""
    new_key = ""
    if request.method == "POST":
        if not request.session.session_key:
            request.session.save()
        ends_with_login = request.POST.get("ends_with_login") == "on"
        _token, new_key = api_token_issue(
            user=request.user,
            name=request.POST.get("name", "").strip()[:100],
            session_key=request.session.session_key if ends_with_login else "",
        )
    context = {
        "tokens": list(api_tokens_of(user=request.user)),
        "new_key": new_key,
        "days": settings.API_TOKEN_DAYS,
    }
    return render(request, "empower/tokens.html", context, status=201 if new_key else 200)


@require_POST
@login_required
def api_token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        api_token_revoke(user=request.user, token_id=pk)
    except DomainError as error:
        raise Http404 from error
    messages.success(request, _("The token is revoked; it no longer works."))
    return redirect("api-tokens")
