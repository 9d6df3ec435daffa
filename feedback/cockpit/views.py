"""The cockpit's pages: decisions at the edge, the inverted pyramid, their CSV exports; and the login
that sends a director to the pyramid. Thin: parse the query, call one selector, draw the charts
(server-side SVG), render."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from delegation.models import CAPS
from empower.errors import DomainError, InvalidInput
from empower.views import staff_required
from feedback.cockpit import charts, selectors, tables
from feedback.cockpit.csv import csv_response
from feedback.selectors import feedback_insights

LIMIT_LABELS = {
    "per_decision": gettext_lazy("per decision"),
    "per_day": gettext_lazy("per day"),
    "per_month": gettext_lazy("per month"),
    "per_customer_month": gettext_lazy("per customer per month"),
}


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)} %"


def _query(request: HttpRequest) -> tuple[str, str | None]:
    period = request.GET.get("period", selectors.DEFAULT_PERIOD)
    period = period if period in selectors.PERIODS else selectors.DEFAULT_PERIOD
    return period, (request.GET.get("team") or None)


def _refused(request: HttpRequest, error: DomainError, period: str) -> HttpResponse:
    if isinstance(error, InvalidInput):  # an unknown team: show every team, say so
        context = {"error": error.message, "period": period, "periods": list(selectors.PERIODS)}
        return render(request, "feedback/cockpit/refused.html", context, status=400)
    return render(request, "feedback/managers_only.html", status=error.status)


def _outcomes(total: selectors.DecisionRow) -> list[dict]:
    labels = {
        "approved_as_asked": _("Approved as asked"),
        "approved_lower": _("Approved for less"),
        "rejected": _("Rejected"),
        "withdrawn": _("Withdrawn"),
        "waiting": _("Still waiting"),
        "moved_up_overdue": _("Moved up for a deadline"),
        "moved_up_capacity": _("Moved up for capacity"),
    }
    shares = total.outcome_shares
    return [{"label": label, "count": getattr(total, key), "share": shares[key]} for key, label in labels.items()]


@require_GET
@staff_required
def decisions(request: HttpRequest) -> HttpResponse:
    """Decisions at the edge: the headline share, by team, by decision type, by week, limits hit,
    what became of escalations and how long approvers took."""
    period, team = _query(request)
    try:
        report = selectors.decisions_report(employee=request.employee, period=period, team=team)
    except DomainError as error:
        return _refused(request, error, period)
    total = report.total
    outcomes = _outcomes(total)
    limits = [{"label": LIMIT_LABELS[cap], "count": total.limits_hit[cap]} for cap in CAPS]
    context = {
        "report": report,
        "currency": settings.EMPOWER_CURRENCY,
        "total": total,
        "period": period,
        "periods": list(selectors.PERIODS),
        "team": team or "",
        "teams_choice": report.teams if team is None else None,
        "outcomes": outcomes,
        "limits": limits,
        "trend_chart": charts.line_chart(
            [(date_format(w.week, "MONTH_DAY_FORMAT"), w.at_edge_share) for w in report.weeks],
            title=_("Share decided at the edge, week by week"),
            chart_id="chart-trend",
            table_id="table-weeks",
        ),
        "teams_chart": charts.bar_chart(
            [charts.Bar(r.team, r.at_edge_share or 0, _percent(r.at_edge_share)) for r in report.teams if r.decisions],
            title=_("Share decided at the edge, by team"),
            chart_id="chart-teams",
            table_id="table-teams",
            maximum=1,
        ),
        "types_chart": charts.bar_chart(
            [charts.Bar(t.decision_type, t.escalation_rate or 0, _percent(t.escalation_rate)) for t in report.types],
            title=_("Escalation rate by decision type"),
            chart_id="chart-types",
            table_id="table-types",
            maximum=1,
        ),
        "limits_chart": charts.bar_chart(
            [charts.Bar(str(item["label"]), item["count"], f"{item['count']:,}") for item in limits],
            title=_("Which limits stop people"),
            chart_id="chart-limits",
            table_id="table-limits",
        ),
        "outcomes_chart": charts.bar_chart(
            [charts.Bar(str(o["label"]), o["share"] or 0, _percent(o["share"])) for o in outcomes],
            title=_("What became of the escalations"),
            chart_id="chart-outcomes",
            table_id="table-outcomes",
            maximum=1,
        ),
    }
    return render(request, "feedback/cockpit/decisions.html", context)


@require_GET
@staff_required
def pyramid(request: HttpRequest) -> HttpResponse:
    """The organization upside down, sized by where decisions were actually made."""
    period, team = _query(request)
    try:
        data = selectors.pyramid(employee=request.employee, period=period, team=team)
    except DomainError as error:
        return _refused(request, error, period)
    levels = [("customers", _("Customers"), data.total)] + [(lv.key, lv.label, lv.decisions) for lv in data.levels]
    context = {
        "pyramid": data,
        "period": period,
        "periods": list(selectors.PERIODS),
        "team": team or "",
        "pyramid_chart": charts.pyramid_chart(
            levels,
            title=_("The inverted pyramid: who settled the customers' decisions"),
            chart_id="chart-pyramid",
            table_id="table-pyramid",
        ),
        "trend_chart": charts.line_chart(
            [(date_format(w.week, "MONTH_DAY_FORMAT"), w.at_edge_share) for w in data.weeks],
            title=_("Share decided at the edge, week by week"),
            chart_id="chart-trend",
            table_id="table-weeks",
        ),
    }
    return render(request, "feedback/cockpit/pyramid.html", context)


def _satisfaction(*, employee, period: str, team: str | None = None):
    refusal = selectors.cockpit_refusal(employee=employee)
    if refusal:
        raise refusal
    return feedback_insights(employee=employee, period=period)


EXPORTS = {
    "teams": (selectors.decisions_report, tables.teams_table),
    "types": (selectors.decisions_report, tables.types_table),
    "weeks": (selectors.decisions_report, tables.weeks_table),
    "pyramid": (selectors.pyramid, tables.pyramid_table),
    "satisfaction": (_satisfaction, tables.satisfaction_table),
}


@require_GET
@staff_required
def export(request: HttpRequest, table: str) -> HttpResponse:
    """Any cockpit table as CSV, with the page's period and team."""
    if table not in EXPORTS:
        raise Http404
    select, to_table = EXPORTS[table]
    period, team = _query(request)
    try:
        data = select(employee=request.employee, period=period, team=team)
    except DomainError as error:
        return _refused(request, error, period)
    header, rows = to_table(data)
    return csv_response(header, rows, filename=f"{table}-{period}.csv")


class LoginView(auth_views.LoginView):
    """Django's login; without a `next`, a director lands on the inverted pyramid, the first thing
    they see, and everyone else on their queue (`LOGIN_REDIRECT_URL`)."""

    def get_default_redirect_url(self) -> str:
        employee = getattr(self.request.user, "employee", None)
        if employee is not None and selectors.lands_on_pyramid(employee=employee):
            return reverse("cockpit-pyramid")
        return super().get_default_redirect_url()
