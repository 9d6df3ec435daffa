"""Pages where authority shows: the queue with what is left today, the case page with its decision
form, and the approver's inbox. Each view parses input, calls one service or selector and renders;
no rule is checked here. With htmx the answer is a partial swapped in place; without JavaScript the
same forms post normally and redirect.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation.forms import DecisionForm, EscalationApproveForm, EscalationRejectForm
from delegation.models import Decision, Escalation, EscalationStep
from delegation.selectors import (
    Authority,
    authority_of,
    decisions_for_case,
    delegations_held,
    escalation_inbox,
    escalations_visible_to,
)
from delegation.services import (
    decision_submit,
    escalation_answer_check,
    escalation_approve,
    escalation_reject,
    escalation_withdraw,
)
from empower.errors import DomainError
from empower.forms import CaseResolveForm, add_domain_error
from empower.models import Case, Employee
from empower.selectors import case_queue, cases_visible_to
from empower.views import staff_required

QUEUE_PAGE_SIZE = 50
INBOX_PAGE_SIZE = 50
HISTORY_SHOWN = 20


def _authority_context(employee: Employee, authority: Authority | None = None) -> dict:
    authority = authority or authority_of(employee=employee)
    # Only someone holding borrowed lines is standing in; ask for the windows only then.
    stand_in_for = delegations_held(employee=employee) if authority.borrowed else []
    return {"authority": authority, "stand_in_for": stand_in_for, "currency": settings.EMPOWER_CURRENCY}


@require_GET
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """The queue of open cases (the team's; a manager's: every team below) and today's authority."""
    employee = request.employee
    page = Paginator(case_queue(employee=employee), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "is_manager": employee.reports.exists(), **_authority_context(employee)}
    return render(request, "cases/queue.html", context)


def _steps() -> Prefetch:
    return Prefetch("escalation__steps", queryset=EscalationStep.objects.select_related("assigned_to__user"))


def _case_decisions(case: Case) -> QuerySet[Decision]:
    # Everything the decision list shows, in a constant number of queries however many decisions.
    return decisions_for_case(case=case).select_related("escalation__decided_by__user").prefetch_related(_steps())


def _case_context(
    request: HttpRequest,
    case: Case,
    *,
    authority: Authority | None = None,
    form: DecisionForm | None = None,
    outcome_id: int | None = None,
) -> dict:
    employee = request.employee
    authority = authority or authority_of(employee=employee)
    decisions = list(_case_decisions(case))
    history = list(
        cases_visible_to(employee=employee)
        .filter(customer_id=case.customer_id)
        .exclude(pk=case.pk)
        .order_by("-created_at")[:HISTORY_SHOWN]
    )
    return {
        "case": case,
        "decisions": decisions,
        "outcome": next((d for d in decisions if d.pk == outcome_id), None),
        "history": history,
        "form": form or DecisionForm(types=[line.decision_type for line in authority.lines]),
        "resolve_form": CaseResolveForm(),
        **_authority_context(employee, authority),
    }


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@staff_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page; a POST is a decision on the case (see `_decide`)."""
    case = get_object_or_404(cases_visible_to(employee=request.employee), pk=pk)
    if request.method == "POST":
        return _decide(request, case)
    context = _case_context(request, case, outcome_id=_int_or_none(request.GET.get("decision")))
    return render(request, "cases/detail.html", context)


def _decide(request: HttpRequest, case: Case) -> HttpResponse:
    """Decide through `decision_submit`, the one home of the authority rule.

    Routing an escalation runs after commit: with eager Celery it has already run when the service
    returns (this view is not atomic), so the answer read back below names the approver; otherwise
    it says the escalation is being routed.
    """
    employee = request.employee
    authority = authority_of(employee=employee)
    form = DecisionForm(request.POST, types=[line.decision_type for line in authority.lines])
    status = 400
    if form.is_valid():
        try:
            decision = decision_submit(employee=employee, case=case, **form.cleaned_data)
        except DomainError as error:
            add_domain_error(form, error)
            status = error.status
        else:
            if not request.htmx:
                return redirect(f"{reverse('case-detail', args=[case.pk])}?decision={decision.pk}#decide")
            # Counters moved: the authority panel and the list are read again, fresh.
            context = _case_context(request, case, outcome_id=decision.pk)
            return render(request, "cases/decided.html", context)
    if request.htmx:
        # htmx is configured (base.html) to swap 4xx answers, so the errors show beside the fields.
        return render(request, "cases/detail.html#decision-panel", {"case": case, "form": form}, status=status)
    return render(
        request, "cases/detail.html", _case_context(request, case, authority=authority, form=form), status=status
    )


@require_GET
@staff_required
def decision_outcome(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    """The decision form's answer, polled by htmx while its escalation waits for routing (which runs
    in a worker after the answer was sent). Once routed it names the approver, comes without the
    polling trigger, and brings the case's decision list along (out of band) so both agree."""
    case = get_object_or_404(cases_visible_to(employee=request.employee), pk=pk)
    decision = get_object_or_404(decisions_for_case(case=case), pk=decision_pk)
    context = {"case": case, "outcome": decision}
    escalation = getattr(decision, "escalation", None) if decision.status == Decision.Status.ESCALATED else None
    if escalation is not None and escalation.status == Escalation.Status.ROUTING:
        return render(request, "cases/detail.html#outcome", context)
    return render(request, "cases/outcome.html", context | {"decisions": list(_case_decisions(case))})


# Escalations ------------------------------------------------------------------------------------


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
        # Annotated by the selectors with the service's own rule (the approver or their active stand-in).
        "can_answer": escalation.can_answer,
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
            escalation_id=pk, approver=request.employee, note=data["note"], amount=data["amount"] or None
        )

    return _answer(request, pk, form, act, approve=True)


@require_POST
@staff_required
def escalation_reject_view(request: HttpRequest, pk: int) -> HttpResponse:
    form = _reject_form(pk, request.POST)

    def act(data: dict) -> Decision:
        return escalation_reject(escalation_id=pk, approver=request.employee, note=data["note"])

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
        "amount": number_format(decision.final_amount or decision.amount, 2),
        "currency": decision.currency,
        "requester": decision.made_by,
        "case": decision.case_id,
    }
    if decision.status == Decision.Status.APPROVED:
        return _("Approved: %(type)s of %(amount)s %(currency)s for %(requester)s (case #%(case)s).") % values
    return _("Rejected: %(type)s of %(amount)s %(currency)s for %(requester)s (case #%(case)s).") % values


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
        return render(request, "escalations/inbox.html#row", {"row": row}, status=status)
    context = {"row": row, "escalation": escalation, "errors": [] if row else errors}
    return render(request, "escalations/detail.html", context, status=status)
