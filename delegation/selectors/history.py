"""Authority over time: the timeline of grants and changes, and what someone could decide at a moment."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    CharField,
    Q,
    QuerySet,
    Sum,
)
from django.db.models.functions import Cast
from django.utils import timezone

from delegation.authority import CAPS, NO_AUTHORITY, ZERO, Limits
from delegation.models import (
    AuthorityLimit,
    Decision,
    DecisionType,
    Delegation,
)
from delegation.selectors.usage import active_decision_types
from empower.models import AuditRecord, Employee


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
