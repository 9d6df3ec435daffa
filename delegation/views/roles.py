"""Role defaults: the table, one cell, and its edit form (`role_limit_set`)."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from delegation.authority import CAPS, NO_AUTHORITY, Limits
from delegation.forms import RoleLimitForm
from delegation.models import DecisionType
from delegation.selectors import may_change_role_limits, role_defaults
from delegation.services import role_limit_set
from delegation.views.common import decision_type_or_404, page_context, render_refusal
from empower.errors import DomainError
from empower.forms import add_domain_error
from empower.models import Role
from empower.views import staff_required


def _role_cell(role: Role, decision_type: DecisionType):
    for defaults in role_defaults():
        if defaults.role.pk == role.pk:
            return next((limit for t, limit in defaults.limits if t.pk == decision_type.pk), None)
    return None


def _role_limits(limit) -> Limits:
    if limit is None:
        return NO_AUTHORITY
    return Limits(*(getattr(limit, cap) for cap in CAPS), source="role")


@require_GET
@staff_required
def role_defaults_view(request: HttpRequest) -> HttpResponse:
    """Role defaults: those ranked below the caller are theirs to change; their own role is shown only."""
    me = request.employee
    table = role_defaults(below_rank=me.role.rank, include_role_id=me.role_id)
    context = {
        # "Edit" exactly where `role_limit_set` accepts the role (the same predicate).
        "table": [
            {"role": r.role, "editable": may_change_role_limits(granter=me, role=r.role), "limits": r.limits}
            for r in table
        ],
        "types": [t for t, _limit in table[0].limits] if table else [],
        **page_context(request),
    }
    return render(request, "authority/roles.html", context)


def _editable_role(request: HttpRequest, code: str) -> Role:
    role = get_object_or_404(Role, code=code)
    if not may_change_role_limits(granter=request.employee, role=role):
        raise Http404
    return role


@require_GET
@staff_required
def role_cell(request: HttpRequest, role: str, decision_type: str) -> HttpResponse:
    role_ = _editable_role(request, role)
    if not request.htmx:
        return redirect("authority-roles")
    decision_type_ = decision_type_or_404(decision_type)
    context = {"role": role_, "decision_type": decision_type_, "limit": _role_cell(role_, decision_type_)}
    context |= {"editable": True, "currency": settings.EMPOWER_CURRENCY}
    return render(request, "authority/roles.html#role-cell", context)


@require_http_methods(["GET", "POST"])
@staff_required
def role_edit(request: HttpRequest, role: str, decision_type: str) -> HttpResponse:
    """Change a role's defaults through `role_limit_set` (a higher role, never above one's own)."""
    decision_type_ = decision_type_or_404(decision_type)
    auto_id = f"role-{role}-%s"
    if request.method == "GET":
        role_ = _editable_role(request, role)
        limits = _role_limits(_role_cell(role_, decision_type_))
        form = RoleLimitForm.starting_from(limits, auto_id=auto_id)
        return _render_role_form(request, role_, decision_type_, form)
    role_ = get_object_or_404(Role, code=role)
    form = RoleLimitForm(request.POST, auto_id=auto_id)
    status, refusal = 400, ""
    if form.is_valid():
        try:
            role_limit_set(
                granter=request.employee,
                role=role_,
                decision_type=decision_type_,
                values=form.values(),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as error:
            refusal, status = add_domain_error(form, error), error.status
        else:
            note = _("Saved: the %(role)s role's limits for %(type)s.") % {"role": role_, "type": decision_type_.name}
            if request.htmx:
                context = {"role": role_, "decision_type": decision_type_, "note": note, "editable": True}
                context |= {"limit": _role_cell(role_, decision_type_), "currency": settings.EMPOWER_CURRENCY}
                return render(request, "authority/roles.html#role-cell", context)
            messages.success(request, note)
            return redirect("authority-roles")
    if not may_change_role_limits(granter=request.employee, role=role_):
        if not refusal:
            raise Http404
        return render_refusal(request, refusal, status)
    return _render_role_form(request, role_, decision_type_, form, status)


def _render_role_form(request, role, decision_type, form, status=200) -> HttpResponse:
    context = {
        "role": role,
        "decision_type": decision_type,
        "form": form,
        "currency": settings.EMPOWER_CURRENCY,
    }
    if request.htmx:
        return render(request, "authority/roles.html#role-form", context, status=status)
    return render(request, "authority/role_page.html", {**context, **page_context(request)}, status=status)
