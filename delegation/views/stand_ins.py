"""Stand-ins: given, held and below me; set one up (`delegation_create`); end one (`delegation_end`)."""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation.forms import DelegationForm
from delegation.selectors import (
    active_decision_types,
    delegations_visible_to,
    employee_named,
    may_end_delegation,
    people_below,
    stand_in_candidates,
)
from delegation.services import delegation_create, delegation_end
from delegation.views.common import page_context
from empower.errors import DomainError
from empower.forms import add_domain_error
from empower.selectors import subtree_ids
from empower.views import staff_required

DELEGATIONS_SHOWN = 200


def _delegation_form(request: HttpRequest, data=None) -> DelegationForm:
    me = request.employee
    below = people_below(employee=me) if me.reports.exists() else []
    candidates = stand_in_candidates(employee=me)
    return DelegationForm(data, types=active_decision_types(), delegators=[me, *below], candidates=candidates)


def _delegations_page(request: HttpRequest, form: DelegationForm, status: int = 200, **extra) -> HttpResponse:
    me = request.employee
    now = timezone.now()
    delegations = list(delegations_visible_to(employee=me)[:DELEGATIONS_SHOWN])
    below = set(subtree_ids(employee=me, include_self=True))
    for delegation in delegations:
        delegation.state = delegation.state_at(now)
        # "End now" exactly where `delegation_end` accepts it: the same predicate.
        delegation.can_end = may_end_delegation(delegation=delegation, actor=me, at=now, below=below)
    context = {
        "form": form,
        "given": [d for d in delegations if d.delegator_id == me.pk],
        "held": [d for d in delegations if d.delegate_id == me.pk],
        "below": [d for d in delegations if me.pk not in (d.delegator_id, d.delegate_id)],
        **page_context(request),
        **extra,
    }
    return render(request, "authority/delegations.html", context, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def delegations_view(request: HttpRequest) -> HttpResponse:
    """Stand-ins given, held and below me, and a form to set one up (through `delegation_create`)."""
    if request.method == "GET":
        return _delegations_page(request, _delegation_form(request))
    form = _delegation_form(request, request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        delegate = employee_named(username=data["to"].strip())
        if delegate is None:
            form.add_error("to", _("No such colleague."))
        else:
            try:
                delegation = delegation_create(
                    delegator=data["delegator"] or request.employee,
                    delegate=delegate,
                    decision_types=data["decision_types"],
                    starts_at=data["starts_at"] or timezone.now(),
                    ends_at=data["ends_at"],
                    reason=data["reason"],
                    created_by=request.employee,
                )
            except DomainError as error:
                add_domain_error(form, error)
                status = error.status
            else:
                messages.success(
                    request,
                    _("%(delegate)s stands in for %(delegator)s until %(until)s.")
                    % {
                        "delegate": delegation.delegate,
                        "delegator": delegation.delegator,
                        "until": date_format(timezone.localtime(delegation.ends_at), "SHORT_DATETIME_FORMAT"),
                    },
                )
                return redirect("delegations")
    return _delegations_page(request, form, status)


@require_GET
@staff_required
def stand_in_candidates_view(request: HttpRequest) -> HttpResponse:
    """The picker's options for a search (htmx swaps them into the stand-in list)."""
    candidates = stand_in_candidates(employee=request.employee, q=request.GET.get("q", ""))
    return render(request, "authority/_candidates.html", {"candidates": candidates})


@require_POST
@staff_required
def delegation_end_view(request: HttpRequest, pk: int) -> HttpResponse:
    """End a stand-in now (`delegation_end`): the delegator or someone above them."""
    delegation = delegations_visible_to(employee=request.employee).filter(pk=pk).first()
    if delegation is None:
        raise Http404
    try:
        delegation_end(delegation=delegation, actor=request.employee, reason=request.POST.get("reason", ""))
    except DomainError as error:
        return _delegations_page(request, _delegation_form(request), error.status, end_refusal=str(error.message))
    messages.success(
        request,
        _("The delegation from %(delegator)s to %(delegate)s has ended.")
        % {
            "delegator": delegation.delegator,
            "delegate": delegation.delegate,
        },
    )
    return redirect("delegations")
