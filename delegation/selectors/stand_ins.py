"""Stand-ins: the delegations running, given, held and visible; who may end one."""

from datetime import datetime

from django.db.models import (
    Q,
    QuerySet,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import (
    Delegation,
    Timed,
)
from delegation.selectors.usage import cached_duties
from empower.errors import Conflict, DomainError, NotAllowed, NotFound
from empower.models import Employee
from empower.selectors import subtree_ids


def delegations_held(*, employee: Employee, at: datetime | None = None) -> list[Delegation]:
    """The stand-in duties `employee` holds right now, with the delegators and their types.

    Asked on every decision and every page, and nearly always answered "none": that answer is one
    query on one table (a join is planned anew each time, and costs more to plan than to run); the
    delegators and their types are loaded only when there is something to load.
    """
    at = at or timezone.now()
    held = list(Delegation.objects.active_at(at).filter(delegate=employee))
    if held:
        delegators = Employee.objects.select_related("user", "role").in_bulk({d.delegator_id for d in held})
        for delegation in held:
            delegation.delegator = delegators[delegation.delegator_id]
        prefetch_related_objects(held, "decision_types")
    return held


def authority_held_for(*, employee: Employee, decision_type_id: int, at: datetime) -> list[Employee]:
    """Whose authority for this decision type `employee` holds as a stand-in at `at`, the latest
    delegation first. Asked on every decision: read from the cache (`cached_duties`), so holding
    none (nearly always) costs no query; the delegators are read when there are some."""
    running = [
        delegation
        for delegation, type_ids in cached_duties(employee_id=employee.pk, at=at)
        if decision_type_id in type_ids and delegation.is_active_at(at)
    ]
    if not running:
        return []
    delegators = Employee.objects.select_related("user", "role").in_bulk({d.delegator_id for d in running})
    return [delegators[d.delegator_id] for d in sorted(running, key=lambda d: (d.starts_at, d.pk), reverse=True)]


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


def delegations_visible_to(*, employee: Employee) -> QuerySet[Delegation]:
    """Delegations given or held by `employee` or by anyone below them, the latest first."""
    below = Employee.objects.below(employee, include_self=True).values("pk")  # a subquery, not 5,000 ids
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


def delegation_end_refusal(
    *, delegation: Delegation, actor: Employee | None, at: datetime | None = None, below: set[int] | None = None
) -> DomainError | None:
    """Why `actor` may not end `delegation` at `at` (None: they may); `actor` None is the system or
    an operator who is no employee, held only to the delegation's state.

    Whoever may not see it (neither delegator nor stand-in is they or below them) is told there is
    no such delegation (404); the delegator or someone above them may end it, nobody else (403;
    the stand-in neither, unless above the delegator); one already over is a conflict (409).

    `delegation_end` raises it; the stand-ins page shows "End now" exactly when it is None.
    `below`: the actor's subtree, themselves included, when a page has loaded it for many rows.
    """
    at = at or timezone.now()
    if actor is not None and below is None:
        below = set(subtree_ids(employee=actor, include_self=True))
    if actor is not None and delegation.delegator_id not in below and delegation.delegate_id not in below:
        return NotFound(_("No such delegation."), code="delegation_not_found")
    if actor is not None and delegation.delegator_id not in below:
        return NotAllowed(_("Only the delegator or someone above them may end it."), code="not_above")
    if delegation.state_at(at) == Timed.ENDED:
        return Conflict(_("This delegation has already ended."), code="delegation_ended")
    return None


def may_end_delegation(
    *, delegation: Delegation, actor: Employee, at: datetime | None = None, below: set[int] | None = None
) -> bool:
    return delegation_end_refusal(delegation=delegation, actor=actor, at=at, below=below) is None
