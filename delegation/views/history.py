"""An employee's authority over time (who changed what, when and why) and "what could they decide at…"."""

from decimal import Decimal

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from delegation.authority import CAPS
from delegation.forms import MomentForm
from delegation.selectors import (
    active_decision_types,
    authority_at,
    employee_visible_to,
    timeline_with_stand_ins,
)
from delegation.views.common import page_context
from empower.models import AuditRecord
from empower.money import format_money
from empower.views import staff_required

TIMELINE_PAGE_SIZE = 50

ACTIONS = {
    "limit.created": gettext_lazy("Personal limit set"),
    "limit.changed": gettext_lazy("Limit changed"),
    "limit.deleted": gettext_lazy("Personal limit removed: back to the role's"),
    "limit.started": gettext_lazy("Temporary limit started"),
    "limit.expired": gettext_lazy("Temporary limit ended"),
    "limit.ended": gettext_lazy("Temporary limit ended early"),
    "delegation.created": gettext_lazy("Stand-in set up"),
    "delegation.started": gettext_lazy("Stand-in started"),
    "delegation.ended": gettext_lazy("Stand-in ended early"),
    "delegation.expired": gettext_lazy("Stand-in ended on time"),
}
# A role's default concerns everyone of the role: its records read as such on a person's timeline.
ROLE_ACTIONS = {
    "limit.created": gettext_lazy("Role default set"),
    "limit.changed": gettext_lazy("Role default changed"),
    "limit.deleted": gettext_lazy("Role default removed"),
}
SOURCES = {
    "role": gettext_lazy("role"),
    "personal": gettext_lazy("personal"),
    "stand-in": gettext_lazy("stand-in"),
    "none": gettext_lazy("no authority"),
}
FIELDS = {
    "source": gettext_lazy("where from"),
    "per_decision": gettext_lazy("per decision"),
    "per_day": gettext_lazy("per day"),
    "per_month": gettext_lazy("per month"),
    "per_customer_month": gettext_lazy("per customer per month"),
    "starts_at": gettext_lazy("from"),
    "ends_at": gettext_lazy("until"),
    "delegator": gettext_lazy("whose authority"),
    "delegate": gettext_lazy("stand-in"),
    "decision_types": gettext_lazy("decision types"),
    "ended_at": gettext_lazy("ended at"),
}


def _shown(key: str, value) -> str:
    """One recorded value as people read it: money with the currency, moments in local time."""
    if key in CAPS:
        return _("no limit") if value is None else format_money(Decimal(value), settings.EMPOWER_CURRENCY)
    if value in (None, ""):
        return "—"
    if key == "source":
        return str(SOURCES.get(value, value))
    if key in ("starts_at", "ends_at", "ended_at"):
        moment = parse_datetime(str(value))
        if moment is not None:
            return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _entry(record: AuditRecord) -> dict:
    """A timeline entry: what changed from before to after, field by field."""
    before, after = record.before, record.after
    changes = []
    for key, label in FIELDS.items():
        old = before.get(key) if before else None
        new = after.get(key) if after else None
        present = (before is not None and key in before) or (after is not None and key in after)
        if present and (old != new or before is None or after is None):
            changes.append(
                {
                    "field": label,
                    "before": _shown(key, old) if before is not None and key in before else "—",
                    "after": _shown(key, new) if after is not None and key in after else "—",
                }
            )
    state = after or before or {}
    if state.get("role"):
        action = ROLE_ACTIONS.get(record.action, ACTIONS.get(record.action, record.action))
    elif record.action == "limit.ended" and after is None:
        action = gettext_lazy("Scheduled temporary limit called off")
    else:
        action = ACTIONS.get(record.action, record.action)
    return {
        "record": record,
        "action": action,
        "decision_type": state.get("decision_type"),
        "changes": changes,
    }


@require_GET
@staff_required
def employee_authority_history(request: HttpRequest, username: str) -> HttpResponse:
    """An employee's authority over time (who changed what, when and why) and "what could they decide at…"."""
    person = employee_visible_to(viewer=request.employee, username=username)
    if person is None:
        raise Http404
    # With the delegations they hold as a stand-in, whose records name the delegator as subject.
    timeline = timeline_with_stand_ins(employee=person)
    page = Paginator(timeline, TIMELINE_PAGE_SIZE).get_page(request.GET.get("page"))
    moment_form = MomentForm(request.GET if "at" in request.GET else None, auto_id="moment-%s")
    status, at, lines, as_scheduled = 200, None, [], False
    if moment_form.is_bound:
        if moment_form.is_valid():
            at = moment_form.cleaned_data["at"] or timezone.now()
            lines = authority_at(employee=person, at=at)
            # A moment ahead is answered from what is scheduled now (see `authority_at`).
            as_scheduled = at > timezone.now()
        else:
            status = 400
    types = {t.code: t.name for t in active_decision_types()}
    entries = []
    for record in page:
        entry = _entry(record)
        entry["decision_type"] = types.get(entry["decision_type"], entry["decision_type"])
        entries.append(entry)
    context = {
        "person": person,
        "page": page,
        "entries": entries,
        "moment_form": moment_form,
        "at": at,
        "as_scheduled": as_scheduled,
        "lines": lines,
        **page_context(request),
    }
    return render(request, "authority/history.html", context, status=status)
