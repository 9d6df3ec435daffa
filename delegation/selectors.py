"""Reads for authority, decisions and escalations: each shaped for a page or an endpoint."""

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db.models import (
    BooleanField,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models import Case as SqlCase  # `Case` is the customer case here
from django.db.models.functions import Cast
from django.utils import timezone

from delegation.authority import CAPS, NO_AUTHORITY, ZERO, Limits, Usage, exceeded_limits, remaining
from delegation.models import (
    AuthorityLimit,
    Decision,
    DecisionType,
    Delegation,
    Escalation,
    EscalationStep,
    Heartbeat,
    ResponseTime,
    UsageCounter,
)
from empower.models import AuditRecord, Case, Employee, Role
from empower.selectors import is_above, subtree_ids, visible_team_ids

# Django's own username rule: letters, digits and @.+-_ only.
USERNAME_PATTERN = re.compile(UnicodeUsernameValidator.regex, UnicodeUsernameValidator.flags)


def active_decision_types() -> list[DecisionType]:
    return list(DecisionType.objects.filter(is_active=True).order_by("code"))


@dataclass(frozen=True)
class CounterKeys:
    """The usage counters one approval moves: the holder's day and month, the customer's month."""

    day: str
    month: str
    customer_month: str | None

    def all(self) -> list[str]:
        return [k for k in (self.day, self.month, self.customer_month) if k]


def counter_keys(*, holder_id: int, decision_type_id: int, customer_id: int | None, at: datetime) -> CounterKeys:
    # Caps count in the organization's time zone (settings.TIME_ZONE).
    day = timezone.localdate(at)
    return CounterKeys(
        day=f"emp:{holder_id}:dt:{decision_type_id}:day:{day.isoformat()}",
        month=f"emp:{holder_id}:dt:{decision_type_id}:month:{day:%Y-%m}",
        customer_month=f"cust:{customer_id}:dt:{decision_type_id}:month:{day:%Y-%m}" if customer_id else None,
    )


def usage_from(amounts: dict[str, Decimal], keys: CounterKeys) -> Usage:
    return Usage(
        today=amounts.get(keys.day, ZERO),
        this_month=amounts.get(keys.month, ZERO),
        customer_this_month=amounts.get(keys.customer_month, ZERO) if keys.customer_month else ZERO,
    )


def counter_amounts(*, keys: list[str]) -> dict[str, Decimal]:
    return dict(UsageCounter.objects.filter(key__in=keys).values_list("key", "amount"))


def own_limits(
    *, employees: list[Employee], decision_type_ids: list[int], at: datetime | None = None
) -> dict[tuple[int, int], Limits]:
    """Each employee's own limits per decision type, in two queries whatever the organization's size.

    A personal limit replaces the role's for its type; a temporary personal limit, while it runs,
    replaces the standing one. No limit row at all means no authority for that type.
    """
    at = at or timezone.now()
    role_rows = AuthorityLimit.objects.filter(
        role_id__in={e.role_id for e in employees}, decision_type_id__in=decision_type_ids
    )
    by_role = {(row.role_id, row.decision_type_id): row for row in role_rows}
    # Standing limits first, then temporary ones (those with an end) by start: the last one wins.
    personal_rows = (
        AuthorityLimit.objects.filter(employee__in=employees, decision_type_id__in=decision_type_ids)
        .active_at(at)
        .order_by(_is_window(), F("starts_at").asc(nulls_first=True), "id")
    )
    by_employee = {(row.employee_id, row.decision_type_id): row for row in personal_rows}
    result = {}
    for employee in employees:
        for type_id in decision_type_ids:
            if row := by_employee.get((employee.pk, type_id)):
                result[(employee.pk, type_id)] = _limits(row, "personal")
            elif row := by_role.get((employee.role_id, type_id)):
                result[(employee.pk, type_id)] = _limits(row, "role")
            else:
                result[(employee.pk, type_id)] = NO_AUTHORITY
    return result


def _is_window() -> ExpressionWrapper:
    return ExpressionWrapper(Q(ends_at__isnull=False), output_field=BooleanField())


def running_windows(
    *, employee_ids: list[int], decision_type_ids: list[int], at: datetime | None = None
) -> dict[tuple[int, int], AuthorityLimit]:
    """(employee id, decision type id) → the temporary limit running at `at` (the one that applies), in one query."""
    at = at or timezone.now()
    rows = (
        AuthorityLimit.objects.filter(
            employee_id__in=employee_ids, decision_type_id__in=decision_type_ids, ends_at__isnull=False
        )
        .active_at(at)
        .order_by(F("starts_at").asc(nulls_first=True), "id")
    )
    return {(row.employee_id, row.decision_type_id): row for row in rows}


def windows_of(
    *, employee: Employee, decision_type: DecisionType | None = None, at: datetime | None = None
) -> list[AuthorityLimit]:
    """An employee's temporary limits (of one type, or all) running or scheduled at `at`, by type and start."""
    at = at or timezone.now()
    windows = AuthorityLimit.objects.filter(employee=employee, ends_at__gt=at)
    if decision_type is not None:
        windows = windows.filter(decision_type=decision_type)
    return list(
        windows.select_related("decision_type", "set_by__user", "employee__user").order_by(
            "decision_type__code", F("starts_at").asc(nulls_first=True), "id"
        )
    )


def _limits(row: AuthorityLimit, source: str) -> Limits:
    return Limits(row.per_decision, row.per_day, row.per_month, row.per_customer_month, source=source)


def delegations_held(*, employee: Employee, at: datetime | None = None) -> list[Delegation]:
    """The stand-in duties `employee` holds right now, with the delegators and their types."""
    at = at or timezone.now()
    return list(
        Delegation.objects.active_at(at)
        .filter(delegate=employee)
        .select_related("delegator__user", "delegator__role")
        .prefetch_related("decision_types")
    )


def delegations_given(*, employee: Employee, at: datetime | None = None) -> list[Delegation]:
    at = at or timezone.now()
    return list(
        Delegation.objects.active_at(at)
        .filter(delegator=employee)
        .select_related("delegate__user")
        .prefetch_related("decision_types")
    )


def active_stand_ins(*, employee_ids: list[int], at: datetime | None = None) -> dict[tuple[int, int], Employee]:
    """(delegator id, decision type id) → the stand-in holding it now."""
    at = at or timezone.now()
    delegations = (
        Delegation.objects.active_at(at)
        .filter(delegator_id__in=employee_ids)
        .select_related("delegate__user")
        .prefetch_related("decision_types")
        .order_by("starts_at")
    )
    return {(d.delegator_id, t.pk): d.delegate for d in delegations for t in d.decision_types.all()}


@dataclass(frozen=True)
class AuthorityLine:
    """What someone may decide of one type, how much of each cap is used and what is left."""

    decision_type: DecisionType
    limits: Limits
    used_today: Decimal
    used_this_month: Decimal
    acting_for: Employee | None = None  # set on a stand-in's borrowed line
    window: AuthorityLimit | None = None  # the temporary limit that applies now, where one runs

    @property
    def remaining_today(self) -> Decimal | None:
        return remaining(self.limits.per_day, self.used_today)

    @property
    def remaining_this_month(self) -> Decimal | None:
        return remaining(self.limits.per_month, self.used_this_month)

    @property
    def available_now(self) -> Decimal | None:
        """The largest single decision that would pass right now (ignoring the customer cap)."""
        caps = [c for c in (self.limits.per_decision, self.remaining_today, self.remaining_this_month) if c is not None]
        return min(caps) if caps else None


@dataclass
class Authority:
    employee: Employee
    lines: list[AuthorityLine]
    borrowed: list[AuthorityLine] = field(default_factory=list)


def authority_of(*, employee: Employee, at: datetime | None = None) -> Authority:
    """An employee's effective authority now: own limits per type, plus any held as a stand-in."""
    at = at or timezone.now()
    types = active_decision_types()
    type_ids = [t.pk for t in types]
    held = delegations_held(employee=employee, at=at)
    delegators = {d.delegator.pk: d.delegator for d in held}
    limits = own_limits(employees=[employee, *delegators.values()], decision_type_ids=type_ids, at=at)
    keys = {
        (holder_id, t.pk): counter_keys(holder_id=holder_id, decision_type_id=t.pk, customer_id=None, at=at)
        for holder_id in [employee.pk, *delegators]
        for t in types
    }
    amounts = counter_amounts(keys=[k for ck in keys.values() for k in ck.all()])

    def line(holder_id: int, decision_type: DecisionType, acting_for: Employee | None = None) -> AuthorityLine:
        usage = usage_from(amounts, keys[(holder_id, decision_type.pk)])
        own = limits[(holder_id, decision_type.pk)]
        source = "stand-in" if acting_for else own.source
        return AuthorityLine(
            decision_type=decision_type,
            limits=Limits(own.per_decision, own.per_day, own.per_month, own.per_customer_month, source=source),
            used_today=usage.today,
            used_this_month=usage.this_month,
            acting_for=acting_for,
        )

    types_by_id = {t.pk: t for t in types}
    borrowed = [
        line(d.delegator.pk, types_by_id[t.pk], acting_for=d.delegator)
        for d in held
        for t in d.decision_types.all()
        if t.pk in types_by_id
    ]
    return Authority(employee=employee, lines=[line(employee.pk, t) for t in types], borrowed=borrowed)


def decisions_for_case(*, case: Case) -> QuerySet[Decision]:
    return (
        Decision.objects.filter(case=case)
        .select_related(
            "decision_type",
            "made_by__user",
            "approved_by__user",
            "escalation__assigned_to__user",
            "escalation__approver__user",  # "Bob (standing in for Carol)"
        )
        .order_by("-created_at", "-id")
    )


def decisions_visible_to(*, employee: Employee) -> QuerySet[Decision]:
    return Decision.objects.filter(case__team_id__in=visible_team_ids(employee=employee)).select_related(
        "decision_type", "made_by__user", "approved_by__user", "case"
    )


def _answerable_by(employee: Employee, at: datetime) -> Q:
    """Who may answer an escalation, as one filter: its approver, or whoever holds an active
    delegation from the approver for its decision type at `at`; never the requester.

    The one home of the rule: the service's check (`may_answer`), the inbox and the pages use it.
    A stale assignment to a former stand-in authorizes nothing, and authority is never chained
    (a stand-in of the approver's stand-in holds nothing of the approver's).
    """
    stands_in_for_approver = Exists(
        Delegation.objects.active_at(at).filter(
            delegate_id=employee.pk,
            delegator_id=OuterRef("approver_id"),
            decision_types=OuterRef("decision__decision_type_id"),
        )
    )
    return (Q(approver_id=employee.pk) | Q(stands_in_for_approver)) & ~Q(decision__made_by_id=employee.pk)


def may_answer(*, escalation: Escalation, employee: Employee, at: datetime | None = None) -> bool:
    """Whether `employee` may approve or reject `escalation` (whatever its status) at `at`."""
    at = at or timezone.now()
    return Escalation.objects.filter(pk=escalation.pk).filter(_answerable_by(employee, at)).exists()


def _with_answer_rights(escalations: QuerySet[Escalation], *, employee: Employee, at: datetime) -> QuerySet[Escalation]:
    """Annotate `can_answer`: open and `employee`'s to answer now (the forms show only then)."""
    open_for_them = Q(status=Escalation.Status.ASSIGNED) & _answerable_by(employee, at)
    return escalations.annotate(
        can_answer=SqlCase(When(open_for_them, then=Value(True)), default=Value(False), output_field=BooleanField())
    )


def escalation_inbox(*, employee: Employee, at: datetime | None = None) -> QuerySet[Escalation]:
    """What the employee may answer (as the approver, or as the approver's active stand-in for its
    type) and what they answered; open ones first, the nearest deadline first.

    Open rows are exactly those `may_answer` allows; each row carries `can_answer`.
    """
    at = at or timezone.now()
    mine = _answerable_by(employee, at) & ~Q(status__in=[Escalation.Status.ROUTING, Escalation.Status.UNROUTABLE])
    answered = Q(decided_by_id=employee.pk) & ~Q(decision__made_by_id=employee.pk)
    return (
        _with_answer_rights(Escalation.objects.filter(mine | answered), employee=employee, at=at)
        .select_related(
            "decision__decision_type",
            "decision__made_by__user",
            "decision__case__customer",
            "assigned_to__user",
            "approver__user",
        )
        .order_by(
            F("decided_at").desc(nulls_first=True),
            F("due_at").asc(nulls_last=True),
            "created_at",
        )
    )


def escalations_visible_to(*, employee: Employee, at: datetime | None = None) -> QuerySet[Escalation]:
    """The requester, the assignee, the approver and the people above any of them see an escalation;
    so do the approver's active stand-in and whoever answered it. Each row carries `can_answer`."""
    at = at or timezone.now()
    below = subtree_ids(employee=employee, include_self=True)
    seen = (
        Q(decision__made_by_id__in=below)
        | Q(assigned_to_id__in=below)
        | Q(approver_id__in=below)
        | Q(decided_by_id=employee.pk)
        | _answerable_by(employee, at)
    )
    return _with_answer_rights(Escalation.objects.filter(seen), employee=employee, at=at).select_related(
        "decision__decision_type", "decision__made_by__user", "assigned_to__user", "approver__user"
    )


def escalation_with_path(*, escalation_id: int) -> Escalation:
    steps = EscalationStep.objects.select_related("assigned_to__user")
    return (
        Escalation.objects.select_related("decision__decision_type", "decision__case", "assigned_to__user")
        .prefetch_related(Prefetch("steps", queryset=steps))
        .get(pk=escalation_id)
    )


def escalations_waiting_for_routing(*, longer_than: timedelta, limit: int | None = None) -> list[int]:
    """Escalations left in "routing" past a grace period (the broker was down, or a task was lost),
    the longest waiting first: after an outage the customers who waited longest go first."""
    cutoff = timezone.now() - longer_than
    waiting = (
        Escalation.objects.filter(status=Escalation.Status.ROUTING, routing_since__lt=cutoff)
        .order_by("routing_since", "pk")
        .values_list("pk", flat=True)
    )
    return list(waiting if limit is None else waiting[:limit])


def response_hours(*, escalation: Escalation) -> int:
    """Working hours the approver at this level has: the level's own, else the decision type's."""
    decision_type = escalation.decision.decision_type
    per_level = ResponseTime.objects.filter(decision_type=decision_type, level=escalation.level).first()
    return per_level.hours if per_level else decision_type.response_hours


def escalations_to_review(*, at: datetime | None = None, limit: int = 1000) -> list[int]:
    """Assigned escalations that should move up now, read without locks: the overdue (oldest deadline
    first), then those whose approver's remaining authority no longer covers them. The review locks
    and checks each again before it moves it."""
    at = at or timezone.now()
    overdue = list(
        Escalation.objects.filter(status=Escalation.Status.ASSIGNED, due_at__lte=at)
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    seen = set(overdue)
    beyond = [pk for pk in escalations_beyond_capacity(at=at) if pk not in seen]
    return overdue + beyond[: limit - len(overdue)]


def escalations_beyond_capacity(*, at: datetime | None = None) -> list[int]:
    """Assigned escalations their approver could no longer approve (limits lowered, caps spent), in
    a constant number of queries however many wait: the same check approving makes, in bulk."""
    at = at or timezone.now()
    waiting = list(
        Escalation.objects.filter(status=Escalation.Status.ASSIGNED, approver__isnull=False)
        .order_by("pk")
        .values_list(
            "pk", "approver_id", "decision__decision_type_id", "decision__case__customer_id", "decision__amount"
        )
    )
    if not waiting:
        return []
    approvers = list(Employee.objects.filter(pk__in={row[1] for row in waiting}))
    limits = own_limits(employees=approvers, decision_type_ids=list({row[2] for row in waiting}), at=at)
    keys = {
        pk: counter_keys(holder_id=approver_id, decision_type_id=type_id, customer_id=customer_id, at=at)
        for pk, approver_id, type_id, customer_id, _amount in waiting
    }
    amounts = counter_amounts(keys=sorted({key for ck in keys.values() for key in ck.all()}))
    return [
        pk
        for pk, approver_id, type_id, _customer_id, amount in waiting
        if exceeded_limits(limits[(approver_id, type_id)], usage_from(amounts, keys[pk]), amount)
    ]


def routing_backlog() -> dict:
    """Operations: how long the oldest unrouted escalation has waited, and when a worker last ran."""
    now = timezone.now()
    oldest = (
        Escalation.objects.filter(status=Escalation.Status.ROUTING)
        .order_by("routing_since")
        .values_list("routing_since", flat=True)
        .first()
    )
    beat = Heartbeat.objects.filter(name="worker").values_list("seen_at", flat=True).first()
    return {
        "oldest_unrouted_seconds": int((now - oldest).total_seconds()) if oldest else None,
        "worker_last_seen_seconds": int((now - beat).total_seconds()) if beat else None,
    }


@dataclass(frozen=True)
class MatrixRow:
    employee: Employee
    cells: list[AuthorityLine]


def matrix_teams(*, manager: Employee) -> list[tuple[int, str, int]]:
    """The teams of everyone below `manager` as (id, name, how many people), by name: the matrix's index."""
    counts = Counter(Employee.objects.descendants(manager).values_list("team_id", "team__name"))
    return sorted(((team_id, name, count) for (team_id, name), count in counts.items()), key=lambda t: (t[1], t[0]))


def authority_matrix(
    *,
    manager: Employee,
    at: datetime | None = None,
    team_id: int | None = None,
    types: list[DecisionType] | None = None,
) -> dict[str, list[MatrixRow]]:
    """Everyone below `manager` (or those of one team), grouped by team: each type's effective limits,
    source and use, and the temporary limit that applies where one runs (with its end).

    A constant number of queries whatever the size of the subtree.
    """
    at = at or timezone.now()
    below = Employee.objects.descendants(manager)
    if team_id is not None:
        below = below.filter(team_id=team_id)
    people = list(below.select_related("user", "role", "team").order_by("team__name", "user__username"))
    types = active_decision_types() if types is None else types
    type_ids = [t.pk for t in types]
    limits = own_limits(employees=people, decision_type_ids=type_ids, at=at)
    keys = {
        (p.pk, t.pk): counter_keys(holder_id=p.pk, decision_type_id=t.pk, customer_id=None, at=at)
        for p in people
        for t in types
    }
    amounts = counter_amounts(keys=[k for ck in keys.values() for k in ck.all()])
    stand_ins = active_stand_ins(employee_ids=[p.pk for p in people], at=at)
    windows = running_windows(employee_ids=[p.pk for p in people], decision_type_ids=type_ids, at=at)
    teams: dict[str, list[MatrixRow]] = {}
    for person in people:
        cells = []
        for t in types:
            usage = usage_from(amounts, keys[(person.pk, t.pk)])
            cells.append(
                AuthorityLine(
                    decision_type=t,
                    limits=limits[(person.pk, t.pk)],
                    used_today=usage.today,
                    used_this_month=usage.this_month,
                    acting_for=stand_ins.get((person.pk, t.pk)),
                    window=windows.get((person.pk, t.pk)),
                )
            )
        teams.setdefault(person.team.name, []).append(MatrixRow(employee=person, cells=cells))
    return teams


def authority_timeline(*, employee: Employee) -> QuerySet[AuditRecord]:
    """Every grant, change, delegation and expiry that concerns the employee's authority, newest first.

    With the changes of their role's defaults (which concern everyone of the role, so they name no
    one): those of the role they hold now, whenever made, since no history of roles held is kept.
    """
    own = Q(subject=employee) & (Q(action__startswith="limit.") | Q(action__startswith="delegation."))
    role = employee.role.code
    role_defaults = Q(
        subject__isnull=True, target_type=AuthorityLimit._meta.label_lower, action__startswith="limit."
    ) & (Q(after__role=role) | Q(before__role=role))
    return (
        AuditRecord.objects.filter(own | role_defaults)
        .select_related("actor__user", "on_behalf_of__user")
        .order_by("-created_at", "-id")
    )


def timeline_with_stand_ins(*, employee: Employee) -> QuerySet[AuditRecord]:
    """`authority_timeline`, plus the records of the delegations `employee` holds as a stand-in
    (their audit subject is the delegator, so the stand-in's own timeline would miss them)."""
    held = Delegation.objects.filter(delegate=employee).annotate(key=Cast("pk", CharField())).values("key")
    stand_in = Q(target_type=Delegation._meta.label_lower, target_id__in=held, action__startswith="delegation.")
    return (
        (authority_timeline(employee=employee) | AuditRecord.objects.filter(stand_in))
        .select_related("actor__user", "on_behalf_of__user")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class HistoricLine:
    decision_type: DecisionType
    limits: Limits
    set_by: str | None
    reason: str
    since: datetime | None
    used_that_day: Decimal
    used_that_month: Decimal
    acting_for: Employee | None = None


LIMIT_ROW_ACTIONS = ("limit.created", "limit.changed", "limit.deleted", "limit.ended")


def authority_at(*, employee: Employee, at: datetime) -> list[HistoricLine]:
    """What `employee` could decide at `at`, and why: rebuilt from the audit records of limits.

    A limit row's state at `at` is the `after` of its last audit record up to then; before its
    first record, that record's `before`; a row never changed since it was loaded is as it is.
    Delegations keep their windows, so who stood in for whom is read directly.
    """
    types = active_decision_types()
    held = [d for d in Delegation.objects.active_at(at).filter(delegate=employee).select_related("delegator__role")]
    holders = [employee, *(d.delegator for d in held)]
    role_codes = {h.role.code for h in holders}
    usernames = {h.username for h in holders}
    label = AuthorityLimit._meta.label_lower
    records = list(
        # Records that hold a row's state (`limit.started`/`expired` hold effective limits instead).
        AuditRecord.objects.filter(target_type=label, action__in=LIMIT_ROW_ACTIONS)
        .filter(
            Q(after__role__in=role_codes)
            | Q(before__role__in=role_codes)
            | Q(after__employee__in=usernames)
            | Q(before__employee__in=usernames)
        )
        .select_related("actor__user")
        .order_by("created_at", "id")
    )
    by_target: dict[str, list[AuditRecord]] = {}
    for record in records:
        by_target.setdefault(record.target_id, []).append(record)
    current = AuthorityLimit.objects.filter(
        Q(role__code__in=role_codes) | Q(employee__user__username__in=usernames)
    ).select_related("role", "employee__user", "decision_type", "set_by__user")
    states: list[tuple[dict, AuditRecord | None]] = []
    for row in current:
        if str(row.pk) not in by_target:
            state = {
                "decision_type": row.decision_type.code,
                "role": row.role.code if row.role_id else None,
                "employee": row.employee.username if row.employee_id else None,
                **row.values(),
                "starts_at": row.starts_at and row.starts_at.isoformat(),
                "ends_at": row.ends_at and row.ends_at.isoformat(),
            }
            states.append((state, None))
    for history in by_target.values():
        upto = [r for r in history if r.created_at <= at]
        if upto:
            states.append((upto[-1].after, upto[-1]))
        else:
            states.append((history[0].before, None))
    return [
        _historic_line(employee, held, t, [(s, r) for s, r in states if s and s["decision_type"] == t.code], at)
        for t in types
    ] + [
        _historic_line(d.delegator, [], t, [(s, r) for s, r in states if s and s["decision_type"] == t.code], at, d)
        for d in held
        for t in types
        if t in d.decision_types.all()
    ]


def _historic_line(employee, held, decision_type, states, at, delegation=None) -> HistoricLine:
    def applies(state: dict) -> bool:
        starts = state.get("starts_at")
        ends = state.get("ends_at")
        return (not starts or datetime.fromisoformat(starts) <= at) and (not ends or datetime.fromisoformat(ends) > at)

    personal = [(s, r) for s, r in states if s.get("employee") == employee.username and applies(s)]
    personal.sort(key=lambda sr: sr[0].get("starts_at") or "")
    role = [(s, r) for s, r in states if s.get("role") == employee.role.code]
    chosen, source = (personal[-1], "personal") if personal else ((role[-1], "role") if role else (None, "none"))
    if chosen is None:
        limits, record = NO_AUTHORITY, None
    else:
        state, record = chosen

        def cap(name: str) -> Decimal | None:
            return None if state.get(name) is None else Decimal(state[name])

        limits = Limits(cap("per_decision"), cap("per_day"), cap("per_month"), cap("per_customer_month"), source=source)
    if delegation:
        limits = Limits(*(getattr(limits, c) for c in CAPS), source="stand-in")
    day = timezone.localdate(at)
    approved = Decision.objects.filter(
        authority_of=employee, decision_type=decision_type, decided_at__lte=at, status=Decision.Status.APPROVED
    )
    used_day = approved.filter(decided_at__date=day).aggregate(total=Sum("final_amount"))["total"] or ZERO
    used_month = (
        approved.filter(decided_at__year=day.year, decided_at__month=day.month).aggregate(total=Sum("final_amount"))[
            "total"
        ]
        or ZERO
    )
    return HistoricLine(
        decision_type=decision_type,
        limits=limits,
        set_by=(record.actor.username if record and record.actor else None),
        reason=record.reason if record else "",
        since=record.created_at if record else None,
        used_that_day=used_day,
        used_that_month=used_month,
        acting_for=delegation.delegator if delegation else None,
    )


# --- Managing authority: the pages and API that shape it ------------------------------------------


def employee_visible_to(*, viewer: Employee, username: str) -> Employee | None:
    """The employee named `username` when `viewer` is them or stands above them; None otherwise."""
    employee = employee_named(username=username)
    if employee is None or (employee.pk != viewer.pk and not is_above(manager=viewer, employee=employee)):
        return None
    return employee


def employee_named(*, username: str) -> Employee | None:
    # Not a username at all (e.g. a NUL byte, which PostgreSQL refuses in a query): nobody, unasked.
    if len(username or "") > 150 or not USERNAME_PATTERN.match(username or ""):
        return None
    return Employee.objects.select_related("user", "role", "team").filter(user__username=username).first()


def standing_limits(*, employee: Employee, decision_type: DecisionType) -> Limits:
    """An employee's limits for one type leaving temporary ones aside: their standing personal
    limit, else their role's (what a form starts from, and what a partial change keeps)."""
    row = (
        AuthorityLimit.objects.filter(
            employee=employee, decision_type=decision_type, starts_at__isnull=True, ends_at__isnull=True
        ).first()
        or AuthorityLimit.objects.filter(role_id=employee.role_id, decision_type=decision_type).first()
    )
    if row is None:
        return NO_AUTHORITY
    return _limits(row, "personal" if row.employee_id else "role")


def personal_limits_of(*, employee: Employee, at: datetime | None = None) -> list[AuthorityLimit]:
    """An employee's personal limits that apply now or later (standing, temporary, scheduled)."""
    at = at or timezone.now()
    return list(
        AuthorityLimit.objects.filter(employee=employee)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .select_related("decision_type", "set_by__user")
        .order_by("decision_type__code", F("starts_at").asc(nulls_first=True))
    )


@dataclass(frozen=True)
class RoleDefaults:
    role: Role
    limits: list[tuple[DecisionType, AuthorityLimit | None]]


def role_defaults(*, below_rank: int | None = None, include_role_id: int | None = None) -> list[RoleDefaults]:
    """Each role's default limits per active type, highest rank first, in three queries.

    `below_rank` keeps the roles ranked lower (those a person of that rank may change), plus
    `include_role_id` (one's own, shown but not editable).
    """
    roles = Role.objects.order_by("-rank", "code")
    if below_rank is not None:
        roles = roles.filter(Q(rank__lt=below_rank) | Q(pk=include_role_id))
    types = active_decision_types()
    rows = AuthorityLimit.objects.filter(role__isnull=False, decision_type__in=types).select_related("set_by__user")
    by_key = {(row.role_id, row.decision_type_id): row for row in rows}
    return [RoleDefaults(role=r, limits=[(t, by_key.get((r.pk, t.pk))) for t in types]) for r in roles]


def delegations_visible_to(*, employee: Employee) -> QuerySet[Delegation]:
    """Delegations given or held by `employee` or by anyone below them, the latest first."""
    below = subtree_ids(employee=employee, include_self=True)
    return (
        Delegation.objects.filter(Q(delegator_id__in=below) | Q(delegate_id__in=below))
        .select_related("delegator__user", "delegate__user", "created_by__user", "ended_by__user")
        .prefetch_related("decision_types")
        .order_by("-starts_at", "-id")
    )


def stand_in_duties(*, employee_ids: list[int], at: datetime | None = None) -> dict[int, list[Delegation]]:
    """stand-in id → the delegations they hold now (whose authority, for which types)."""
    at = at or timezone.now()
    duties: dict[int, list[Delegation]] = {}
    delegations = (
        Delegation.objects.active_at(at)
        .filter(delegate_id__in=employee_ids)
        .select_related("delegator__user")
        .prefetch_related("decision_types")
        .order_by("starts_at", "id")
    )
    for delegation in delegations:
        duties.setdefault(delegation.delegate_id, []).append(delegation)
    return duties


def people_below(*, employee: Employee) -> list[Employee]:
    """Everyone below `employee`, by username (e.g. whose stand-in a manager may set up)."""
    return list(Employee.objects.descendants(employee).select_related("user").order_by("user__username"))


def active_colleagues(*, limit: int = 1000) -> list[tuple[str, str]]:
    """(username, name) of active employees, for suggesting a stand-in."""
    rows = (
        Employee.objects.filter(user__is_active=True)
        .order_by("user__username")
        .values_list("user__username", "user__first_name", "user__last_name")[:limit]
    )
    return [(username, f"{first} {last}".strip() or username) for username, first, last in rows]
