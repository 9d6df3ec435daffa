"""Pages where managers shape authority: the matrix of everyone below them, role defaults, one's
own authority, stand-ins, and each employee's history.

Each view parses input, calls one service or selector and renders; every rule (who may grant what,
never one's own, never more than one holds) lives in `delegation.services`, so a refusal here is
the service's own message. With htmx a matrix cell swaps in place; without JavaScript the same
links and forms lead to plain pages and redirects.
"""

import dataclasses
from datetime import datetime
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation import services
from delegation.authority import CAPS, NO_AUTHORITY, Limits
from delegation.authority_forms import DelegationForm, LimitForm, MomentForm, RoleLimitForm
from delegation.models import DecisionType, Delegation
from delegation.selectors import (
    AuthorityLine,
    active_colleagues,
    active_decision_types,
    active_stand_ins,
    authority_at,
    authority_matrix,
    authority_of,
    delegations_held,
    delegations_visible_to,
    employee_named,
    employee_visible_to,
    matrix_teams,
    own_limits,
    people_below,
    personal_limits_of,
    role_defaults,
    running_windows,
    stand_in_duties,
    standing_limits,
    timeline_with_stand_ins,
    windows_of,
)
from delegation.services import delegation_create, delegation_end, limit_clear, limit_set, role_limit_set
from empower.errors import DomainError
from empower.models import AuditRecord, Employee, Role
from empower.selectors import subtree_ids
from empower.views import staff_required

TIMELINE_PAGE_SIZE = 50
DELEGATIONS_SHOWN = 200


def _refusal(form: forms.Form, error: DomainError) -> str:
    """Show a service's refusal: each field error beside its field, the refusal itself above the form."""
    for field, field_messages in (error.field_errors or {}).items():
        for message in field_messages if isinstance(field_messages, list | tuple) else [field_messages]:
            form.add_error(field if field in form.fields else None, str(message))
    return str(error.message)


def _common(request: HttpRequest) -> dict:
    """What every page here shows: the stand-in banner, the currency."""
    return {"stand_in_for": delegations_held(employee=request.employee), "currency": settings.EMPOWER_CURRENCY}


def _decision_type(code: str) -> DecisionType:
    return get_object_or_404(DecisionType, code=code)


# The matrix ---------------------------------------------------------------------------------------------


# Up to this many people the matrix shows everyone at once; beyond, each team opens on demand, so a
# large organization's page stays light (each team is a constant number of queries).
MATRIX_ALL_AT_ONCE = 150


@require_GET
@staff_required
def authority_matrix_view(request: HttpRequest) -> HttpResponse:
    """Everyone below the manager, grouped by team: each type's limits, their source and today's use.

    `?team=<id>` shows one team (with htmx, just its table: what an opened team loads).
    """
    manager = request.employee
    index = matrix_teams(manager=manager)
    team_id = _team_of(request, index)
    types = active_decision_types()
    context = {
        "types": types,
        "index": index,
        "team_id": team_id,
        # The most the manager can grant: their own caps (no use needed).
        "own": _own_caps(manager, types) if index else [],
        **_common(request),
    }
    if team_id is None and sum(count for *_, count in index) > MATRIX_ALL_AT_ONCE:
        return render(request, "authority/matrix.html", context)  # the teams, each opened on demand
    teams = authority_matrix(manager=manager, team_id=team_id, types=types)
    people = [row.employee.pk for rows in teams.values() for row in rows]
    duties = stand_in_duties(employee_ids=people) if people else {}
    context["teams"] = [
        (team, [{"row": row, "duties": duties.get(row.employee.pk, [])} for row in rows])
        for team, rows in teams.items()
    ]
    if team_id is not None and request.htmx:
        return render(request, "authority/matrix.html#team-table", {**context, "rows": context["teams"][0][1]})
    return render(request, "authority/matrix.html", context)


def _team_of(request: HttpRequest, index: list[tuple[int, str, int]]) -> int | None:
    """The `?team=` asked for: one of the teams below the manager (anything else is not found)."""
    raw = request.GET.get("team")
    if raw is None:
        return None
    if not raw.isdigit() or int(raw) not in {team_id for team_id, *_ in index}:
        raise Http404
    return int(raw)


def _own_caps(manager: Employee, types: list[DecisionType]) -> list[tuple[DecisionType, Limits]]:
    limits = own_limits(employees=[manager], decision_type_ids=[t.pk for t in types])
    return [(t, limits[(manager.pk, t.pk)]) for t in types]


def _cell_line(person: Employee, decision_type: DecisionType) -> AuthorityLine:
    """One matrix cell, fresh: the person's own limits and use, and who stands in for them."""
    line = next((x for x in authority_of(employee=person).lines if x.decision_type.pk == decision_type.pk), None)
    if line is None:  # an inactive type has no cell
        raise Http404
    stand_in = active_stand_ins(employee_ids=[person.pk]).get((person.pk, decision_type.pk))
    window = running_windows(employee_ids=[person.pk], decision_type_ids=[decision_type.pk])
    return dataclasses.replace(line, acting_for=stand_in, window=window.get((person.pk, decision_type.pk)))


def _below(request: HttpRequest, username: str) -> Employee:
    """Someone below the caller: anyone else has no cell in their matrix."""
    person = employee_visible_to(viewer=request.employee, username=username)
    if person is None or person.pk == request.employee.pk:
        raise Http404
    return person


def _cell_context(person: Employee, decision_type: DecisionType, **extra) -> dict:
    return {
        "person": person,
        "line": _cell_line(person, decision_type),
        "currency": settings.EMPOWER_CURRENCY,
        **extra,
    }


@require_GET
@staff_required
def limit_cell(request: HttpRequest, username: str, decision_type: str) -> HttpResponse:
    """A matrix cell as it stands (htmx "cancel"); without JavaScript, back to the matrix."""
    person = _below(request, username)
    if not request.htmx:
        return redirect(f"{reverse('authority-matrix')}#row-{person.pk}")
    return render(request, "authority/matrix.html#cell", _cell_context(person, _decision_type(decision_type)))


def _limit_form(person: Employee, data=None, limits: Limits | None = None) -> LimitForm:
    auto_id = f"limit-{person.pk}-%s"
    if data is not None:
        return LimitForm(data, auto_id=auto_id)
    return LimitForm.starting_from(limits or NO_AUTHORITY, auto_id=auto_id)


def _limit_form_context(person, decision_type, form, refusal="") -> dict:
    standing = standing_limits(employee=person, decision_type=decision_type)
    now = timezone.now()
    windows = windows_of(employee=person, decision_type=decision_type, at=now)
    return {
        "person": person,
        "decision_type": decision_type,
        "form": form,
        "refusal": refusal,
        # Back to the role's limits: the standing personal limit goes, and so do temporary ones.
        "can_clear": standing.source == "personal" or bool(windows),
        "standing": standing,
        "windows": windows,
        "running_window": next((w for w in windows if w.starts_at is None or w.starts_at <= now), None),
        "currency": settings.EMPOWER_CURRENCY,
    }


def _render_limit_form(request, context: dict, status: int = 200) -> HttpResponse:
    if request.htmx:
        return render(request, "authority/matrix.html#limit-form", context, status=status)
    return render(request, "authority/limit_page.html", {**context, **_common(request)}, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def limit_edit(request: HttpRequest, username: str, decision_type: str) -> HttpResponse:
    """Edit one cell: set the person's limits (`limit_set`) or return them to their role's (`limit_clear`)."""
    decision_type_ = _decision_type(decision_type)
    if request.method == "GET":
        person = _below(request, username)
        limits = standing_limits(employee=person, decision_type=decision_type_)
        return _render_limit_form(
            request, _limit_form_context(person, decision_type_, _limit_form(person, limits=limits))
        )
    person = employee_named(username=username)
    if person is None:
        raise Http404
    form = _limit_form(person, request.POST)
    clearing = request.POST.get("action") == "clear"
    status, refusal = 400, ""
    if form.is_valid():
        data = form.cleaned_data
        try:
            if clearing:
                limit_clear(
                    granter=request.employee, employee=person, decision_type=decision_type_, reason=data["reason"]
                )
            else:
                limit_set(
                    granter=request.employee,
                    employee=person,
                    decision_type=decision_type_,
                    values=form.values(),
                    reason=data["reason"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                )
        except DomainError as error:
            refusal, status = _refusal(form, error), error.status
        else:
            values = {"name": person, "type": decision_type_.name}
            temporary = data["starts_at"] or data["ends_at"]
            window = None
            if not clearing and not temporary:
                window = running_windows(employee_ids=[person.pk], decision_type_ids=[decision_type_.pk])
                window = window.get((person.pk, decision_type_.pk))
            if clearing:
                note = _("%(name)s is back to their role's limits for %(type)s.") % values
            elif window is not None:
                # Saved, but not in force yet: say so, or the unchanged cell reads as a failed save.
                note = _(
                    "Saved: %(name)s's standing limits for %(type)s. A temporary limit applies until "
                    "%(until)s; the saved limits apply from then."
                ) % (values | {"until": _moment(window.ends_at)})
            elif temporary:
                note = _("Saved: %(name)s's temporary limits for %(type)s.") % values
            else:
                note = _("Saved: %(name)s's limits for %(type)s.") % values
            if request.htmx:
                return render(request, "authority/matrix.html#cell", _cell_context(person, decision_type_, note=note))
            messages.success(request, note)
            return redirect(f"{reverse('authority-matrix')}#row-{person.pk}")
    if employee_visible_to(viewer=request.employee, username=username) in (None, request.employee):
        # Not someone below the caller: only the refusal, nothing of the person's limits.
        if not refusal:
            raise Http404
        return _render_refusal(request, refusal, status)
    context = _limit_form_context(person, decision_type_, form, refusal)
    return _render_limit_form(request, context, status)


def _moment(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


@require_POST
@staff_required
def limit_window_end(request: HttpRequest, username: str, decision_type: str, pk: int) -> HttpResponse:
    """End a temporary limit now (`limit_window_end`), from the matrix cell or the person's edit page."""
    decision_type_ = _decision_type(decision_type)
    person = _below(request, username)
    try:
        services.limit_window_end(
            granter=request.employee,
            employee=person,
            decision_type=decision_type_,
            window_id=pk,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as error:
        if request.htmx:
            context = _cell_context(person, decision_type_, refusal=str(error.message))
            return render(request, "authority/matrix.html#cell", context, status=error.status)
        return _render_refusal(request, str(error.message), error.status)
    note = _("The temporary limit of %(name)s for %(type)s has ended; the standing or role limits apply again.") % {
        "name": person,
        "type": decision_type_.name,
    }
    if request.htmx:
        return render(request, "authority/matrix.html#cell", _cell_context(person, decision_type_, note=note))
    messages.success(request, note)
    return redirect(f"{reverse('authority-matrix')}#row-{person.pk}")


def _render_refusal(request: HttpRequest, refusal: str, status: int) -> HttpResponse:
    if request.htmx:
        return render(request, "authority/matrix.html#refusal", {"refusal": refusal}, status=status)
    return render(request, "authority/refused.html", {"refusal": refusal, **_common(request)}, status=status)


# Role defaults -------------------------------------------------------------------------------------------


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
        "table": [{"role": r.role, "editable": r.role.rank < me.role.rank, "limits": r.limits} for r in table],
        "types": [t for t, _limit in table[0].limits] if table else [],
        **_common(request),
    }
    return render(request, "authority/roles.html", context)


def _editable_role(request: HttpRequest, code: str) -> Role:
    role = get_object_or_404(Role, code=code)
    if role.rank >= request.employee.role.rank:
        raise Http404
    return role


@require_GET
@staff_required
def role_cell(request: HttpRequest, role: str, decision_type: str) -> HttpResponse:
    role_ = _editable_role(request, role)
    if not request.htmx:
        return redirect("authority-roles")
    decision_type_ = _decision_type(decision_type)
    context = {"role": role_, "decision_type": decision_type_, "limit": _role_cell(role_, decision_type_)}
    context |= {"editable": True, "currency": settings.EMPOWER_CURRENCY}
    return render(request, "authority/roles.html#role-cell", context)


@require_http_methods(["GET", "POST"])
@staff_required
def role_edit(request: HttpRequest, role: str, decision_type: str) -> HttpResponse:
    """Change a role's defaults through `role_limit_set` (a higher role, never above one's own)."""
    decision_type_ = _decision_type(decision_type)
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
            refusal, status = _refusal(form, error), error.status
        else:
            note = _("Saved: the %(role)s role's limits for %(type)s.") % {"role": role_, "type": decision_type_.name}
            if request.htmx:
                context = {"role": role_, "decision_type": decision_type_, "note": note, "editable": True}
                context |= {"limit": _role_cell(role_, decision_type_), "currency": settings.EMPOWER_CURRENCY}
                return render(request, "authority/roles.html#role-cell", context)
            messages.success(request, note)
            return redirect("authority-roles")
    if role_.rank >= request.employee.role.rank:
        if not refusal:
            raise Http404
        return _render_refusal(request, refusal, status)
    return _render_role_form(request, role_, decision_type_, form, refusal, status)


def _render_role_form(request, role, decision_type, form, refusal="", status=200) -> HttpResponse:
    context = {
        "role": role,
        "decision_type": decision_type,
        "form": form,
        "refusal": refusal,
        "currency": settings.EMPOWER_CURRENCY,
    }
    if request.htmx:
        return render(request, "authority/roles.html#role-form", context, status=status)
    return render(request, "authority/role_page.html", {**context, **_common(request)}, status=status)


# My authority --------------------------------------------------------------------------------------------


@require_GET
@staff_required
def my_authority(request: HttpRequest) -> HttpResponse:
    """What I may decide now, what is used and left, where it comes from, and what I hold as a stand-in."""
    me = request.employee
    now = timezone.now()
    context = {
        "authority": authority_of(employee=me, at=now),
        "personal": personal_limits_of(employee=me, at=now),
        "now": now,
        **_common(request),
    }
    return render(request, "authority/me.html", context)


# Stand-ins -----------------------------------------------------------------------------------------------


def _delegation_form(request: HttpRequest, data=None) -> DelegationForm:
    me = request.employee
    below = people_below(employee=me) if me.reports.exists() else []
    return DelegationForm(data, types=active_decision_types(), delegators=[me, *below])


def _delegations_page(request: HttpRequest, form: DelegationForm, status: int = 200, **extra) -> HttpResponse:
    me = request.employee
    now = timezone.now()
    delegations = list(delegations_visible_to(employee=me)[:DELEGATIONS_SHOWN])
    below = set(subtree_ids(employee=me, include_self=True))
    for delegation in delegations:
        delegation.state = _state(delegation, now)
        # The button only where the service would agree: the delegator, or someone above them.
        delegation.can_end = delegation.state != "ended" and delegation.delegator_id in below
    context = {
        "form": form,
        "given": [d for d in delegations if d.delegator_id == me.pk],
        "held": [d for d in delegations if d.delegate_id == me.pk],
        "below": [d for d in delegations if me.pk not in (d.delegator_id, d.delegate_id)],
        "colleagues": active_colleagues(),
        **_common(request),
        **extra,
    }
    return render(request, "authority/delegations.html", context, status=status)


def _state(delegation: Delegation, now: datetime) -> str:
    if delegation.ended_at is None and delegation.starts_at > now:
        return "scheduled"
    return "active" if delegation.is_active_at(now) else "ended"


@require_http_methods(["GET", "POST"])
@staff_required
def delegations_view(request: HttpRequest) -> HttpResponse:
    """Stand-ins given, held and below me, and a form to set one up (through `delegation_create`)."""
    if request.method == "GET":
        return _delegations_page(request, _delegation_form(request))
    form = _delegation_form(request, request.POST)
    status, refusal = 400, ""
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
                refusal, status = _refusal(form, error), error.status
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
    return _delegations_page(request, form, status, refusal=refusal)


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


# History -------------------------------------------------------------------------------------------------

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
        return _("no limit") if value is None else f"{number_format(Decimal(value), 2)} {settings.EMPOWER_CURRENCY}"
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
        **_common(request),
    }
    return render(request, "authority/history.html", context, status=status)
