"""The authority matrix (everyone below the manager), one cell and its edit form, ending a temporary
limit, and one's own authority.
"""

import dataclasses
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delegation import services
from delegation.authority import NO_AUTHORITY, Limits
from delegation.forms import LimitForm
from delegation.models import DecisionType, Timed
from delegation.selectors import (
    AuthorityLine,
    active_decision_types,
    active_stand_ins,
    authority_matrix,
    authority_of,
    employee_visible_to,
    matrix_people,
    matrix_teams,
    may_change_limits_of,
    may_clear_limits,
    may_end_window,
    own_limits,
    personal_limits_of,
    running_windows,
    stand_in_duties,
    standing_limits,
    windows_of,
)
from delegation.services import limit_clear, limit_set
from delegation.views.common import decision_type_or_404, moment_shown, page_context, render_refusal
from empower.errors import DomainError
from empower.forms import add_domain_error
from empower.models import Employee
from empower.templatetags.money import money
from empower.views import staff_required

# Up to this many people the matrix shows everyone at once; beyond, each team opens on demand, so a
# large organization's page stays light (each team is a constant number of queries).
MATRIX_ALL_AT_ONCE = 150
# One team's people per page (each row is a cell per decision type).
MATRIX_PAGE_SIZE = 50


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
        **page_context(request),
    }
    if team_id is None and sum(count for *_, count in index) > MATRIX_ALL_AT_ONCE:
        return render(request, "authority/matrix.html", context)  # the teams, each opened on demand
    now = timezone.now()
    people = matrix_people(manager=manager, team_id=team_id)
    if team_id is not None:  # one team, a page at a time: a team can grow past what one page renders fast
        context["page"] = Paginator(people, MATRIX_PAGE_SIZE).get_page(request.GET.get("page"))
        context["page_query"] = f"team={team_id}"
        people = context["page"].object_list
    teams = authority_matrix(manager=manager, people=list(people), types=types, at=now)
    people = [row.employee.pk for rows in teams.values() for row in rows]
    duties = stand_in_duties(employee_ids=people) if people else {}
    below = set(people)  # everyone in the matrix is below the manager: no query per person
    texts = CellTexts()
    context["teams"] = [
        (team, [_matrix_item(manager, row, duties.get(row.employee.pk, []), below, now, texts) for row in rows])
        for team, rows in teams.items()
    ]
    if team_id is not None and request.htmx:
        return render(request, "authority/matrix.html#team-table", {**context, "rows": context["teams"][0][1]})
    return render(request, "authority/matrix.html", context)


class CellTexts:
    """What the matrix cells of one request show, made once per distinct value: each cell's caps and
    their source (`authority/_cell_summary.html`, rendered once per distinct summary), amounts, words
    and links. A team's hundreds of cells repeat a few role limits and amounts, and rendering each
    cell in full was most of the page's time (546 ms for a team of 109)."""

    def __init__(self) -> None:
        self._summaries: dict[tuple, str] = {}
        self._amounts: dict[Decimal, str] = {}
        self._edit_urls: dict[str, str] = {}
        self.words = {"edit": _("Edit"), "used_today": _("Used today"), "this_month": _("this month")}

    def summary(self, line: AuthorityLine) -> str:
        window, acting_for = line.window, line.acting_for
        key = (line.limits, window and (window.pk, window.ends_at), acting_for and (acting_for.pk, str(acting_for)))
        if key not in self._summaries:
            context = {"line": line, "currency": settings.EMPOWER_CURRENCY}
            self._summaries[key] = render_to_string("authority/_cell_summary.html", context)
        return self._summaries[key]

    def amount(self, value: Decimal) -> str:
        """As the template's `money` filter shows it (in the language of the request)."""
        if value not in self._amounts:
            self._amounts[value] = money(value, settings.EMPOWER_CURRENCY)
        return self._amounts[value]

    def use(self, line: AuthorityLine) -> str:
        words = self.words
        today, month = self.amount(line.used_today), self.amount(line.used_this_month)
        return f"{words['used_today']} {today} · {words['this_month']} {month}"

    def edit_url(self, person: Employee, decision_type: DecisionType) -> str:
        # One reverse() per type, not one per cell: the username is the only part that changes.
        code = decision_type.code
        if code not in self._edit_urls:
            self._edit_urls[code] = reverse("authority-cell-edit", args=[_PERSON, code])
        return self._edit_urls[code].replace(_PERSON, quote(person.username, safe=RFC3986_SUBDELIMS + "/~:@"), 1)


_PERSON = "--person--"  # a stand-in username in a reversed URL (valid in the path, never in the rest of it)


def _matrix_item(manager: Employee, row, duties: list, below: set[int], now, texts: CellTexts) -> dict:
    """One person's row: each cell with what the manager may do there, from the granting rules."""
    person = row.employee
    name = str(person)
    return {
        "row": row,
        "duties": duties,
        "cells": [
            _cell_actions(manager, person, line, now=now, below=below, texts=texts, name=name) for line in row.cells
        ],
    }


def _cell_actions(
    manager: Employee,
    person: Employee,
    line: AuthorityLine,
    *,
    now,
    below=None,
    texts: CellTexts | None = None,
    name: str | None = None,
) -> dict:
    """A cell and its buttons: "Edit" and "End the temporary limit now", shown exactly when
    `limit_set` and `limit_window_end` would accept them (the same predicates)."""
    window = line.window
    texts = texts or CellTexts()
    return {
        "line": line,
        "id": f"cell-{person.pk}-{line.decision_type.code}",
        "summary": texts.summary(line),
        "use": texts.use(line),
        "edit": texts.words["edit"],
        "edit_url": texts.edit_url(person, line.decision_type),
        "label": f"{name or person}: {line.decision_type.name}",
        "can_edit": may_change_limits_of(granter=manager, employee=person, below=below),
        "can_end_window": window is not None
        and may_end_window(granter=manager, employee=person, window=window, at=now, below=below),
    }


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


def _cell_context(request: HttpRequest, person: Employee, decision_type: DecisionType, **extra) -> dict:
    cell = _cell_actions(request.employee, person, _cell_line(person, decision_type), now=timezone.now())
    return {"person": person, "cell": cell, "currency": settings.EMPOWER_CURRENCY, **extra}


@require_GET
@staff_required
def limit_cell(request: HttpRequest, username: str, decision_type: str) -> HttpResponse:
    """A matrix cell as it stands (htmx "cancel"); without JavaScript, back to the matrix."""
    person = _below(request, username)
    if not request.htmx:
        return redirect(f"{reverse('authority-matrix')}#row-{person.pk}")
    return render(
        request, "authority/matrix.html#cell", _cell_context(request, person, decision_type_or_404(decision_type))
    )


def _limit_form(person: Employee, data=None, limits: Limits | None = None) -> LimitForm:
    auto_id = f"limit-{person.pk}-%s"
    if data is not None:
        return LimitForm(data, auto_id=auto_id)
    return LimitForm.starting_from(limits or NO_AUTHORITY, auto_id=auto_id)


def _limit_form_context(request: HttpRequest, person, decision_type, form) -> dict:
    granter = request.employee
    standing = standing_limits(employee=person, decision_type=decision_type)
    now = timezone.now()
    windows = windows_of(employee=person, decision_type=decision_type, at=now)
    for window in windows:
        window.can_end = may_end_window(granter=granter, employee=person, window=window, at=now)
    return {
        "person": person,
        "decision_type": decision_type,
        "form": form,
        # Back to the role's limits: shown exactly when `limit_clear` would accept it.
        "can_clear": may_clear_limits(granter=granter, employee=person, decision_type=decision_type, at=now),
        "standing": standing,
        "windows": windows,
        "running_window": next((w for w in windows if w.state_at(now) == Timed.RUNNING), None),
        "currency": settings.EMPOWER_CURRENCY,
    }


def _render_limit_form(request, context: dict, status: int = 200) -> HttpResponse:
    if request.htmx:
        return render(request, "authority/matrix.html#limit-form", context, status=status)
    return render(request, "authority/limit_page.html", {**context, **page_context(request)}, status=status)


@require_http_methods(["GET", "POST"])
@staff_required
def limit_edit(request: HttpRequest, username: str, decision_type: str) -> HttpResponse:
    """Edit one cell: set the person's limits (`limit_set`) or return them to their role's (`limit_clear`)."""
    decision_type_ = decision_type_or_404(decision_type)
    if request.method == "GET":
        person = _below(request, username)
        limits = standing_limits(employee=person, decision_type=decision_type_)
        return _render_limit_form(
            request, _limit_form_context(request, person, decision_type_, _limit_form(person, limits=limits))
        )
    # Someone outside the caller's chain does not exist for them, on writes as on reads (404).
    person = employee_visible_to(viewer=request.employee, username=username)
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
            refusal, status = add_domain_error(form, error), error.status
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
                ) % (values | {"until": moment_shown(window.ends_at)})
            elif temporary:
                note = _("Saved: %(name)s's temporary limits for %(type)s.") % values
            else:
                note = _("Saved: %(name)s's limits for %(type)s.") % values
            if request.htmx:
                return render(
                    request, "authority/matrix.html#cell", _cell_context(request, person, decision_type_, note=note)
                )
            messages.success(request, note)
            return redirect(f"{reverse('authority-matrix')}#row-{person.pk}")
    if person == request.employee:
        # Their own limits: only the refusal, nothing of the form.
        if not refusal:
            raise Http404
        return render_refusal(request, refusal, status)
    context = _limit_form_context(request, person, decision_type_, form)
    return _render_limit_form(request, context, status)


@require_POST
@staff_required
def limit_window_end(request: HttpRequest, username: str, decision_type: str, pk: int) -> HttpResponse:
    """End a temporary limit now (`limit_window_end`), from the matrix cell or the person's edit page."""
    decision_type_ = decision_type_or_404(decision_type)
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
            context = _cell_context(request, person, decision_type_, refusal=str(error.message))
            return render(request, "authority/matrix.html#cell", context, status=error.status)
        return render_refusal(request, str(error.message), error.status)
    note = _("The temporary limit of %(name)s for %(type)s has ended; the standing or role limits apply again.") % {
        "name": person,
        "type": decision_type_.name,
    }
    if request.htmx:
        return render(request, "authority/matrix.html#cell", _cell_context(request, person, decision_type_, note=note))
    messages.success(request, note)
    return redirect(f"{reverse('authority-matrix')}#row-{person.pk}")


# My authority


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
        **page_context(request),
    }
    return render(request, "authority/me.html", context)
