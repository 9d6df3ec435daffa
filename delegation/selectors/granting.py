"""Who may change whose limits: the granting rules, one refusal per action.

Each `*_refusal` returns the domain error the limits service raises for that granter (None when it
accepts); each `may_*` is that refusal being None. The services raise the refusals; the authority
pages show "Edit", "End now" and "Back to the role's limits" exactly when the `may_*` is true.
How much may be granted (never more than the granter holds) depends on the values typed, so it is
checked by the service alone, when they are known.
"""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import AuthorityLimit, DecisionType
from empower.errors import Conflict, DomainError, NotAllowed
from empower.models import Employee, Role
from empower.selectors import is_above


def limits_refusal(*, granter: Employee, employee: Employee, below: set[int] | None = None) -> NotAllowed | None:
    """Why `granter` may not change `employee`'s personal limits (set them, end a temporary one, send
    them back to their role's): nobody changes their own; only someone above them in the chain.

    `below`: ids known to be below the granter (their subtree, or at least everyone a page asks
    about, e.g. the people of their matrix), to answer without a query per person.
    """
    if granter.pk == employee.pk:
        return NotAllowed(_("Nobody changes their own limits."), code="own_limits")
    above = employee.pk in below if below is not None else is_above(manager=granter, employee=employee)
    if not above:
        return NotAllowed(
            _("Only someone above %(employee)s in the chain of command may change their limits.")
            % {"employee": employee},
            code="not_above",
        )
    return None


def may_change_limits_of(*, granter: Employee, employee: Employee, below: set[int] | None = None) -> bool:
    return limits_refusal(granter=granter, employee=employee, below=below) is None


def role_limits_refusal(*, granter: Employee, role: Role) -> NotAllowed | None:
    """Why `granter` may not change a role's default limits: only someone of a higher rank, never
    for their own role."""
    if granter.role_id == role.pk or granter.role.rank <= role.rank:
        return NotAllowed(_("Only someone of a higher role may change this role's limits."), code="not_above")
    return None


def may_change_role_limits(*, granter: Employee, role: Role) -> bool:
    return role_limits_refusal(granter=granter, role=role) is None


def personal_limits_to_clear(
    *, employee: Employee, decision_type: DecisionType, at: datetime | None = None
) -> QuerySet[AuthorityLimit]:
    """What "back to the role's limits" removes at `at`: the standing personal limit and the temporary
    ones not over yet (running or scheduled)."""
    at = at or timezone.now()
    return AuthorityLimit.objects.filter(employee=employee, decision_type=decision_type).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=at)
    )


def limit_clear_refusal(
    *, granter: Employee, employee: Employee, decision_type: DecisionType, at: datetime | None = None
) -> DomainError | None:
    """Why `granter` may not send `employee` back to their role's limits for a type now: the people
    of `limits_refusal`; nothing personal to clear is a conflict (409)."""
    refusal = limits_refusal(granter=granter, employee=employee)
    if refusal is not None:
        return refusal
    if not personal_limits_to_clear(employee=employee, decision_type=decision_type, at=at).exists():
        return Conflict(_("There is no personal limit to clear."), code="no_personal_limit")
    return None


def may_clear_limits(
    *, granter: Employee, employee: Employee, decision_type: DecisionType, at: datetime | None = None
) -> bool:
    return limit_clear_refusal(granter=granter, employee=employee, decision_type=decision_type, at=at) is None


def window_end_refusal(
    *,
    granter: Employee,
    employee: Employee,
    window: AuthorityLimit,
    at: datetime | None = None,
    below: set[int] | None = None,
) -> DomainError | None:
    """Why `granter` may not end `employee`'s temporary limit `window` now: the people of
    `limits_refusal`; one already over is a conflict (409). A running one is cut short, a
    scheduled one called off."""
    at = at or timezone.now()
    refusal = limits_refusal(granter=granter, employee=employee, below=below)
    if refusal is not None:
        return refusal
    if window.ends_at <= at:
        return Conflict(_("This temporary limit has already ended."), code="window_ended")
    return None


def may_end_window(
    *,
    granter: Employee,
    employee: Employee,
    window: AuthorityLimit,
    at: datetime | None = None,
    below: set[int] | None = None,
) -> bool:
    return window_end_refusal(granter=granter, employee=employee, window=window, at=at, below=below) is None
