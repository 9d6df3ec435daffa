"""Decision-type guidance: the managers' page that edits it, and the panel beside the decision form."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from delegation.forms import GuidanceForm
from delegation.selectors import guidance_edit_refusal, guidance_for
from delegation.services import decision_type_guidance_save
from delegation.views.common import decision_type_or_404, page_context
from empower.errors import DomainError
from empower.forms import add_domain_error
from empower.views import staff_required


def _ensure_editor(request: HttpRequest) -> None:
    if guidance_edit_refusal(employee=request.employee, user=request.user) is not None:
        raise PermissionDenied(_("Only managers and administrators edit the guidance."))


@require_GET
@staff_required
def guidance_list(request: HttpRequest) -> HttpResponse:
    """Every active type's guidance and shared notes, with an edit link each (managers)."""
    _ensure_editor(request)
    return render(request, "authority/guidance.html", {"guidance": guidance_for(), **page_context(request)})


@require_http_methods(["GET", "POST"])
@staff_required
def guidance_edit(request: HttpRequest, decision_type: str) -> HttpResponse:
    _ensure_editor(request)
    type_ = decision_type_or_404(decision_type)
    if request.method == "POST":
        form = GuidanceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                decision_type_guidance_save(
                    decision_type=type_,
                    actor=request.employee,
                    user=request.user,
                    reason=data["reason"],
                    purpose=data["purpose"],
                    good_examples=data["good_examples"],
                    rationale_hint=data["rationale_hint"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(request, _("The guidance for %(type)s is saved.") % {"type": type_.name})
                return redirect("guidance-list")
        status = 400
    else:
        form = GuidanceForm(
            initial={
                "purpose": type_.purpose,
                "good_examples": type_.good_examples,
                "rationale_hint": type_.rationale_hint,
            }
        )
        status = 200
    context = {"form": form, "decision_type": type_, **page_context(request)}
    return render(request, "authority/guidance_edit.html", context, status=status)
