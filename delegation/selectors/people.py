"""People, for the pages that manage authority: who is visible to whom, colleagues to choose from."""

import re

from django.contrib.auth.validators import UnicodeUsernameValidator

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


def active_colleagues(*, limit: int = 1000) -> list[tuple[str, str]]:
    """(username, name) of active employees, for suggesting a stand-in."""
    rows = (
        Employee.objects.filter(user__is_active=True)
        .order_by("user__username")
        .values_list("user__username", "user__first_name", "user__last_name")[:limit]
    )
    return [(username, f"{first} {last}".strip() or username) for username, first, last in rows]
