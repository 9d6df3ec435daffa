from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from empower.models import Case, Employee, Notification


def employee_for_user(*, user) -> Employee | None:
    if not user.is_authenticated:
        return None
    try:
        return Employee.objects.select_related("user", "role", "team", "parent__user").get(user=user)
    except Employee.DoesNotExist:
        return None


def chain_above(*, employee: Employee) -> list[Employee]:
    """Everyone above `employee`, nearest first, in one query (a recursive CTE)."""
    ancestors = Employee.objects.ancestors(employee).select_related("user", "role", "team")
    return list(reversed(list(ancestors)))


def subtree_ids(*, employee: Employee, include_self: bool = False) -> list[int]:
    """Ids of everyone below `employee` (the whole subtree)."""
    return list(Employee.objects.descendants(employee, include_self=include_self).values_list("id", flat=True))


def is_above(*, manager: Employee, employee: Employee) -> bool:
    """Whether `manager` stands somewhere above `employee` in the chain of command."""
    return employee.parent_id is not None and manager.pk in {e.pk for e in chain_above(employee=employee)}


def visible_team_ids(*, employee: Employee) -> set[int]:
    """Staff see their own team; a manager sees every team of the people below them too."""
    below = Employee.objects.descendants(employee, include_self=True).values_list("team_id", flat=True)
    return set(below)


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


def notification_emails_to_send_again(
    *, created_before: datetime, created_after: datetime, claimed_before: datetime, max_attempts: int, limit: int
) -> list[int]:
    """Notifications whose e-mail is still unsent (the task was lost, a worker died, SMTP failed),
    oldest first: created in the window, not being sent right now (no claim, or a stale one), with
    an address, and tried fewer than `max_attempts` times."""
    return list(
        Notification.objects.filter(
            emailed_at__isnull=True,
            created_at__lt=created_before,
            created_at__gt=created_after,
            email_attempts__lt=max_attempts,
        )
        .filter(Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=claimed_before))
        .exclude(recipient__user__email="")
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


def administrator_addresses() -> list[str]:
    """Who hears of work that needs an operator: ADMINS (ADMIN_EMAILS), else every active
    superuser with an e-mail address (the demo's admin has no Employee, so no in-app inbox)."""
    configured = [address for _name, address in settings.ADMINS]
    if configured:
        return configured
    superusers = get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
    return sorted(set(superusers.values_list("email", flat=True)))
