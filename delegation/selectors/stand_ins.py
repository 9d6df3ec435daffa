"""Stand-ins: the delegations running, given, held and visible."""

from datetime import datetime

from django.db.models import (
    Q,
    QuerySet,
)
from django.utils import timezone

from delegation.models import (
    Delegation,
)
from empower.models import Employee
from empower.selectors import subtree_ids


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
