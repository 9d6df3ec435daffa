"""Decisions and escalations: who sees and who may answer them, the inbox, and what routing and the
review pick up."""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db.models import (
    BooleanField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models import Case as SqlCase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import (
    Decision,
    Delegation,
    Escalation,
    Heartbeat,
    ResponseTime,
)
from delegation.selectors.usage import authority_snapshots
from empower.errors import Conflict, DomainError, NotAllowed, NotFound
from empower.models import Case, Employee
from empower.selectors import visible_team_ids


def decisions_for_case(*, case: Case) -> QuerySet[Decision]:
    """A case's decisions, the latest first, with their type and escalation; `with_people` loads the
    people they name once they are read."""
    decisions = Decision.objects.filter(case=case).select_related("decision_type", "escalation")
    return decisions.order_by("-created_at", "-id")


# The people a decision names, and its escalation: the assignee, the approver ("Bob (standing in for
# Carol)") and who decided.
_DECISION_PEOPLE = (Decision.made_by.field, Decision.approved_by.field, Decision.authority_of.field)
_ESCALATION_PEOPLE = (Escalation.assigned_to.field, Escalation.approver.field, Escalation.decided_by.field)


def with_people(decisions: Iterable[Decision]) -> list[Decision]:
    """`decisions` (with their escalations loaded) with the people they name and those people's users,
    in one query. Joined into the decisions' own query, the sixteen tables took PostgreSQL 10 to 17 ms
    to plan for 1 or 2 ms of work, on every case page and every poll of a waiting decision's card."""
    decisions = list(decisions)
    named = [(d, _DECISION_PEOPLE) for d in decisions]
    named += [(e, _ESCALATION_PEOPLE) for d in decisions if (e := getattr(d, "escalation", None)) is not None]
    ids = {getattr(row, field.attname) for row, fields in named for field in fields} - {None}
    people = Employee.objects.select_related("user").in_bulk(ids) if ids else {}
    for row, fields in named:
        for field in fields:
            field.set_cached_value(row, people.get(getattr(row, field.attname)))
    return decisions


def decisions_visible_to(*, employee: Employee) -> QuerySet[Decision]:
    return Decision.objects.filter(case__team_id__in=visible_team_ids(employee=employee)).select_related(
        "decision_type", "made_by__user", "approved_by__user", "authority_of__user", "case"
    )


def _answerable_by(employee: Employee, at: datetime) -> Q:
    """Who may answer an escalation, as one filter: its approver, or whoever holds an active
    delegation from the approver for its decision type at `at`; never the requester.

    The one home of the rule: `answer_refusal` (which the service raises), `may_answer`, the inbox
    and the pages' `can_answer` all build on it. A stale assignment to a former stand-in authorizes
    nothing, and authority is never chained (a stand-in of the approver's stand-in holds nothing of
    the approver's).
    """
    stands_in_for_approver = Exists(
        Delegation.objects.active_at(at).filter(
            delegate_id=employee.pk,
            delegator_id=OuterRef("approver_id"),
            decision_types=OuterRef("decision__decision_type_id"),
        )
    )
    return (Q(approver_id=employee.pk) | Q(stands_in_for_approver)) & ~Q(decision__made_by_id=employee.pk)


def _flag(condition: Q) -> SqlCase:
    return SqlCase(When(condition, then=Value(True)), default=Value(False), output_field=BooleanField())


def with_answer_rights(
    escalations: QuerySet[Escalation], *, employee: Employee, at: datetime | None = None
) -> QuerySet[Escalation]:
    """Annotate what `employee` may do with each escalation at `at`: `answerable` (theirs to answer,
    whatever its status), `can_answer` (and waiting for an answer now: the forms show only then),
    and `overdue` (`Escalation.overdue_q`). `answer_refusal` reads the same two flags."""
    at = at or timezone.now()
    answerable = _answerable_by(employee, at)
    return escalations.annotate(
        answerable=_flag(answerable),
        can_answer=_flag(answerable & Q(status=Escalation.Status.ASSIGNED)),
        overdue=Escalation.overdue_annotation(at),
    )


def answer_refusal(*, escalation: Escalation, employee: Employee, at: datetime | None = None) -> DomainError | None:
    """Why `employee` may not approve or reject `escalation` now (None: they may), in the contract's
    order: whoever may not see it is told there is none (404, as a read answers: ids cannot be
    probed); the requester never (403); anyone else but the approver or the approver's active
    stand-in for its type is refused (403); only then is one not waiting for an answer a conflict (409).

    The service raises it (on the locked row); the pages show the forms from the `can_answer` that
    `with_answer_rights` annotates from the same filter, and a test holds the two together.
    """
    if escalation.decision.made_by_id == employee.pk:
        return NotAllowed(_("Nobody approves their own decision."), code="own_decision")
    rights = with_answer_rights(Escalation.objects.filter(pk=escalation.pk), employee=employee, at=at)
    answerable, open_to_them = rights.values_list("answerable", "can_answer").first() or (False, False)
    if not answerable:
        # Only on a refusal: one more query to tell "not yours" (403) from "not yours to see" (404).
        if not escalations_visible_to(employee=employee, at=at).filter(pk=escalation.pk).exists():
            return NotFound(_("No such escalation."), code="escalation_not_found")
        return NotAllowed(_("This escalation is assigned to someone else."), code="not_assignee")
    if not open_to_them:
        return Conflict(
            _("This escalation is already %(status)s.") % {"status": escalation.get_status_display().lower()},
            code="already_decided",
        )
    return None


def may_answer(*, escalation: Escalation, employee: Employee, at: datetime | None = None) -> bool:
    """Whether `employee` is the one to approve or reject `escalation` (whatever its status) at `at`."""
    at = at or timezone.now()
    return Escalation.objects.filter(pk=escalation.pk).filter(_answerable_by(employee, at)).exists()


def withdraw_refusal(*, escalation: Escalation, employee: Employee) -> DomainError | None:
    """Why `employee` may not withdraw `escalation` now (None: they may): only the employee who
    asked (403), and only while it waits (routing, assigned or unroutable; 409 otherwise).

    The service raises it; the case page and the escalation page show "Withdraw" exactly when it is None.
    Reads `escalation.decision` (select it with the escalation).
    """
    if escalation.decision.made_by_id != employee.pk:
        return NotAllowed(_("Only the employee who asked can withdraw an escalation."), code="not_requester")
    if not escalation.is_open:
        return Conflict(
            _("This escalation is already %(status)s.") % {"status": escalation.get_status_display().lower()},
            code="already_decided",
        )
    return None


def may_withdraw(*, escalation: Escalation, employee: Employee) -> bool:
    return withdraw_refusal(escalation=escalation, employee=employee) is None


class _AmongSubquery(Func):
    """`column IN (subquery)`, written on PostgreSQL as `column = ANY(ARRAY(subquery))`: the planner runs
    the subquery once (an InitPlan) and uses its array as an index condition, even inside an OR, where a
    plain `IN (subquery)` becomes a filter tested on every row."""

    arity = 2
    output_field = BooleanField()

    def as_sql(self, compiler, connection, **extra_context):
        column, subquery = (compiler.compile(e) for e in self.get_source_expressions())
        return f"{column[0]} IN {subquery[0]}", (*column[1], *subquery[1])

    def as_postgresql(self, compiler, connection, **extra_context):
        column, subquery = (compiler.compile(e) for e in self.get_source_expressions())
        return f"{column[0]} = ANY(ARRAY{subquery[0]})", (*column[1], *subquery[1])


def _inbox_candidates(employee: Employee, at: datetime, *, answered: bool = True) -> Q:
    """A superset of the inbox as plain column filters, so PostgreSQL reads it from the approver
    (and decided-by) indexes instead of testing `_answerable_by`'s EXISTS on every escalation; the
    exact rule is applied on top of it. Whose stand-in the employee is comes in the same statement
    (`_AmongSubquery`), so the header's count costs no extra query."""
    delegators = Delegation.objects.active_at(at).filter(delegate_id=employee.pk).values("delegator_id")
    candidates = Q(approver_id=employee.pk) | Q(_AmongSubquery(F("approver_id"), Subquery(delegators)))
    return candidates | Q(decided_by_id=employee.pk) if answered else candidates


def escalation_inbox(*, employee: Employee, at: datetime | None = None) -> QuerySet[Escalation]:
    """What the employee may answer (as the approver, or as the approver's active stand-in for its
    type) and what they answered; open ones first, the nearest deadline first.

    Open rows are exactly those `answer_refusal` allows; each row carries `can_answer` and `overdue`
    (`with_answer_rights`). Read through the approver and decided-by indexes (`_inbox_candidates`),
    so its cost follows the employee's own escalations, not the table's.
    """
    at = at or timezone.now()
    mine = _answerable_by(employee, at) & ~Q(status__in=[Escalation.Status.ROUTING, Escalation.Status.UNROUTABLE])
    answered = Q(decided_by_id=employee.pk) & ~Q(decision__made_by_id=employee.pk)
    escalations = Escalation.objects.filter(_inbox_candidates(employee, at)).filter(mine | answered)
    return (
        with_answer_rights(escalations, employee=employee, at=at)
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
            "id",
        )
    )


def escalations_to_answer(*, employee: Employee, at: datetime | None = None) -> QuerySet[Escalation]:
    """The inbox's open part: escalations waiting for `employee`'s answer now (`can_answer`), read
    from the partial index of assigned escalations by approver. The header counts these."""
    at = at or timezone.now()
    return Escalation.objects.filter(
        _inbox_candidates(employee, at, answered=False),
        _answerable_by(employee, at),
        status=Escalation.Status.ASSIGNED,
    )


def escalations_visible_to(*, employee: Employee, at: datetime | None = None) -> QuerySet[Escalation]:
    """The requester, the assignee, the approver and the people above any of them see an escalation;
    so do the approver's active stand-in and whoever answered it. Each row carries `can_answer` and
    `overdue` (`with_answer_rights`)."""
    at = at or timezone.now()
    # A subquery, not a list of ids: a director's subtree is the whole company.
    below = Employee.objects.below(employee, include_self=True).order_by().values("pk")
    seen = (
        Q(decision__made_by_id__in=below)
        | Q(assigned_to_id__in=below)
        | Q(approver_id__in=below)
        | Q(decided_by_id=employee.pk)
        | _answerable_by(employee, at)
    )
    return with_answer_rights(Escalation.objects.filter(seen), employee=employee, at=at).select_related(
        "decision__decision_type", "decision__made_by__user", "assigned_to__user", "approver__user"
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
        Escalation.objects.filter(Escalation.overdue_q(at))
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    seen = set(overdue)
    beyond = [pk for pk in escalations_beyond_capacity(at=at) if pk not in seen]
    return overdue + beyond[: limit - len(overdue)]


def escalations_to_remind(*, at: datetime | None = None, limit: int = 500) -> list[int]:
    """Assigned escalations whose reminder moment has come, the earliest first (read without locks)."""
    at = at or timezone.now()
    return list(
        Escalation.objects.filter(status=Escalation.Status.ASSIGNED, remind_at__lte=at)
        .order_by("remind_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


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
    approvers = {e.pk: e for e in approvers}
    snapshots = authority_snapshots(
        wanted=[
            (approvers[approver_id], type_id, customer_id) for _pk, approver_id, type_id, customer_id, _a in waiting
        ],
        at=at,
    )
    return [
        pk
        for pk, approver_id, type_id, customer_id, amount in waiting
        if snapshots[(approver_id, type_id, customer_id)].exceeded(amount)
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


def pending_escalations_of_case(*, case_id: int) -> QuerySet[Escalation]:
    """The escalations on a case still waiting for an answer (routing, assigned, or unroutable until an
    operator routes it again): while there is one, the case may not be resolved."""
    return (
        Escalation.objects.filter(decision__case_id=case_id, status__in=Escalation.OPEN_STATUSES)
        .select_related("decision__decision_type", "decision__made_by__user", "assigned_to__user")
        .order_by("created_at", "id")
    )


def register_case_flags() -> None:
    """What authority tells the queue of a case (`empower.selectors.CaseFlag`): an escalation waits
    (and for whom), a decision was approved."""
    from empower.selectors import CaseFlag, register_case_flag

    def waiting() -> QuerySet[Escalation]:
        return Escalation.objects.filter(decision__case_id=OuterRef("pk"), status__in=Escalation.OPEN_STATUSES)

    register_case_flag(
        "waiting",
        CaseFlag(
            exists=lambda: Exists(waiting()),
            who=lambda: Subquery(waiting().order_by("created_at", "id").values("assigned_to_id")[:1]),
        ),
    )
    register_case_flag(
        "approved",
        CaseFlag(
            exists=lambda: Exists(Decision.objects.filter(case_id=OuterRef("pk"), status=Decision.Status.APPROVED))
        ),
    )
