"""The frontline pages: the queue with what is left today, the case page with its decision form,
and the decision's outcome polled while its escalation is routed.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models import OuterRef, Prefetch, QuerySet, Subquery, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation.forms import DecisionForm
from delegation.models import Decision, Escalation, EscalationStep
from delegation.selectors import (
    Authority,
    authority_of,
    decisions_for_case,
    may_withdraw,
    pending_escalations_of_case,
    with_people,
)
from delegation.services import decision_submit, resolve_refusal
from empower.errors import DomainError, InvalidInput
from empower.forms import CaseResolveForm, add_domain_error
from empower.models import Case, Employee
from empower.selectors import assignee_choices, case_assignees, case_list, cases_visible_to
from empower.services import case_reassign, case_reopen
from empower.views import staff_required

QUEUE_PAGE_SIZE = 50
HISTORY_SHOWN = 20
# The case page shows the latest decisions; older ones come a page at a time ("Older decisions":
# swapped in by htmx, or the case page with `?decisions=N` without JavaScript).
DECISIONS_SHOWN = 20
OLDER_DECISIONS_PARAM = "decisions"


def _authority_context(employee: Employee, authority: Authority | None = None) -> dict:
    # The stand-in banner comes with the header (`header_counts`), on every page.
    authority = authority or authority_of(employee=employee)
    return {"authority": authority, "currency": settings.EMPOWER_CURRENCY}


QUEUE_STATES = (
    ("open", gettext_lazy("Open")),
    ("waiting", gettext_lazy("Waiting for an approver")),
    ("approved", gettext_lazy("Approved, still open")),
    ("follow_up", gettext_lazy("Follow-up open")),
    ("resolved", gettext_lazy("Resolved")),
    ("all", gettext_lazy("All")),
)
QUEUE_SORTS = (
    ("newest", gettext_lazy("Newest first")),
    ("oldest", gettext_lazy("Oldest first")),
    ("updated", gettext_lazy("Recently changed")),
    ("customer", gettext_lazy("Customer")),
    ("subject", gettext_lazy("Subject")),
)


def _queue_filters(request: HttpRequest) -> dict[str, str]:
    """The queue's filters from the address (unknown values fall back: a shared link never breaks)."""
    get = request.GET
    state = get.get("state", "open")
    sort = get.get("sort", "newest")
    return {
        "state": state if state in dict(QUEUE_STATES) else "open",
        "assigned_to": get.get("assigned_to", "").strip()[:150],
        "q": " ".join(get.get("q", "").split())[:200],
        "sort": sort if sort in dict(QUEUE_SORTS) else "newest",
    }


@require_GET
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """The queue (the team's cases; a manager's: every team below) with each case's state, filtered by
    state and assignee, searched, sorted, a page at a time; and today's authority beside it."""
    employee = request.employee
    filters = _queue_filters(request)
    cases = case_list(
        employee=employee,
        state="" if filters["state"] == "all" else filters["state"],
        assigned_to=filters["assigned_to"],
        q=filters["q"],
        sort=filters["sort"],
    )
    page = Paginator(cases, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    awaited = Employee.objects.select_related("user").in_bulk(
        {c.flag_waiting_who for c in rows if getattr(c, "flag_waiting_who", None)}
    )
    for case in rows:
        case.waiting_for = awaited.get(getattr(case, "flag_waiting_who", None))
    defaults = {"state": "open", "sort": "newest"}
    query = {k: v for k, v in filters.items() if v and defaults.get(k) != v}  # the links keep the filters
    context = {
        "page": page,
        "rows": rows,
        "filters": filters,
        "filtered": bool(filters["q"] or filters["assigned_to"] or filters["state"] != "open"),
        "states": QUEUE_STATES,
        "sorts": QUEUE_SORTS,
        "assignees": assignee_choices(employee=employee),
        "page_query": urlencode(query),
        "is_manager": employee.reports.exists(),
        **_authority_context(employee),
    }
    if request.htmx and request.GET.get("partial") == "results":
        return render(request, "cases/queue.html#results", context)
    return render(request, "cases/queue.html", context)


def _steps() -> Prefetch:
    return Prefetch("escalation__steps", queryset=EscalationStep.objects.select_related("assigned_to__user"))


def _case_decisions(case: Case, employee: Employee, page: str | int | None = 1) -> Page:
    """One page of the decision list, the latest first (`DECISIONS_SHOWN` a page; older ones on the
    next pages), in a constant number of queries however many decisions the case has; each
    escalation carries `overdue` (`Escalation.is_overdue`) and `can_withdraw` (the rule
    `escalation_withdraw` raises), so the template decides nothing."""
    decisions = decisions_for_case(case=case).prefetch_related(_steps())
    page = Paginator(decisions, DECISIONS_SHOWN).get_page(page)
    with_people(page)
    now = timezone.now()
    for decision in page:
        escalation = getattr(decision, "escalation", None)
        if escalation is not None:
            escalation.overdue = escalation.is_overdue(now)
            escalation.can_withdraw = may_withdraw(escalation=escalation, employee=employee)
    return page


def _granted_on(case) -> QuerySet:
    approved = Decision.objects.filter(case=case, status=Decision.Status.APPROVED).order_by()
    return approved.values("case").annotate(total=Sum("final_amount")).values("total")


def _case_context(
    request: HttpRequest,
    case: Case,
    *,
    authority: Authority | None = None,
    form: DecisionForm | None = None,
    outcome_id: int | None = None,
    decisions_page: str | None = None,
    resolve_form: CaseResolveForm | None = None,
) -> dict:
    employee = request.employee
    # For this customer: the panel counts what is left of their monthly cap, as the check would.
    authority = authority or authority_of(employee=employee, customer_id=case.customer_id)
    decisions = _case_decisions(case, employee, decisions_page)
    outcome = next((d for d in decisions if d.pk == outcome_id), None)
    if outcome is None and outcome_id is not None:  # pushed off the first page meanwhile
        outcome = next(iter(with_people(decisions_for_case(case=case).filter(pk=outcome_id))), None)
    history = list(
        cases_visible_to(employee=employee)
        .filter(customer_id=case.customer_id)
        .exclude(pk=case.pk)
        # What the customer was granted on each (approved amounts, after any cut), in the same query:
        # summed per case shown, from the index alone (a join and GROUP BY sorted every decision of
        # every case of a customer with a long history).
        .annotate(granted=Subquery(_granted_on(OuterRef("pk"))))
        .order_by("-created_at")[:HISTORY_SHOWN]
    )
    return {
        "case": case,
        "decisions": decisions,
        "outcome": outcome,
        "history": history,
        "form": form or DecisionForm(types=[line.decision_type for line in authority.lines]),
        "resolve_form": resolve_form or CaseResolveForm(),
        **_case_actions(case, employee),
        **_authority_context(employee, authority),
        "authority_customer": case.customer,
    }


def _case_actions(case: Case, employee: Employee) -> dict:
    """What the case page offers, from the rules the services raise: resolving is refused while an
    escalation waits (`resolve_refusal`; the waiting ones are listed with their withdraw buttons),
    reopening is for a resolved case (anyone who may act on it sees it), reassigning within the team."""
    refusal = resolve_refusal(case=case) if case.is_open else None
    pending = []
    if refusal is not None:
        pending = list(pending_escalations_of_case(case_id=case.pk))
        for escalation in pending:
            escalation.can_withdraw = may_withdraw(escalation=escalation, employee=employee)
    return {
        "resolve_refusal": refusal,
        "pending_escalations": pending,
        "can_reopen": not case.is_open,
        "assignees": list(case_assignees(case=case)) if case.is_open else [],
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
    older = request.GET.get(OLDER_DECISIONS_PARAM)
    if older and request.htmx:
        # "Older decisions" asked by htmx: only the next page of the list, which replaces the link.
        context = {"case": case, "decisions": _case_decisions(case, request.employee, older)}
        return render(request, "cases/detail.html#decision-items", context)
    context = _case_context(request, case, outcome_id=_int_or_none(request.GET.get("decision")), decisions_page=older)
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
    return render(request, "cases/detail.html", _case_context(request, case, form=form), status=status)


@require_GET
@staff_required
def decision_card(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    """One decision's card, polled by htmx while its escalation waits: once the approver answers, the
    card shows the outcome (the granted amount first) and the header's counts come along, without a
    reload; the answer without the polling trigger stops it."""
    case = get_object_or_404(cases_visible_to(employee=request.employee), pk=pk)
    decisions = decisions_for_case(case=case).prefetch_related(_steps())
    d = with_people([get_object_or_404(decisions, pk=decision_pk)])[0]
    escalation = getattr(d, "escalation", None)
    if escalation is not None:
        escalation.overdue = escalation.is_overdue(timezone.now())
        escalation.can_withdraw = may_withdraw(escalation=escalation, employee=request.employee)
    return render(request, "cases/card_polled.html", {"case": case, "d": d})


@require_POST
@staff_required
def case_reopen_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(cases_visible_to(employee=request.employee), pk=pk)
    try:
        case_reopen(employee=request.employee, case=case, reason=request.POST.get("reason", ""))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Case #%(id)s is open again.") % {"id": case.pk})
    return redirect("case-detail", pk=case.pk)


@require_POST
@staff_required
def case_reassign_view(request: HttpRequest, pk: int) -> HttpResponse:
    case = get_object_or_404(cases_visible_to(employee=request.employee), pk=pk)
    assignee = case_assignees(case=case).filter(user__username=request.POST.get("assigned_to", "")).first()
    try:
        if assignee is None:
            raise InvalidInput(_("Choose someone of the case's team."))
        case = case_reassign(
            employee=request.employee, case=case, assignee=assignee, reason=request.POST.get("reason", "")
        )
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Case #%(id)s is now with %(name)s.") % {"id": case.pk, "name": assignee})
    return redirect("case-detail", pk=case.pk)


@require_GET
@staff_required
def decision_outcome(request: HttpRequest, pk: int, decision_pk: int) -> HttpResponse:
    """The decision form's answer, polled by htmx while its escalation waits for routing (which runs
    in a worker after the answer was sent). Once routed it names the approver, comes without the
    polling trigger, and brings the case's decision list along (out of band) so both agree."""
    case = get_object_or_404(cases_visible_to(employee=request.employee), pk=pk)
    decision = with_people([get_object_or_404(decisions_for_case(case=case), pk=decision_pk)])[0]
    context = {"case": case, "outcome": decision}
    escalation = getattr(decision, "escalation", None) if decision.status == Decision.Status.ESCALATED else None
    if escalation is not None and escalation.status == Escalation.Status.ROUTING:
        return render(request, "cases/detail.html#outcome", context)
    return render(request, "cases/outcome.html", context | {"decisions": _case_decisions(case, request.employee)})
