"""Limits and usage: counter keys, usage read from counters, each person's own limits, and the one
loader of both (`authority_snapshots`)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Q,
)
from django.utils import timezone

from delegation.authority import NO_AUTHORITY, ZERO, Limits, Usage, exceeded_limits
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


@dataclass(frozen=True)
class AuthoritySnapshot:
    """One person's own limits for one decision type and what they have used of them at a moment
    (with one customer's use of the type this month, where a customer was asked for)."""

    employee: Employee
    decision_type_id: int
    customer_id: int | None
    limits: Limits
    usage: Usage
    keys: CounterKeys
    # The counter rows, locked, when loaded with `lock=True` (empty otherwise): what approving moves.
    counters: dict[str, UsageCounter] = field(default_factory=dict, compare=False)

    def exceeded(self, amount: Decimal) -> list[str]:
        """The limits `amount` would break (the pure check); empty when it is within authority."""
        return exceeded_limits(self.limits, self.usage, amount)

    def covers(self, amount: Decimal) -> bool:
        return not self.exceeded(amount)

    def as_record(self) -> dict:
        """What a decision keeps of the limits and use that judged (or approved) it."""
        return self.limits.as_dict() | {
            "used_today": f"{self.usage.today:.2f}",
            "used_this_month": f"{self.usage.this_month:.2f}",
            "customer_used_this_month": f"{self.usage.customer_this_month:.2f}",
        }


SnapshotKey = tuple[int, int, int | None]  # (employee id, decision type id, customer id or None)


def authority_snapshots(
    *, wanted: Iterable[tuple[Employee, int, int | None]], at: datetime | None = None, lock: bool = False
) -> dict[SnapshotKey, AuthoritySnapshot]:
    """The one loader of "limits and usage of these people": for each (employee, decision type id,
    customer id or None) in `wanted`, their own limits at `at` and their use of them, keyed by
    (employee id, decision type id, customer id).

    Three queries whatever the number of people and types (two for the limits, one for the
    counters); with `lock=True` the counter rows are created where missing and locked
    `SELECT … FOR UPDATE` (one more query), for a caller that will move them in its transaction.

    Lock order, the same on every path so no two transactions deadlock: first the rows that
    serialize one person's work (the employee row: keyed submissions, limit changes, delegation
    set-ups), then a delegation or escalation row, then authority limit rows, and last the usage
    counters, here, always in key order.
    """
    at = at or timezone.now()
    wanted = list(dict.fromkeys((e, type_id, customer_id) for e, type_id, customer_id in wanted))
    if not wanted:
        return {}
    employees = list({e.pk: e for e, _type_id, _customer_id in wanted}.values())
    keys = {
        (e.pk, type_id, customer_id): counter_keys(
            holder_id=e.pk, decision_type_id=type_id, customer_id=customer_id, at=at
        )
        for e, type_id, customer_id in wanted
    }
    all_keys = sorted({k for ck in keys.values() for k in ck.all()})
    counters: dict[str, UsageCounter] = {}
    if lock:
        UsageCounter.objects.bulk_create([UsageCounter(key=k) for k in all_keys], ignore_conflicts=True)
        counters = {c.key: c for c in UsageCounter.objects.select_for_update().filter(key__in=all_keys).order_by("key")}
        amounts = {key: c.amount for key, c in counters.items()}
    else:
        amounts = counter_amounts(keys=all_keys)
    limits = own_limits(employees=employees, decision_type_ids=sorted({t for _e, t, _c in wanted}), at=at)
    result = {}
    for employee, type_id, customer_id in wanted:
        key = (employee.pk, type_id, customer_id)
        result[key] = AuthoritySnapshot(
            employee=employee,
            decision_type_id=type_id,
            customer_id=customer_id,
            limits=limits[(employee.pk, type_id)],
            usage=usage_from(amounts, keys[key]),
            keys=keys[key],
            counters={k: counters[k] for k in keys[key].all()} if lock else {},
        )
    return result


def authority_snapshot(
    *,
    employee: Employee,
    decision_type_id: int,
    customer_id: int | None,
    at: datetime | None = None,
    lock: bool = False,
) -> AuthoritySnapshot:
    """`authority_snapshots` for one person, one type (and one customer)."""
    wanted = [(employee, decision_type_id, customer_id)]
    return authority_snapshots(wanted=wanted, at=at, lock=lock)[(employee.pk, decision_type_id, customer_id)]
