from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat
from modeltranslation.utils import build_localized_fieldname

from empower.models import Case, Employee, Notification, OutgoingEmail, OutgoingEmailQuerySet, Team
from empower.prepared import PreparedRead

_CASE_READ = PreparedRead([(Case, "c")], "{c} WHERE c.id = %s")


def case_of_id(pk: int) -> Case | None:
    """The case of that id (whoever may see it), or None: every decision reads it (see `PreparedRead`)."""
    found = _CASE_READ.one(pk)
    return found[0] if found else None


def employee_for_user(*, user) -> Employee | None:
    if not user.is_authenticated:
        return None
    try:
        return Employee.objects.select_related("user", "role", "team", "parent__user").get(user=user)
    except Employee.DoesNotExist:
        return None


# The chain of command is read from the materialized `Employee.path` (see its docstring for why):
# every answer below costs that person's part of the tree, never the whole company, and no
# request runs a recursive query. "Who may I see" is remembered on the Employee instance the
# request loaded (`Employee.remembered`), so a request computes it at most once.


def chain_above(*, employee: Employee) -> list[Employee]:
    """Everyone above `employee`, nearest first: the ids come from their path, the people in one
    `pk__in` query (none at all for someone nobody manages)."""
    ids = employee.path_ids
    if not ids:
        return []
    people = Employee.objects.select_related("user", "role", "team").in_bulk(ids)
    return [people[pk] for pk in reversed(ids) if pk in people]


def subtree_ids(*, employee: Employee, include_self: bool = False) -> list[int]:
    """Ids of everyone below `employee` (the whole subtree), remembered for the request."""

    def compute() -> list[int]:
        return list(Employee.objects.below(employee).order_by().values_list("id", flat=True))

    below = employee.remembered("subtree_ids", compute)
    return [employee.pk, *below] if include_self else list(below)


def is_above(*, manager: Employee, employee: Employee) -> bool:
    """Whether `manager` stands somewhere above `employee` in the chain of command (read off the
    employee's path: no query)."""
    return manager.pk in employee.path_ids


def has_reports(*, employee: Employee) -> bool:
    """Whether anyone reports to `employee` (a manager, in the menus' and pages' sense); asked once a request."""
    return employee.remembered("has_reports", lambda: employee.reports.exists())


def visible_team_ids(*, employee: Employee) -> set[int]:
    """Staff see their own team; a manager sees every team of the people below them too.

    One query over that person's subtree (distinct teams), remembered for the request: the decision
    path asks twice (the case lookup and the service's check) and pays once."""

    def compute() -> frozenset[int]:
        below = Employee.objects.below(employee).order_by().values_list("team_id", flat=True).distinct()
        return frozenset([employee.team_id, *below])

    return set(employee.remembered("visible_team_ids", compute))


def cases_visible_to(*, employee: Employee) -> QuerySet[Case]:
    return Case.objects.filter(team_id__in=visible_team_ids(employee=employee)).select_related(
        "customer", "team", "assigned_to__user"
    )


# --- the queue: each case's state, filters, search, sort ------------------------------------------
#
# The organization knows nothing of escalations or follow-ups, yet the queue says "waiting for Bob"
# and "a follow-up is open". The apps that know register what they can tell of a case (a flag: an
# `Exists` over their rows, optionally who is awaited), in their AppConfig.ready(); the queue
# annotates every registered flag, so a page of 50 cases still costs a constant number of queries.


@dataclass(frozen=True)
class CaseFlag:
    exists: Callable[[], Exists]  # a subquery on OuterRef("pk"), the case
    who: Callable[[], Subquery] | None = None  # the id of the employee awaited (optional)


CASE_FLAGS: dict[str, CaseFlag] = {}


def register_case_flag(name: str, flag: CaseFlag) -> None:
    CASE_FLAGS[name] = flag


# State filters of the queue and `GET /api/v1/cases/?status=`: the case's own status, or a flag.
CASE_STATES = ("open", "waiting", "approved", "resolved", "follow_up")
CASE_SORTS = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "updated": ("-updated_at", "-id"),
    "customer": ("customer__name", "-created_at", "-id"),
    "subject": ("subject", "-created_at", "-id"),
}


def with_case_flags(cases: QuerySet[Case]) -> QuerySet[Case]:
    """Annotate each registered flag as `flag_<name>` (bool) and `flag_<name>_who` (employee id)."""
    annotations = {}
    for name, flag in CASE_FLAGS.items():
        annotations[f"flag_{name}"] = flag.exists()
        if flag.who is not None:
            annotations[f"flag_{name}_who"] = flag.who()
    return cases.annotate(**annotations)


def case_list(
    *,
    employee: Employee,
    state: str = "",
    assigned_to: str = "",
    q: str = "",
    sort: str = "",
) -> QuerySet[Case]:
    """The cases `employee` may see, with their state flags: filtered by state (`CASE_STATES`; an
    unknown one filters nothing out), by assignee username ("me" is the caller), searched in the
    customer's name and e-mail and the subject (`q`, case-insensitive), sorted (`CASE_SORTS`, newest
    first by default). The queue page and `GET /api/v1/cases/` both read it."""
    cases = with_case_flags(cases_visible_to(employee=employee))
    if state in ("open", "resolved"):
        cases = cases.filter(status=state)
    elif state in CASE_STATES and state in CASE_FLAGS:
        if state in ("waiting", "approved"):
            cases = cases.filter(status=Case.Status.OPEN)
        cases = cases.filter(**{f"flag_{state}": True})
    if assigned_to == "me":
        cases = cases.filter(assigned_to=employee)
    elif assigned_to:
        cases = cases.filter(assigned_to__user__username=assigned_to)
    q = " ".join(q.split())
    if q:
        cases = cases.filter(Q(customer__name__icontains=q) | Q(customer__email__icontains=q) | Q(subject__icontains=q))
    return cases.order_by(*CASE_SORTS.get(sort, CASE_SORTS["newest"]))


def case_queue(*, employee: Employee) -> QuerySet[Case]:
    """An employee's queue: the open cases assigned to them first, then their team's."""
    return cases_visible_to(employee=employee).filter(status=Case.Status.OPEN).order_by("-created_at")


def case_assignees(*, case: Case) -> QuerySet[Employee]:
    """Whom a case may be handed to: the active members of its team."""
    return (
        Employee.objects.filter(team_id=case.team_id, user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__username")
    )


def unread_notification_count(*, employee: Employee) -> int:
    return Notification.objects.filter(recipient=employee, read_at__isnull=True).count()


def notifications_for(*, employee: Employee) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=employee)


def emails_to_send_again(
    *, now: datetime, queued_before: datetime, claimed_before: datetime, max_attempts: int, limit: int
) -> list[int]:
    """Outbox e-mails still unsent (the task was lost, a worker died, SMTP failed), oldest first:
    queued before `queued_before`, still within their `send_until`, not being sent right now (no
    claim, or a stale one), and tried fewer than `max_attempts` times."""
    return list(
        OutgoingEmail.objects.unsent()
        .filter(created_at__lt=queued_before, send_until__gt=now, attempts__lt=max_attempts)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=claimed_before))
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def emails_by_key(*, keys: Iterable[str]) -> dict[str, OutgoingEmail]:
    """The outbox e-mails of these events, by key (events that queued no e-mail are absent)."""
    return {email.key: email for email in OutgoingEmail.objects.filter(key__in=list(keys))}


def email_key_of_row(prefix: str, field: str = "pk") -> Concat:
    """For a subquery: the outbox key of the outer row, `prefix` followed by its `field`
    (e.g. `email_key_of_row("survey:")` is "survey:12" for survey 12)."""
    return Concat(Value(prefix), Cast(OuterRef(field), output_field=CharField()), output_field=CharField())


def email_of_row(prefix: str, field: str = "pk") -> OutgoingEmailQuerySet:
    """The outer row's outbox e-mail, to annotate a queryset with or filter it by, e.g.
    `Survey.objects.annotate(emailed_at=Subquery(email_of_row("survey:").values("sent_at")[:1]))`
    or `.filter(Exists(email_of_row("survey:").failed()))`."""
    return OutgoingEmail.objects.filter(key=email_key_of_row(prefix, field))


def notifications_with_email(notifications: QuerySet[Notification]) -> QuerySet[Notification]:
    """Notifications with their e-mail's state (from the outbox) as `email_id`, `email_sent_at`,
    `email_attempts` and `email_error`; all None where no e-mail was queued (no address)."""
    email = email_of_row(Notification.EMAIL_KEY_PREFIX)
    return notifications.annotate(
        email_id=Subquery(email.values("pk")[:1]),
        email_sent_at=Subquery(email.values("sent_at")[:1]),
        email_attempts=Subquery(email.values("attempts")[:1]),
        email_error=Subquery(email.values("last_error")[:1]),
    )


def administrator_addresses() -> list[str]:
    """Who hears of work that needs an operator: ADMINS (ADMIN_EMAILS), else every active
    superuser with an e-mail address (the demo's admin has no Employee, so no in-app inbox)."""
    configured = [address for _name, address in settings.ADMINS]
    if configured:
        return configured
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    return sorted(set(superusers.values_list("email", flat=True)))


def assignee_choices(*, employee: Employee, limit: int = 300) -> list[tuple[str, str]]:
    """(username, name) of the active people of the teams `employee` sees: the queue's assignee filter."""
    rows = (
        Employee.objects.filter(team_id__in=visible_team_ids(employee=employee), user__is_active=True)
        .order_by("user__first_name", "user__username")
        .values_list("user__username", "user__first_name", "user__last_name")[:limit]
    )
    return [(username, f"{first} {last}".strip() or username) for username, first, last in rows]


def teams_named(name: str) -> QuerySet[Team]:
    """Teams by name in any language: other systems name a team as they know it, while a plain
    `name` lookup reads only the active language's column (django-modeltranslation)."""
    columns = [build_localized_fieldname("name", code) for code in settings.MODELTRANSLATION_LANGUAGES]
    return Team.objects.filter(reduce(or_, (Q(**{column: name}) for column in columns))).order_by("pk")
