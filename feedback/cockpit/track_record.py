"""Earned autonomy: each employee's track record over a period, and whose record most supports more authority.

A record counts, for the decisions a person made in the period: how many, how many within their
authority, how many escalated and what became of those (approved exactly as asked, approved for
less, rejected, withdrawn, still waiting), how many were corrected later (the case drew a follow-up
after the decision and a later decision on that case put it right), and, for the cases they
resolved in the period, the customers' average satisfaction and the follow-ups they drew.

Four aggregate queries for any number of people (decisions per maker, those corrected later,
surveys per resolver, follow-ups per resolver), so a director's list of thousands costs the same queries as one record.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Avg, Count, Exists, F, OuterRef, Q
from django.utils import timezone

from delegation.models import Decision
from empower.models import Employee
from feedback.models import FollowUp, Survey
from feedback.selectors import INSIGHT_PERIODS

ESCALATED = Q(within_authority=False)
APPROVED = Q(status=Decision.Status.APPROVED)


def period_start(period: str, *, now: datetime | None = None) -> datetime | None:
    """The first moment of `period` ("30", "90", "365" or "all": None)."""
    days = INSIGHT_PERIODS[period]
    return (now or timezone.now()) - timedelta(days=days) if days else None


def _corrected_later() -> Exists:
    """A decision whose case drew a follow-up after it, and a later decision on the case after that follow-up."""
    remedy = Decision.objects.filter(case_id=OuterRef("case_id"), created_at__gt=OuterRef("created_at"))
    return Exists(
        FollowUp.objects.filter(case_id=OuterRef("case_id"), created_at__gt=OuterRef("created_at")).filter(
            Exists(remedy)
        )
    )


@dataclass
class TrackRecord:
    employee_id: int
    username: str = ""
    name: str = ""
    decisions: int = 0
    within_authority: int = 0
    escalated: int = 0
    approved_as_asked: int = 0
    approved_lower: int = 0
    rejected: int = 0
    withdrawn: int = 0
    waiting: int = 0
    reversed_later: int = 0
    csat_average: float | None = None
    csat_answers: int = 0
    follow_ups: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def within_share(self) -> float | None:
        return self.within_authority / self.decisions if self.decisions else None

    @property
    def answered(self) -> int:
        return self.approved_as_asked + self.approved_lower + self.rejected

    @property
    def as_asked_share(self) -> float | None:
        """Of the escalations an approver answered, the share approved exactly as asked."""
        return self.approved_as_asked / self.answered if self.answered else None

    @property
    def support(self) -> int:
        """How strongly the record supports more authority: each escalation approved exactly as asked
        counts for it; each one cut, rejected or corrected later counts twice against, and each
        follow-up (an unhappy customer) once against. Used only to sort a manager's list."""
        return (
            self.approved_as_asked - 2 * (self.approved_lower + self.rejected + self.reversed_later) - self.follow_ups
        )


def track_records(*, employees: list[Employee], since: datetime | None, ids_query=None) -> list[TrackRecord]:
    """The records of `employees` since `since` (None: all time), in the order given (four queries).

    `ids_query`: a query of those employees' ids, for thousands of people (a sub-select is cheaper
    for the database than a list of thousands of ids)."""
    ids = ids_query if ids_query is not None else [e.pk for e in employees]
    records = {e.pk: TrackRecord(employee_id=e.pk, username=e.user.username, name=str(e)) for e in employees}
    decisions = Decision.objects.filter(made_by_id__in=ids)
    surveys = Survey.objects.filter(resolved_by_id__in=ids)
    follow_ups = FollowUp.objects.filter(resolver_id__in=ids)
    if since is not None:
        decisions = decisions.filter(created_at__gte=since)
        surveys = surveys.filter(answered_at__gte=since)  # satisfaction told in the period
        follow_ups = follow_ups.filter(created_at__gte=since)
    rows = (
        decisions.order_by()
        .values("made_by_id")
        .annotate(
            n=Count("pk"),
            within=Count("pk", filter=Q(within_authority=True)),
            escalated=Count("pk", filter=ESCALATED),
            as_asked=Count("pk", filter=ESCALATED & APPROVED & Q(final_amount__gte=F("amount"))),
            lower=Count("pk", filter=ESCALATED & APPROVED & Q(final_amount__lt=F("amount"))),
            rejected=Count("pk", filter=Q(status=Decision.Status.REJECTED)),
            withdrawn=Count("pk", filter=Q(status=Decision.Status.WITHDRAWN)),
            waiting=Count("pk", filter=Q(status=Decision.Status.ESCALATED)),
        )
    )
    # Corrected later, counted apart: only decisions on cases that drew a follow-up can be, so the
    # database starts from the (few) follow-ups rather than testing every decision.
    with_follow_up = FollowUp.objects.all() if since is None else FollowUp.objects.filter(created_at__gte=since)
    corrected = (
        decisions.filter(case_id__in=with_follow_up.values("case_id"))
        .filter(_corrected_later())
        .order_by()
        .values("made_by_id")
        .annotate(n=Count("pk"))
    )
    for row in rows:
        record = records[row["made_by_id"]]
        record.decisions, record.within_authority, record.escalated = row["n"], row["within"], row["escalated"]
        record.approved_as_asked, record.approved_lower = row["as_asked"], row["lower"]
        record.rejected, record.withdrawn, record.waiting = row["rejected"], row["withdrawn"], row["waiting"]
    for row in corrected:
        records[row["made_by_id"]].reversed_later = row["n"]
    for row in surveys.order_by().values("resolved_by_id").annotate(avg=Avg("csat"), answers=Count("csat")):
        record = records[row["resolved_by_id"]]
        record.csat_average = round(float(row["avg"]), 2) if row["avg"] is not None else None
        record.csat_answers = row["answers"]
    for row in follow_ups.order_by().values("resolver_id").annotate(n=Count("pk")):
        records[row["resolver_id"]].follow_ups = row["n"]
    return [records[e.pk] for e in employees]


def track_record(*, employee: Employee, since: datetime | None) -> TrackRecord:
    return track_records(employees=[employee], since=since)[0]


def records_of_people_below(*, manager: Employee, since: datetime | None) -> list[TrackRecord]:
    """The records of everyone below `manager`, where the record most supports more authority first
    (then the most decisions, then by username), counted now: for thousands of people this takes
    seconds, so the managers' list reads `track_record_snapshots` and comes here only before the
    first snapshot of a period."""
    below = Employee.objects.below(manager).order_by()
    people = list(below.select_related("user"))
    records = track_records(employees=people, since=since, ids_query=below.values("pk"))
    return sorted(records, key=lambda r: (-r.support, -(r.as_asked_share or 0), -r.decisions, r.username))


def may_see_track_record(*, viewer: Employee, employee: Employee) -> bool:
    """The employee themselves and the people above them."""
    return viewer.pk == employee.pk or viewer.pk in employee.path_ids
