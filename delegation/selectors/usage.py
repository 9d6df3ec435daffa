"""Limits and usage: counter keys, usage read from counters, each person's own limits, and the one
loader of both (`authority_snapshots`)."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Q,
)
from django.utils import timezone

from delegation.authority import NO_AUTHORITY, ZERO, Limits, Usage
from delegation.models import (
    AuthorityLimit,
    DecisionType,
    UsageCounter,
)
from empower.models import Employee


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
                result[(employee.pk, type_id)] = limits_of_row(row, "personal")
            elif row := by_role.get((employee.role_id, type_id)):
                result[(employee.pk, type_id)] = limits_of_row(row, "role")
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


def limits_of_row(row: AuthorityLimit, source: str) -> Limits:
    return Limits(row.per_decision, row.per_day, row.per_month, row.per_customer_month, source=source)
