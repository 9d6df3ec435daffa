"""What people may decide: one person's authority now, the matrix of everyone below a manager, the
limits a form starts from, temporary windows and role defaults."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from delegation.authority import NO_AUTHORITY, Limits, remaining
from delegation.models import (
    AuthorityLimit,
    DecisionType,
)
from delegation.selectors.stand_ins import active_stand_ins, delegations_held
from delegation.selectors.usage import (
    active_decision_types,
    authority_snapshots,
    limits_of_row,
    running_windows,
)
from empower.models import Employee, Role


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


@dataclass(frozen=True)
class AuthorityLine:
    """What someone may decide of one type, how much of each cap is used and what is left."""

    decision_type: DecisionType
    limits: Limits
    used_today: Decimal
    used_this_month: Decimal
    acting_for: Employee | None = None  # set on a stand-in's borrowed line
    window: AuthorityLimit | None = None  # the temporary limit that applies now, where one runs
    # Set when the line was read for one customer (the case page): what that customer has had of this
    # type this month, by anyone; None when no customer was asked for.
    customer_used_this_month: Decimal | None = None

    @property
    def remaining_today(self) -> Decimal | None:
        return remaining(self.limits.per_day, self.used_today)

    @property
    def remaining_this_month(self) -> Decimal | None:
        return remaining(self.limits.per_month, self.used_this_month)

    @property
    def remaining_for_customer(self) -> Decimal | None:
        """What is left of the per-customer-per-month cap for the customer the line was read for
        (None: no such cap, or no customer asked for)."""
        if self.customer_used_this_month is None:
            return None
        return remaining(self.limits.per_customer_month, self.customer_used_this_month)

    @property
    def available_now(self) -> Decimal | None:
        """The largest single decision that would pass right now: the per-decision limit and what is
        left today and this month, and, when read for a customer, what is left of their monthly cap
        (so the case page never promises more than the check would allow)."""
        caps = (self.limits.per_decision, self.remaining_today, self.remaining_this_month, self.remaining_for_customer)
        caps = [c for c in caps if c is not None]
        return min(caps) if caps else None


@dataclass
class Authority:
    employee: Employee
    lines: list[AuthorityLine]
    borrowed: list[AuthorityLine] = field(default_factory=list)


def authority_of(*, employee: Employee, at: datetime | None = None, customer_id: int | None = None) -> Authority:
    """An employee's effective authority now: own limits per type, plus any held as a stand-in.

    With `customer_id` (the case page), each line also counts what that customer has had this month,
    so `available_now` is what the authority check would let through for this customer."""
    at = at or timezone.now()
    types = active_decision_types()
    held = delegations_held(employee=employee, at=at)
    delegators = {d.delegator.pk: d.delegator for d in held}
    snapshots = authority_snapshots(
        wanted=[(holder, t.pk, customer_id) for holder in [employee, *delegators.values()] for t in types], at=at
    )

    def line(holder_id: int, decision_type: DecisionType, acting_for: Employee | None = None) -> AuthorityLine:
        held = snapshots[(holder_id, decision_type.pk, customer_id)]
        own = held.limits
        source = "stand-in" if acting_for else own.source
        return AuthorityLine(
            decision_type=decision_type,
            limits=Limits(own.per_decision, own.per_day, own.per_month, own.per_customer_month, source=source),
            used_today=held.usage.today,
            used_this_month=held.usage.this_month,
            acting_for=acting_for,
            customer_used_this_month=held.usage.customer_this_month if customer_id else None,
        )

    types_by_id = {t.pk: t for t in types}
    borrowed = [
        line(d.delegator.pk, types_by_id[t.pk], acting_for=d.delegator)
        for d in held
        for t in d.decision_types.all()
        if t.pk in types_by_id
    ]
    return Authority(employee=employee, lines=[line(employee.pk, t) for t in types], borrowed=borrowed)


@dataclass(frozen=True)
class MatrixRow:
    employee: Employee
    cells: list[AuthorityLine]


def matrix_teams(*, manager: Employee) -> list[tuple[int, str, int]]:
    """The teams of everyone below `manager` as (id, name, how many people), by name: the matrix's index."""
    # Counted in the database: a director's subtree is the whole company, the answer a few dozen rows.
    counts = Employee.objects.below(manager).order_by().values_list("team_id", "team__name").annotate(n=Count("pk"))
    return sorted(counts, key=lambda t: (t[1], t[0]))


def matrix_people(*, manager: Employee, team_id: int | None = None) -> QuerySet[Employee]:
    """Everyone below `manager` (or those of one team), in the matrix's order: by team, then username."""
    below = Employee.objects.below(manager)
    if team_id is not None:
        below = below.filter(team_id=team_id)
    return below.select_related("user", "role", "team").order_by("team__name", "user__username")


def authority_matrix(
    *,
    manager: Employee,
    at: datetime | None = None,
    team_id: int | None = None,
    types: list[DecisionType] | None = None,
    people: list[Employee] | None = None,
) -> dict[str, list[MatrixRow]]:
    """Everyone below `manager` (or those of one team; or `people`, a page of `matrix_people`), grouped
    by team: each type's effective limits, source and use, and the temporary limit that applies where
    one runs (with its end).

    A constant number of queries whatever the size of the subtree.
    """
    at = at or timezone.now()
    if people is None:
        people = list(matrix_people(manager=manager, team_id=team_id))
    types = active_decision_types() if types is None else types
    type_ids = [t.pk for t in types]
    snapshots = authority_snapshots(wanted=[(p, t.pk, None) for p in people for t in types], at=at)
    stand_ins = active_stand_ins(employee_ids=[p.pk for p in people], at=at)
    windows = running_windows(employee_ids=[p.pk for p in people], decision_type_ids=type_ids, at=at)
    teams: dict[str, list[MatrixRow]] = {}
    for person in people:
        cells = []
        for t in types:
            held = snapshots[(person.pk, t.pk, None)]
            cells.append(
                AuthorityLine(
                    decision_type=t,
                    limits=held.limits,
                    used_today=held.usage.today,
                    used_this_month=held.usage.this_month,
                    acting_for=stand_ins.get((person.pk, t.pk)),
                    window=windows.get((person.pk, t.pk)),
                )
            )
        teams.setdefault(person.team.name, []).append(MatrixRow(employee=person, cells=cells))
    return teams


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
    return limits_of_row(row, "personal" if row.employee_id else "role")


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
