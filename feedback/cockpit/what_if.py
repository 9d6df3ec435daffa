"""What if: the last N days replayed against proposed limits.

A manager picks a decision type, one person or a role (optionally in one team), and proposed values
for any of the four limits (those not given stay as each person's limits are now). Every past
decision of that type by those people is replayed in time order through the pure authority check
(`delegation.authority.exceeded_limits`), with the caps recomputed from the replayed outcomes:

- a decision within the proposed authority counts on its maker's per-day and per-month caps and on
  its customer's month, when it was made;
- a decision escalated under the proposal counts on its customer's month only if an approver
  actually approved it (with the amount they approved, from when they approved it) — a decision
  that was within authority and would now be escalated is assumed approved as it was;
- decisions of that type by anyone else count on the customer's month as they actually happened.

The replay starts at the beginning of the month the window starts in, so the first month's caps
see that month's earlier decisions; only the decisions inside the window are reported. The result:
escalations avoided and decisions newly escalated, the approver time saved (the measured time from
escalation to answer of each escalation avoided), the money that would have been decided at the
edge, and, as the risk, the decisions approvers rejected or cut that the proposal would have
approved at the edge.

At most two queries for the replay (see `_replay_rows`) plus the people and their limits: the same
number for one person or a role of thousands.
"""

import heapq
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import BigIntegerField, Case, F, Q, QuerySet, When
from django.db.models.functions import Cast, Round
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.authority import CAPS, ZERO, Limits, exceeded_limits
from delegation.models import AuthorityLimit, Decision, DecisionType
from delegation.selectors import own_limits
from delegation.services import limit_set, role_limit_set
from empower.errors import InvalidInput, NotAllowed
from empower.models import Employee, Role, Team
from empower.selectors import is_above

DEFAULT_DAYS = 90
MAX_DAYS = 365
WITHIN, ESCALATED = "within_authority", "escalated"
CHANGED_SHOWN = 5000  # the API lists every change up to this many (the count is always exact)
MANY_PEOPLE = 200  # from this many people on, everyone else's approvals are read whole (see `what_if`)


@dataclass(frozen=True)
class WhatIfScope:
    """Whose decisions, of which type, against which proposed values (only the caps given)."""

    decision_type: DecisionType
    people: list[Employee]
    proposed: dict[str, Decimal | None]
    days: int
    employee: Employee | None = None
    role: Role | None = None
    team: Team | None = None


@dataclass
class WhatIfResult:
    decisions: int = 0
    escalated_before: int = 0
    escalated_after: int = 0
    escalations_avoided: int = 0
    newly_escalated: int = 0
    amount_moved_to_edge: Decimal = ZERO
    amount_moved_up: Decimal = ZERO
    approver_hours_saved: float = 0.0
    rejected_or_cut_now_at_edge: int = 0
    amount_at_risk: Decimal = ZERO
    changed: list[dict] = field(default_factory=list)
    changed_total: int = 0
    people: int = 0
    days: int = DEFAULT_DAYS


def what_if_scope(
    *,
    viewer: Employee,
    decision_type: DecisionType,
    employee: Employee | None = None,
    role: Role | None = None,
    team: Team | None = None,
    proposed: dict[str, Decimal | None],
    days: int = DEFAULT_DAYS,
) -> WhatIfScope:
    """Check the question and find the people: one person below `viewer`, or everyone of `role` below
    them (in `team`, if given). Bad combinations are 400; someone not below the viewer 403."""
    if (employee is None) == (role is None):
        message = _("Choose one person, or a role (optionally in one team).")
        raise InvalidInput(message, field_errors={"employee": [message]})
    if team is not None and role is None:
        message = _("A team narrows a role; choose the role too.")
        raise InvalidInput(message, field_errors={"team": [message]})
    if not 1 <= days <= MAX_DAYS:
        message = _("Between 1 and %(max)s days.") % {"max": MAX_DAYS}
        raise InvalidInput(message, field_errors={"days": [message]})
    unknown = set(proposed) - set(CAPS)
    if unknown:
        raise InvalidInput(_("Unknown limits: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    if employee is not None:
        if not is_above(manager=viewer, employee=employee):
            raise NotAllowed(_("Only someone above this person may ask what-if about them."), code="not_above")
        people = [employee]
    else:
        below = Employee.objects.below(viewer).filter(role=role).select_related("user")
        if team is not None:
            below = below.filter(team=team)
        people = list(below.order_by("pk"))
    return WhatIfScope(decision_type, people, dict(proposed), days, employee=employee, role=role, team=team)


def _calendar(start: datetime, end: datetime) -> tuple[list[float], list[tuple[int, int]]]:
    """The timestamps of the organization's local midnights from `start` (a local midnight) to past
    `end`, and the (year, month) of each of those days."""
    tz = timezone.get_current_timezone()
    day = timezone.localtime(start).date()
    last = timezone.localtime(end).date() + timedelta(days=1)
    starts, months = [], []
    while day <= last:
        starts.append(datetime.combine(day, time.min, tzinfo=tz).timestamp())
        months.append((day.year, day.month))
        day += timedelta(days=1)
    return starts, months


def _cents(field: str) -> Cast:
    """An amount in whole cents: the replay adds and compares 100,000 of them, and integers cost
    Python a fraction of what Decimals do (exact: amounts have two decimals)."""
    return Cast(Round(F(field) * 100), BigIntegerField())


def _replay_rows(ids: list[int], type_id: int, since: datetime) -> tuple[list[tuple], list[tuple]]:
    """The decisions to replay, in time order: (pk, maker, customer, amount, final amount, status,
    within authority, created, decided), amounts in cents. Then everyone else's approvals of that
    type counting on the same customers' months: (customer, counted cents, moment).

    For a few people, the database finds their decisions by maker and the others' approvals by those
    customers. For many (a role across teams) most decisions of the type are theirs: one pass over
    the type's window in time order (the covering index `decision_type_replay`, no table reads) is
    cheaper than searching thousands of makers, and the others' approvals fall out of the same pass.
    """
    columns = ("pk", "made_by_id", "customer_id", "cents", "final_cents", "status", "within_authority")
    columns += ("created_at", "decided")
    approved = Decision.Status.APPROVED
    # A decision made within authority was approved as made, when made: its final amount and moment
    # are its own, so they are read only for escalated ones (most rows then carry two NULLs, which
    # cost the driver nothing to convert).
    escalated = Q(within_authority=False)
    of_type = Decision.objects.filter(decision_type_id=type_id, created_at__gte=since).annotate(
        cents=_cents("amount"),
        final_cents=Case(When(escalated, then=_cents("final_amount"))),
        decided=Case(When(escalated, then=F("decided_at"))),
    )
    if len(ids) > MANY_PEOPLE:
        people = set(ids)
        rows, theirs = [], []
        for row in of_type.order_by("created_at", "id").values_list(*columns):
            if row[1] in people:
                rows.append(row)
            elif row[5] == approved:
                theirs.append((row[2], row[4] or row[3], row[8] or row[7]))
        return rows, theirs
    ours = of_type.filter(made_by_id__in=ids)
    rows = list(ours.order_by("created_at", "id").values_list(*columns))
    others = (
        of_type.filter(status=approved, customer_id__in=ours.order_by().values("customer_id"))
        .exclude(made_by_id__in=ids)
        .values_list("customer_id", "final_cents", "cents", "decided", "created_at")
    )
    theirs = [(customer, final or amount, decided or created) for customer, final, amount, decided, created in others]
    return rows, theirs


class _MakerUse:
    """One maker's use as the replay goes, in time order (a new day or month starts the count again),
    with the current customer's month: what `exceeded_limits` reads from a `Usage`, kept in place
    rather than built anew for each of 100,000 decisions."""

    __slots__ = ("customer_this_month", "day", "month", "this_month", "today")

    def __init__(self, day: int, month: tuple[int, int]) -> None:
        self.day, self.month = day, month
        self.today = self.this_month = self.customer_this_month = 0


def what_if(*, scope: WhatIfScope, now: datetime | None = None) -> WhatIfResult:
    """Replay the window (see the module's docstring)."""
    now = now or timezone.now()
    result = WhatIfResult(people=len(scope.people), days=scope.days)
    if not scope.people:
        return result
    type_id = scope.decision_type.pk
    current = own_limits(employees=scope.people, decision_type_ids=[type_id], at=now)
    limits: dict[int, Limits] = {}
    for person in scope.people:
        now_limits = current[(person.pk, type_id)]
        values = {cap: scope.proposed.get(cap, getattr(now_limits, cap)) for cap in CAPS}
        in_cents = {cap: None if value is None else int(value * 100) for cap, value in values.items()}
        limits[person.pk] = Limits(**in_cents, source=now_limits.source)

    window_start = now - timedelta(days=scope.days)
    local_start = timezone.localtime(window_start)
    replay_from = local_start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    rows, theirs = _replay_rows([person.pk for person in scope.people], type_id, replay_from)
    if not rows:
        return result
    # The organization's days and months over the replay, as moments: a decision's day is found by
    # bisection on its timestamp (converting 100,000 moments to local time one by one costs seconds).
    day_starts, day_month = _calendar(replay_from, now)
    # Approvals waiting to count: (moment, sequence, customer, amount), popped once the replay reaches them.
    pending = [
        (moment.timestamp(), sequence, customer, counted) for sequence, (customer, counted, moment) in enumerate(theirs)
    ]
    sequence = len(pending)
    heapq.heapify(pending)

    used: dict[int, _MakerUse] = {}
    customer_used: dict[tuple, int] = defaultdict(int)  # cents, as every amount of the replay
    changed: list[dict] = []
    seconds_saved = 0.0
    to_edge = up = at_risk = 0
    decisions = escalated_before = escalated_after = 0  # counted in locals: 100,000 times each
    approved, rejected = Decision.Status.APPROVED, Decision.Status.REJECTED
    window_from = window_start.timestamp()
    heappop, heappush = heapq.heappop, heapq.heappush

    for pk, maker, customer, amount, final_amount, status, was_within, created_at, decided_at in rows:
        moment = created_at.timestamp()
        while pending and pending[0][0] <= moment:
            when, _seq, who, counted = heappop(pending)
            customer_used[(who, day_month[bisect_right(day_starts, when) - 1])] += counted
        day = bisect_right(day_starts, moment) - 1
        month = day_month[day]
        mine = used.get(maker)
        if mine is None:
            mine = used[maker] = _MakerUse(day, month)
        elif mine.day != day:
            mine.day, mine.today = day, 0
            if mine.month != month:
                mine.month, mine.this_month = month, 0
        customer_key = (customer, month)
        mine.customer_this_month = customer_used[customer_key]
        now_within = not exceeded_limits(limits[maker], mine, amount)
        if now_within:
            mine.today += amount
            mine.this_month += amount
            customer_used[customer_key] += amount
        elif status == approved:  # escalated, and approved as it actually was, when it was
            sequence += 1
            heappush(pending, ((decided_at or created_at).timestamp(), sequence, customer, final_amount or amount))
        if moment < window_from:
            continue  # the month before the window: it moves the caps, it is not reported
        decisions += 1
        if not was_within:
            escalated_before += 1
        if not now_within:
            escalated_after += 1
        if was_within == now_within:
            continue
        result.changed_total += 1
        if len(changed) < CHANGED_SHOWN:
            changed.append(
                {
                    "decision": pk,
                    "before": WITHIN if was_within else ESCALATED,
                    "after": WITHIN if now_within else ESCALATED,
                }
            )
        if now_within:
            result.escalations_avoided += 1
            to_edge += amount
            if status in (approved, rejected) and decided_at is not None:
                seconds_saved += (decided_at - created_at).total_seconds()
            if status == rejected or (status == approved and final_amount is not None and final_amount < amount):
                result.rejected_or_cut_now_at_edge += 1
                at_risk += amount - (final_amount if status == approved else 0)
        else:
            result.newly_escalated += 1
            up += amount
    result.decisions, result.escalated_before, result.escalated_after = decisions, escalated_before, escalated_after
    result.amount_moved_to_edge, result.amount_moved_up, result.amount_at_risk = (
        Decimal(cents).scaleb(-2) for cents in (to_edge, up, at_risk)
    )
    result.approver_hours_saved = round(seconds_saved / 3600, 2)
    result.changed = changed
    return result


def what_if_reason(*, scope: WhatIfScope, result: WhatIfResult) -> str:
    """The reason an applied what-if gives, naming its evidence."""
    return str(
        _(
            "What-if over the last %(days)s days of %(type)s: %(avoided)s escalations avoided, %(new)s newly "
            "escalated, %(amount)s decided at the edge, %(risk)s rejected or cut by approvers."
        )
        % {
            "days": scope.days,
            "type": scope.decision_type.code,
            "avoided": result.escalations_avoided,
            "new": result.newly_escalated,
            "amount": f"{result.amount_moved_to_edge:.2f}",
            "risk": result.rejected_or_cut_now_at_edge,
        }
    )


@transaction.atomic
def what_if_apply(*, viewer: Employee, scope: WhatIfScope, reason: str) -> list[AuthorityLimit]:
    """ "Apply this": the proposed values through the granting rules. One person, or every member of a
    role in one team: their personal limits (`limit_set`: only from above them, never above the
    granter's own). A role across the company below the viewer: the role's defaults
    (`role_limit_set`: only from a higher role), the caps not proposed kept as they are."""
    if not scope.proposed:
        message = _("Propose at least one limit.")
        raise InvalidInput(message, field_errors={"per_decision": [message]})
    values = {cap: "" if value is None else value for cap, value in scope.proposed.items()}
    if scope.employee is not None or scope.team is not None:
        return [
            limit_set(granter=viewer, employee=person, decision_type=scope.decision_type, values=values, reason=reason)
            for person in scope.people
        ]
    # A role's defaults apply to everyone of that role: only when the what-if covered all of them.
    everyone = Employee.objects.filter(role=scope.role, user__is_active=True).count()
    if len({p.pk for p in scope.people if p.is_active}) < everyone:
        raise NotAllowed(
            _(
                "Your what-if covered the people of this role below you, not everyone who holds it: choose one "
                "team to give them personal limits, or ask someone above everyone of this role."
            ),
            code="not_above",
        )
    row = AuthorityLimit.objects.filter(role=scope.role, decision_type=scope.decision_type).first()
    merged = {cap: getattr(row, cap) if row else None for cap in CAPS} | values
    return [
        role_limit_set(granter=viewer, role=scope.role, decision_type=scope.decision_type, values=merged, reason=reason)
    ]


def roles_and_teams_below(*, viewer: Employee) -> tuple[QuerySet[Role], QuerySet[Team]]:
    """The roles and teams a what-if form offers: those of the people below the viewer."""
    below = Employee.objects.below(viewer).order_by()
    return (
        Role.objects.filter(pk__in=below.values("role_id")).order_by("rank", "code"),
        Team.objects.filter(pk__in=below.values("team_id")).order_by("name"),
    )
