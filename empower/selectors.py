from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, Concat

from empower.models import Case, Employee, Notification, OutgoingEmail, OutgoingEmailQuerySet


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


def case_queue(*, employee: Employee) -> QuerySet[Case]:
    """An employee's queue: the open cases assigned to them first, then their team's."""
    return cases_visible_to(employee=employee).filter(status=Case.Status.OPEN).order_by("-created_at")


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
