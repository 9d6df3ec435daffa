"""Possible splits the caller may see: those of everyone below them (their manager is told)."""

from django.db.models import QuerySet

from delegation.models import SplitFlag
from empower.models import Employee


def split_flags_visible_to(*, employee: Employee) -> QuerySet[SplitFlag]:
    below = Employee.objects.below(employee).order_by().values("pk")  # a subquery, not a list of ids
    return (
        SplitFlag.objects.filter(made_by_id__in=below)
        .select_related("made_by__user", "manager__user", "decision_type", "customer")
        .prefetch_related("decisions")
        .order_by("-created_at", "-id")
    )
