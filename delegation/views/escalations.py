"""The approver's pages: the inbox, one escalation and its path, approve, reject and withdraw.

With htmx the answer is the row swapped in place; without JavaScript a plain page or a redirect.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from delegation.forms import EscalationApproveForm, EscalationRejectForm
from delegation.models import Decision, Escalation, EscalationStep
from delegation.selectors import (
    escalation_inbox,
    escalations_visible_to,
    may_withdraw,
)
from delegation.services import (
    escalation_answer_check,
    escalation_approve,
    escalation_reject,
    escalation_withdraw,
)
from empower.errors import DomainError
from empower.forms import add_domain_error
from empower.models import Employee
from empower.money import format_money
from empower.views import staff_required

INBOX_PAGE_SIZE = 50


def _visible_escalations(employee: Employee) -> QuerySet[Escalation]:
    return escalations_visible_to(employee=employee).select_related("decision__case__customer", "decided_by__user")


def _approve_form(pk: int, data=None) -> EscalationApproveForm:
    # Ids stay unique with many rows on one page; the field names stay `amount` and `note`.
    return EscalationApproveForm(data, auto_id=f"approve-{pk}-%s")


def _reject_form(pk: int, data=None) -> EscalationRejectForm:
    return EscalationRejectForm(data, auto_id=f"reject-{pk}-%s")


def _row(
    escalation: Escalation,
    employee: Employee,
    *,
    approve_form: EscalationApproveForm | None = None,
    reject_form: EscalationRejectForm | None = None,
    errors: list[str] | None = None,
    outcome: str = "",
) -> dict:
    return {
        "escalation": escalation,
        # The buttons come from the rules the services raise: `can_answer` is annotated by
        # `with_answer_rights` (what `answer_refusal` reads), "Withdraw" is `withdraw_refusal`.
        "can_answer": escalation.can_answer,
        "can_withdraw": may_withdraw(escalation=escalation, employee=employee),
        "approve_form": approve_form or _approve_form(escalation.pk),
        "reject_form": reject_form or _reject_form(escalation.pk),
        "errors": errors or [],
        "outcome": outcome,
    }


@require_GET
@staff_required
def escalation_inbox_view(request: HttpRequest) -> HttpResponse:
    """The approver's inbox: what waits for their answer first, then what they answered."""
    employee = request.employee
    escalations = escalation_inbox(employee=employee).select_related("decided_by__user")
    page = Paginator(escalations, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_row(e, employee) for e in page]
    return render(request, "escalations/inbox.html", {"page": page, "rows": rows})


@require_GET
@staff_required
def escalation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One escalation and its path; the requester, the assignee and the people above them see it."""
    employee = request.employee
    escalation = get_object_or_404(
        _visible_escalations(employee).prefetch_related(
            Prefetch("steps", queryset=EscalationStep.objects.select_related("assigned_to__user"))
        ),
        pk=pk,
    )
    return render(request, "escalations/detail.html", {"row": _row(escalation, employee), "escalation": escalation})


@require_POST
@staff_required
def escalation_approve_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = _approve_form(pk, request.POST)

    def act(data: dict) -> Decision:
        return escalation_approve(
            escalation_id=pk,
            approver=request.employee,
            note=data["note"],
            amount=data["amount"] or None,
            share_as_guidance=data["share_as_guidance"],
        )

    return _answer(request, pk, form, act, approve=True)


@require_POST
@staff_required
def escalation_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = _reject_form(pk, request.POST)

    def act(data: dict) -> Decision:
        return escalation_reject(
            escalation_id=pk, approver=request.employee, note=data["note"], share_as_guidance=data["share_as_guidance"]
        )

    return _answer(request, pk, form, act, approve=False)


@require_POST
@staff_required
def escalation_withdraw_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The requester takes back a pending escalation (a plain form on the case page)."""
    escalation = get_object_or_404(_visible_escalations(request.employee), pk=pk)
    try:
        escalation_withdraw(escalation_id=pk, employee=request.employee, reason=request.POST.get("reason", ""))
        messages.success(request, _("You withdrew the escalation."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("case-detail", escalation.decision.case_id)


def _outcome(decision: Decision) -> str:
    values = {
        "type": decision.decision_type.name,
        "amount": format_money(decision.final_amount or decision.amount, decision.currency),
        "requester": decision.made_by,
        "case": decision.case_id,
    }
    if decision.status == Decision.Status.APPROVED:
        return _("Approved: %(type)s of %(amount)s for %(requester)s (case #%(case)s).") % values
    return _("Rejected: %(type)s of %(amount)s for %(requester)s (case #%(case)s).") % values


def _answer(
    request: HttpRequest,
    pk: int,
    form: EscalationApproveForm | EscalationRejectForm,
    act: Callable[[dict], Decision],
    *,
    approve: bool,
) -> HttpResponse:
    """Approve or reject through the service; answer with the row (htmx) or a page (no JavaScript)."""
    employee = request.employee
    status = 400
    outcome = ""
    valid = form.is_valid()
    try:
        # Who may answer comes before what they typed, as in the API: 404, 403, 409, then 400.
        escalation_answer_check(escalation_id=pk, actor=employee)
        if valid:
            outcome = _outcome(act(form.cleaned_data))
            status = 200
    except DomainError as error:
        if error.status == 404:
            raise Http404 from error
        add_domain_error(form, error)
        status = error.status
    # What the actor may see of it after the answer (an outsider who posts sees only the refusal).
    escalation = (
        _visible_escalations(employee)
        .prefetch_related(Prefetch("steps", queryset=EscalationStep.objects.select_related("assigned_to__user")))
        .filter(pk=pk)
        .first()
    )
    if status == 200 and not request.htmx:
        messages.success(request, outcome)
        return redirect("escalation-inbox")
    errors = [str(m) for m in form.non_field_errors()]
    row = None
    if escalation is not None:
        forms = {"approve_form": form} if approve else {"reject_form": form}
        row = _row(escalation, employee, errors=errors, outcome=outcome, **forms)
    if request.htmx:
        if row is None:
            return render(request, "escalations/message.html", {"errors": errors, "outcome": outcome}, status=status)
        return render(request, "escalations/row_answered.html", {"row": row}, status=status)
    context = {"row": row, "escalation": escalation, "errors": [] if row else errors}
    return render(request, "escalations/detail.html", context, status=status)
