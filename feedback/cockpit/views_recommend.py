"""The cockpit's pages for limit recommendations, track records and the what-if.

Thin: the rules live in `feedback.cockpit.recommendations`, `track_record` and `what_if`; buttons are
shown from the same predicates the services enforce (`may_act_on`), refusals rendered with the one
adapter (`add_domain_error`). Every table also comes as CSV (`?format=csv`).
"""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation.models import CAPS, DecisionType
from delegation.selectors import employee_named, employee_visible_to
from empower.errors import DomainError
from empower.forms import add_domain_error
from empower.models import Role, Team
from empower.money import format_money
from empower.views import staff_required
from feedback.cockpit.csv import csv_response
from feedback.cockpit.models import TrackRecordSnapshot
from feedback.cockpit.recommendations import (
    evidence_rows,
    may_act_on,
    recommendation_accept,
    recommendation_dismiss,
    recommendations_for,
    subject_label,
)
from feedback.cockpit.track_record import period_start, track_record
from feedback.cockpit.track_record_snapshots import records_below
from feedback.cockpit.what_if import (
    DEFAULT_DAYS,
    MAX_DAYS,
    roles_and_teams_below,
    what_if,
    what_if_apply,
    what_if_reason,
    what_if_scope,
)
from feedback.models import LimitRecommendation
from feedback.selectors import DEFAULT_INSIGHT_PERIOD, INSIGHT_PERIODS, may_see_insights

RECORDS_PER_PAGE = 100


def _managers_only(request: HttpRequest) -> HttpResponse | None:
    if not may_see_insights(employee=request.employee):
        return render(request, "feedback/managers_only.html", status=403)
    return None


def _period(request: HttpRequest) -> str:
    period = request.GET.get("period", DEFAULT_INSIGHT_PERIOD)
    return period if period in INSIGHT_PERIODS else DEFAULT_INSIGHT_PERIOD


# --- recommendations -----------------------------------------------------------------------------


class DismissForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Why not"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


@require_GET
@staff_required
def recommendations(request: HttpRequest) -> HttpResponse:
    """The open proposals the manager may act on, the strongest evidence first."""
    if refused := _managers_only(request):
        return refused
    rows = list(recommendations_for(employee=request.employee))
    if request.GET.get("format") == "csv":
        header = ["id", "decision_type", "employee", "role", "team", "manager", "limit", "current", "proposed"]
        header += ["escalations", "answered", "approved_as_asked", "share", "days"]
        return csv_response(
            header,
            [
                [
                    row.pk,
                    row.decision_type.code,
                    row.employee.username if row.employee_id else "",
                    row.role.code if row.role_id else "",
                    row.team.name if row.team_id else "",
                    row.manager.username,
                    row.limit,
                    f"{row.current:.2f}",
                    f"{row.proposed:.2f}",
                    row.escalations,
                    row.answered,
                    row.approved_as_asked,
                    f"{row.share:.4f}",
                    row.days,
                ]
                for row in rows
            ],
            filename="recommendations.csv",
        )
    return render(
        request,
        "feedback/cockpit/recommendations_list.html",
        {"rows": [(row, subject_label(row)) for row in rows], "section": "recommendations"},
    )


def _recommendation_seen_by(request: HttpRequest, pk: int) -> LimitRecommendation:
    row = (
        LimitRecommendation.objects.select_related("decision_type", "employee__user", "role", "team", "manager__user")
        .filter(pk=pk)
        .first()
    )
    if row is None or not may_act_on(recommendation=row, employee=request.employee):
        raise Http404(_("No such recommendation, or not one you may act on."))
    return row


@require_GET
@staff_required
def recommendation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One proposal and its evidence: every escalation, its outcome, approver, note and the customer's CSAT."""
    row = _recommendation_seen_by(request, pk)
    evidence = evidence_rows(recommendation=row)
    if request.GET.get("format") == "csv":
        header = [
            "decision",
            "case",
            "made_by",
            "amount",
            "approved",
            "outcome",
            "approver",
            "note",
            "csat",
            "created_at",
        ]
        return csv_response(
            header,
            [
                [
                    e.decision_id,
                    e.case_id,
                    e.made_by,
                    f"{e.amount:.2f}",
                    "" if e.final_amount is None else f"{e.final_amount:.2f}",
                    e.outcome,
                    e.approver or "",
                    e.note,
                    e.csat or "",
                    e.created_at.isoformat(),
                ]
                for e in evidence
            ],
            filename=f"recommendation-{row.pk}-evidence.csv",
        )
    context = {
        "row": row,
        "label": subject_label(row),
        "evidence": evidence,
        "is_open": row.status == LimitRecommendation.Status.OPEN,
        "dismiss_form": DismissForm(),
        "section": "recommendations",
    }
    return render(request, "feedback/cockpit/recommendations_detail.html", context)


@require_POST
@staff_required
def recommendation_accept_view(request: HttpRequest, pk: int) -> HttpResponse:
    row = _recommendation_seen_by(request, pk)
    try:
        row, _limits = recommendation_accept(recommendation_id=pk, employee=request.employee)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("cockpit-recommendation-detail", pk=pk)
    messages.success(
        request,
        _("Accepted: %(subject)s may now decide up to %(amount)s per decision.")
        % {"subject": subject_label(row), "amount": format_money(row.proposed, settings.EMPOWER_CURRENCY)},
    )
    return redirect("cockpit-recommendations")


@require_POST
@staff_required
def recommendation_dismiss_view(request: HttpRequest, pk: int) -> HttpResponse:
    row = _recommendation_seen_by(request, pk)
    form = DismissForm(request.POST)
    if form.is_valid():
        try:
            recommendation_dismiss(recommendation_id=pk, employee=request.employee, reason=form.cleaned_data["reason"])
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("Dismissed. It comes back only if the evidence grows by half."))
            return redirect("cockpit-recommendations")
    context = {
        "row": row,
        "label": subject_label(row),
        "evidence": evidence_rows(recommendation=row),
        "is_open": row.status == LimitRecommendation.Status.OPEN,
        "dismiss_form": form,
        "section": "recommendations",
    }
    return render(request, "feedback/cockpit/recommendations_detail.html", context, status=400)


# --- track records -------------------------------------------------------------------------------

RECORD_HEADER = ["username", *TrackRecordSnapshot.FIGURES]


def _record_cells(record) -> list:
    return [getattr(record, name) for name in RECORD_HEADER]


@require_GET
@staff_required
def track_records(request: HttpRequest) -> HttpResponse:
    """Managers: the records of everyone below them, where the record most supports more authority
    first (from the periodic snapshot: see `feedback.cockpit.track_record_snapshots`). Anyone else:
    their own record."""
    employee = request.employee
    period = _period(request)
    if not may_see_insights(employee=employee):
        return redirect(f"{reverse('cockpit-track-record', args=[employee.username])}?period={period}")
    listing = records_below(manager=employee, period=period)
    if request.GET.get("format") == "csv":
        rows = [_record_cells(r) for r in listing.records]
        return csv_response(RECORD_HEADER, rows, filename=f"track-records-{period}.csv")
    page = Paginator(listing.records, RECORDS_PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "as_of": listing.as_of,
        "period": period,
        "periods": list(INSIGHT_PERIODS),
        "section": "track-records",
    }
    return render(request, "feedback/cockpit/track_records_list.html", context)


@require_GET
@staff_required
def track_record_detail(request: HttpRequest, username: str) -> HttpResponse:
    """One person's record: the employee themselves (worded as encouragement) and those above them."""
    employee = employee_visible_to(viewer=request.employee, username=username)
    if employee is None:
        raise Http404(_("No such employee, or not one whose record you may see."))
    period = _period(request)
    record = track_record(employee=employee, since=period_start(period))
    if request.GET.get("format") == "csv":
        return csv_response(RECORD_HEADER, [_record_cells(record)], filename=f"track-record-{username}-{period}.csv")
    context = {
        "record": record,
        "person": employee,
        "own": employee.pk == request.employee.pk,
        "period": period,
        "periods": list(INSIGHT_PERIODS),
        "section": "track-records",
    }
    return render(request, "feedback/cockpit/track_records_detail.html", context)


# --- what if -------------------------------------------------------------------------------------


class WhatIfForm(forms.Form):
    decision_type = forms.ModelChoiceField(
        label=gettext_lazy("Decision type"), queryset=DecisionType.objects.filter(is_active=True), to_field_name="code"
    )
    employee = forms.CharField(label=gettext_lazy("One person (username)"), required=False)
    role = forms.ModelChoiceField(
        label=gettext_lazy("Or a role"), queryset=Role.objects.none(), required=False, to_field_name="code"
    )
    team = forms.ModelChoiceField(label=gettext_lazy("In one team"), queryset=Team.objects.none(), required=False)
    per_decision = forms.DecimalField(label=gettext_lazy("Per decision"), required=False, min_value=0, decimal_places=2)
    per_day = forms.DecimalField(label=gettext_lazy("Per day"), required=False, min_value=0, decimal_places=2)
    per_month = forms.DecimalField(label=gettext_lazy("Per month"), required=False, min_value=0, decimal_places=2)
    per_customer_month = forms.DecimalField(
        label=gettext_lazy("Per customer per month"), required=False, min_value=0, decimal_places=2
    )
    days = forms.IntegerField(label=gettext_lazy("Days back"), min_value=1, max_value=MAX_DAYS, initial=DEFAULT_DAYS)
    reason = forms.CharField(label=gettext_lazy("Note for “Apply this” (optional)"), required=False, max_length=1000)

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        roles, teams = roles_and_teams_below(viewer=viewer)
        self.fields["role"].queryset = roles
        self.fields["team"].queryset = teams

    def proposed(self) -> dict[str, Decimal]:
        # A limit left empty is not proposed: it stays as each person's is now.
        return {cap: self.cleaned_data[cap] for cap in CAPS if self.cleaned_data.get(cap) is not None}


@require_http_methods(["GET", "POST"])
@staff_required
def what_if_page(request: HttpRequest) -> HttpResponse:
    """Ask what the last days would have looked like under proposed limits (GET), or apply them (POST)."""
    if refused := _managers_only(request):
        return refused
    data = request.POST if request.method == "POST" else (request.GET if "decision_type" in request.GET else None)
    form = WhatIfForm(data, viewer=request.employee, initial={"days": DEFAULT_DAYS})
    result = scope = None
    status = 200
    if data is not None and form.is_valid():
        try:
            person = None
            if form.cleaned_data["employee"]:
                person = employee_named(username=form.cleaned_data["employee"].strip())
                if person is None:
                    form.add_error("employee", _("No such employee."))
                    raise _FormInvalid
            scope = what_if_scope(
                viewer=request.employee,
                decision_type=form.cleaned_data["decision_type"],
                employee=person,
                role=form.cleaned_data["role"],
                team=form.cleaned_data["team"],
                proposed=form.proposed(),
                days=form.cleaned_data["days"],
            )
            result = what_if(scope=scope)
            if request.method == "POST":
                reason = what_if_reason(scope=scope, result=result)
                note = form.cleaned_data["reason"].strip()
                what_if_apply(viewer=request.employee, scope=scope, reason=f"{reason} {note}".strip())
                messages.success(request, _("Applied. The new limits judge the very next decision."))
                return redirect("cockpit-what-if")
        except _FormInvalid:
            status = 400
        except DomainError as error:
            add_domain_error(form, error)
            status = 400 if request.method == "POST" or result is None else 200
    elif data is not None:
        status = 400
    if result is not None and request.GET.get("format") == "csv":
        return csv_response(
            ["decision", "before", "after"],
            [[c["decision"], c["before"], c["after"]] for c in result.changed],
            filename="what-if.csv",
        )
    context = {"form": form, "result": result, "scope": scope, "section": "what-if"}
    return render(request, "feedback/cockpit/what_if.html", context, status=status)


class _FormInvalid(Exception):
    pass
