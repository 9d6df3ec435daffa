"""People, for the pages that manage authority: who is visible to whom, colleagues to choose from."""

import re

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db.models import Q

from empower.models import Employee
from empower.selectors import is_above

# Django's own username rule: letters, digits and @.+-_ only.
USERNAME_PATTERN = re.compile(UnicodeUsernameValidator.regex, UnicodeUsernameValidator.flags)


def employee_visible_to(*, viewer: Employee, username: str) -> Employee | None:
    """The employee named `username` when `viewer` is them or stands above them; None otherwise."""
    employee = employee_named(username=username)
    if employee is None or (employee.pk != viewer.pk and not is_above(manager=viewer, employee=employee)):
        return None
    return employee


def employee_named(*, username: str) -> Employee | None:
    # Not a username at all (e.g. a NUL byte, which PostgreSQL refuses in a query): nobody, unasked.
    if len(username or "") > 150 or not USERNAME_PATTERN.match(username or ""):
        return None
    return Employee.objects.select_related("user", "role", "team").filter(user__username=username).first()


def people_below(*, employee: Employee) -> list[Employee]:
    """Everyone below `employee`, by username (e.g. whose stand-in a manager may set up)."""
    return list(Employee.objects.below(employee).select_related("user").order_by("user__username"))


# The picker lists at most this many colleagues at once; the search narrows it.
CANDIDATES_SHOWN = 200


def stand_in_candidates(*, employee: Employee, q: str = "", limit: int = CANDIDATES_SHOWN) -> list[tuple[str, str]]:
    """(username, "Name · role · team") of the colleagues `employee` may choose as a stand-in: every
    active employee but themselves (`delegation_create` refuses the rest), searched by name,
    username or team, by name."""
    people = (
        Employee.objects.filter(user__is_active=True)
        .exclude(pk=employee.pk)
        .select_related("user", "role", "team")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    q = (q or "").strip()
    if q:
        people = people.filter(
            Q(user__username__icontains=q)
            | Q(user__first_name__icontains=q)
            | Q(user__last_name__icontains=q)
            | Q(team__name__icontains=q)
        )
    return [(e.user.username, f"{e} · {e.role} · {e.team}") for e in people[:limit]]
