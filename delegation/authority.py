"""The authority check, as a pure function: no database, so it can be tested exhaustively.

Given an employee's limits for one decision type, what they have already used, and a proposed
amount, it answers which limits the proposal would exceed. An empty answer means "within
authority". `None` as a limit means "no limit".
"""

from dataclasses import dataclass
from decimal import Decimal

CAPS = ("per_decision", "per_day", "per_month", "per_customer_month")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Limits:
    per_decision: Decimal | None
    per_day: Decimal | None
    per_month: Decimal | None
    per_customer_month: Decimal | None
    # Where the limits come from: "role", "personal", "stand-in" or "none".
    source: str = "role"

    def as_dict(self) -> dict[str, str | None]:
        return {cap: _text(getattr(self, cap)) for cap in CAPS} | {"source": self.source}


NO_AUTHORITY = Limits(ZERO, ZERO, ZERO, ZERO, source="none")


@dataclass(frozen=True)
class Usage:
    """Approved amounts counted so far in each cap's period."""

    today: Decimal = ZERO
    this_month: Decimal = ZERO
    customer_this_month: Decimal = ZERO


def exceeded_limits(limits: Limits, usage: Usage, amount: Decimal) -> list[str]:
    """The limits that `amount` would break, in the contract's order; empty when within authority."""
    checks = (
        ("per_decision", limits.per_decision, ZERO),
        ("per_day", limits.per_day, usage.today),
        ("per_month", limits.per_month, usage.this_month),
        ("per_customer_month", limits.per_customer_month, usage.customer_this_month),
    )
    return [cap for cap, limit, used in checks if limit is not None and used + amount > limit]


def remaining(limit: Decimal | None, used: Decimal) -> Decimal | None:
    """What is left of a cap (never below zero); `None` when there is no limit."""
    return None if limit is None else max(limit - used, ZERO)


def _text(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def nearest_covering(candidates: list[tuple[int, Limits, Usage]], amount: Decimal) -> int | None:
    """Routing: the first candidate (nearest first) whose authority covers `amount` on every cap."""
    for employee_id, limits, usage in candidates:
        if not exceeded_limits(limits, usage, amount):
            return employee_id
    return None
