"""Authority limits: personal (standing and temporary windows) and role defaults, from the pages, the
API and the admin, with the granting rules every path shares."""

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.authority import CAPS
from delegation.authority_cache import authority_data_changed
from delegation.models import AuthorityLimit, DecisionType
from delegation.selectors import (
    limit_clear_refusal,
    limits_refusal,
    own_limits,
    personal_limits_to_clear,
    role_limits_refusal,
    standing_limits,
    window_end_refusal,
)
from delegation.services.common import (
    authority_limit_state,
    limit_changed,
    personal_limit_changed,
    required_reason,
    role_limit_changed,
    validate_amount,
)
from empower.db_retry import retry_on_conflict
from empower.errors import Conflict, InvalidInput, NotAllowed, NotFound
from empower.models import Employee
from empower.moments import LocalMoment
from empower.money import format_money
from empower.services import (
    audit,
    audit_once,
)


def ensure_not_own_limit(*, limit: AuthorityLimit, actor: Employee | None) -> None:
    """Nobody changes a limit that applies to themselves: their personal one or their role's default."""
    if actor is not None and (limit.employee_id == actor.pk or (limit.role_id and limit.role_id == actor.role_id)):
        raise NotAllowed(_("Nobody changes their own limits."), code="own_limits")


def authority_limit_check(*, limit: AuthorityLimit, actor: Employee | None) -> None:
    """Whether `actor` may save `limit` (unsaved, with its new values) as it stands; raises the refusal.

    An employee (also one with admin access) is held to the same rules as on the pages and the API:
    a personal limit only for someone below them, a role's default only for a role ranked below
    theirs, never their own, never above what they hold. An operator who is not an employee
    (`actor` None) may set any values. For everyone: a temporary limit needs an end and may not
    overlap another window of the same person and type.
    """
    now = timezone.now()
    window_from_now(limit, now)
    if actor is not None:
        _ensure_may_change(limit=limit, actor=actor)
        values = {cap: getattr(limit, cap) for cap in CAPS}
        ensure_within_granters_own(granter=actor, decision_type=limit.decision_type, values=values, at=now)
    check_window(limit)


def authority_limit_delete_check(*, limit: AuthorityLimit, actor: Employee | None) -> None:
    """Whether `actor` may remove `limit`: the same people who may change it (an operator always)."""
    if actor is not None:
        _ensure_may_change(limit=limit, actor=actor)


def _ensure_may_change(*, limit: AuthorityLimit, actor: Employee) -> None:
    """Never one's own; a person's limit only from above them; a role's default only from a higher role."""
    ensure_not_own_limit(limit=limit, actor=actor)
    if limit.employee_id:
        ensure_may_grant_to(granter=actor, employee=limit.employee)
    else:
        ensure_may_set_role(granter=actor, role=limit.role)


@transaction.atomic
def authority_limit_save(
    *, limit: AuthorityLimit, before: dict | None, actor: Employee | None, reason: str
) -> AuthorityLimit:
    """Save a role's default or a person's limit as set in the admin, auditing before and after.

    `before` is `authority_limit_state()` of the row as it was (None for a new one). A reason is
    required and `authority_limit_check` must allow it. `actor` is None for an administrator who
    is not an employee: the reason then names them. Whoever's effective limits change is told and
    the escalations waiting for them are checked again, as after `limit_set` / `role_limit_set`.
    """
    reason = required_reason(reason)
    if limit.employee_id:
        _lock_limits_of(limit.employee)
    authority_limit_check(limit=limit, actor=actor)
    limit = _limit_save_audited(limit=limit, before=before, actor=actor, reason=reason)
    limit_changed(limit, key=f"limit:{limit.pk}:{timezone.now().isoformat()}")
    return limit


def _limit_save_audited(
    *, limit: AuthorityLimit, before: dict | None, actor: Employee | None, reason: str, values: dict | None = None
) -> AuthorityLimit:
    """Apply the caps in `values` (if given), save, and audit the change from `before`."""
    for cap, value in (values or {}).items():
        setattr(limit, cap, value)
    limit.reason = reason
    limit.set_by = actor
    limit.save()
    authority_data_changed()  # the decision path's cached limits
    audit(
        actor=actor,
        action="limit.created" if before is None else "limit.changed",
        target=limit,
        before=before,
        after=authority_limit_state(limit),
        reason=reason,
        subject=limit.employee,
    )
    return limit


@transaction.atomic
def authority_limit_delete(*, limit: AuthorityLimit, actor: Employee | None, reason: str) -> None:
    """Remove a limit (a person then falls back to their role's), auditing what it was.

    `authority_limit_delete_check` must allow it; whoever's effective limits change is told and the
    escalations waiting for them are checked again.
    """
    reason = required_reason(reason)
    authority_limit_delete_check(limit=limit, actor=actor)
    audit(
        actor=actor,
        action="limit.deleted",
        target=limit,
        before=authority_limit_state(limit),
        after=None,
        reason=reason,
        subject=limit.employee,
    )
    key = f"limit-deleted:{limit.pk}:{timezone.now().isoformat()}"
    limit.delete()
    authority_data_changed()
    limit_changed(limit, key=key)


def _limit_values(values: dict, *, caps=CAPS) -> dict[str, Decimal | None]:
    """Each cap in `caps`: an amount (zero allowed: "nothing of this"), or None for "no limit"."""
    cleaned, errors = {}, {}
    for cap in caps:
        raw = values.get(cap)
        if raw in (None, ""):
            cleaned[cap] = None
            continue
        try:
            cleaned[cap] = validate_amount(raw, field=cap, allow_zero=True)
        except InvalidInput as invalid:
            errors |= invalid.field_errors
    if errors:
        raise InvalidInput(_("Some limits are not valid amounts."), field_errors=errors)
    return cleaned


def ensure_within_granters_own(*, granter: Employee, decision_type: DecisionType, values: dict, at) -> None:
    """Nobody grants more than they hold: each cap at most the granter's own; "no limit" only from no limit."""
    own = own_limits(employees=[granter], decision_type_ids=[decision_type.pk], at=at)[(granter.pk, decision_type.pk)]
    too_high = {}
    for cap, value in values.items():
        granters = getattr(own, cap)
        if granters is None:
            continue
        if value is None or value > granters:
            too_high[cap] = [
                _("At most %(limit)s: you cannot grant more than you hold.")
                % {"limit": format_money(granters, settings.EMPOWER_CURRENCY)}
            ]
    if too_high:
        raise NotAllowed(
            _("You cannot grant more than you hold yourself."), code="above_own_limit", field_errors=too_high
        )


def ensure_may_grant_to(*, granter: Employee, employee: Employee) -> None:
    """Raise `limits_refusal` (the pages show their buttons from it)."""
    refusal = limits_refusal(granter=granter, employee=employee)
    if refusal is not None:
        raise refusal


def ensure_may_set_role(*, granter: Employee, role) -> None:
    """Raise `role_limits_refusal` (the role defaults page shows "Edit" from it)."""
    refusal = role_limits_refusal(granter=granter, role=role)
    if refusal is not None:
        raise refusal


def window_times(starts_at, ends_at, now):
    """The time rules of a temporary limit, the same on every path (page, API, admin): it needs an
    end; it starts at `starts_at` or now, never in the past (a past start is moved to now, since
    "what could alice decide at T" reads history from the windows); it ends after it starts.
    Answers the (start, end) to save."""
    if ends_at is None:
        message = _("A temporary limit needs an end (“until”); leave both dates empty for a standing limit.")
        raise InvalidInput(message, field_errors={"ends_at": [message]})
    starts_at = max(starts_at or now, now)
    if ends_at <= starts_at:
        message = _("The end must be after the start, and in the future.")
        raise InvalidInput(message, field_errors={"ends_at": [message]})
    return starts_at, ends_at


def window_from_now(limit: AuthorityLimit, now) -> None:
    """Apply `window_times` to a personal limit saved in the admin. A window whose start or end was
    already saved keeps it (a running window's caps may still change; its past is not moved)."""
    if limit.employee_id is None or (limit.starts_at is None and limit.ends_at is None):
        return  # a standing limit; a role's window is refused by `check_window`
    stored = AuthorityLimit.objects.filter(pk=limit.pk).values("starts_at", "ends_at").first() if limit.pk else None
    if (
        stored
        and stored["starts_at"] is not None
        and (stored["starts_at"], stored["ends_at"])
        == (
            limit.starts_at,
            limit.ends_at,
        )
    ):
        return  # unchanged
    if stored and stored["starts_at"] is not None and limit.starts_at == stored["starts_at"]:
        # The start stands as saved (it may be in the past for a running window); a new end must be ahead.
        if limit.ends_at is None or limit.ends_at <= max(limit.starts_at, now):
            window_times(limit.starts_at, None if limit.ends_at is None else limit.ends_at, max(limit.starts_at, now))
        return
    limit.starts_at, limit.ends_at = window_times(limit.starts_at, limit.ends_at, now)


def check_window(limit: AuthorityLimit) -> None:
    """The rules of a temporary limit (every path).

    Only a person's limit runs for a window, and a window has an end: a start alone would make a
    second standing limit that beats the real one for ever. One person's windows for a type never
    overlap, so which one applies is never a guess.
    """
    if limit.starts_at is None and limit.ends_at is None:
        return
    if limit.employee_id is None:
        message = _("Only a personal limit can run for a window; leave the dates empty.")
        raise InvalidInput(message, field_errors={"starts_at": [message]})
    if limit.ends_at is None:
        message = _("A temporary limit needs an end (“until”); leave both dates empty for a standing limit.")
        raise InvalidInput(message, field_errors={"ends_at": [message]})
    if limit.starts_at is not None and limit.ends_at <= limit.starts_at:
        message = _("The end must be after the start, and in the future.")
        raise InvalidInput(message, field_errors={"ends_at": [message]})
    overlapping = AuthorityLimit.objects.filter(
        employee_id=limit.employee_id, decision_type_id=limit.decision_type_id, ends_at__isnull=False
    ).filter(Q(starts_at__isnull=True) | Q(starts_at__lt=limit.ends_at))
    if limit.starts_at is not None:
        overlapping = overlapping.filter(ends_at__gt=limit.starts_at)
    if limit.pk is not None:
        overlapping = overlapping.exclude(pk=limit.pk)
    other = overlapping.order_by("starts_at").first()
    if other is not None:

        def shown(moment) -> str:
            return str(LocalMoment(moment)) if moment else "—"

        raise Conflict(
            _(
                "%(employee)s already has a temporary limit for %(type)s from %(starts)s until %(ends)s: "
                "end it first, or choose a window that does not overlap."
            )
            % {
                "employee": limit.employee,
                "type": limit.decision_type,
                "starts": shown(other.starts_at),
                "ends": shown(other.ends_at),
            },
            code="limit_window_overlaps",
        )


def effective_state(*, employee: Employee, decision_type: DecisionType, at) -> dict:
    """What an audit record shows of someone's effective limits for a type at a moment."""
    limits = own_limits(employees=[employee], decision_type_ids=[decision_type.pk], at=at)
    return {"decision_type": decision_type.code, **limits[(employee.pk, decision_type.pk)].as_dict()}


def limit_event_once(
    limit: AuthorityLimit, action: str, *, at, actor: Employee | None = None, reason: str = ""
) -> bool:
    """Record that a temporary limit started or expired at `at`, once (`audit_once`: the record is the
    key), with the employee's effective limits just before and from then; True when this call wrote it.

    The effective limits are read from the limits as they stand now, so a row changed since the
    event shows its current values."""
    employee, decision_type = limit.employee, limit.decision_type
    return audit_once(
        action=action,
        target=limit,
        actor=actor,
        before=effective_state(employee=employee, decision_type=decision_type, at=at - timedelta(microseconds=1)),
        after=effective_state(employee=employee, decision_type=decision_type, at=at),
        reason=reason or str(_("On schedule")),
        subject=employee,
    )


def _window_end(window: AuthorityLimit, *, actor: Employee | None, reason: str, now) -> None:
    """End a temporary limit at `now`: one running is cut short (its row keeps its history), one
    not yet started is called off (removed). Audited as `limit.ended`, which the periodic
    announcement takes as the end (no `limit.expired` follows)."""
    before = authority_limit_state(window)
    authority_data_changed()
    if window.starts_at is None or window.starts_at < now:
        window.ends_at = now
        window.save(update_fields=["ends_at", "updated_at"])
        after = authority_limit_state(window)
    else:
        after = None
    audit(
        actor=actor,
        action="limit.ended",
        target=window,
        before=before,
        after=after,
        reason=reason,
        subject=window.employee,
    )
    if after is None:
        window.delete()


def _lock_limits_of(employee: Employee) -> None:
    """Serialize changes to one person's limits, so two windows set at once cannot overlap."""
    Employee.objects.select_for_update().filter(pk=employee.pk).exists()


def _standing_limit(*, employee: Employee, decision_type: DecisionType) -> AuthorityLimit | None:
    return (
        AuthorityLimit.objects.select_for_update()
        .filter(employee=employee, decision_type=decision_type, starts_at__isnull=True, ends_at__isnull=True)
        .first()
    )


@retry_on_conflict
@transaction.atomic
def limit_set(
    *,
    granter: Employee,
    employee: Employee,
    decision_type: DecisionType,
    values: dict,
    reason: str,
    starts_at=None,
    ends_at=None,
) -> AuthorityLimit:
    """Set an employee's personal limits for one type (replacing their role's), for good or for a window.

    Only someone above the employee may; never their own; no cap above the granter's own. A
    lowered limit judges the very next decision. The employee is told, and the escalations
    waiting for them are checked again.

    `values` may name only some caps: one left out keeps its standing value (the standing personal
    limit, else the role's), read under the lock, so concurrent partial changes never lose one.

    A temporary limit needs `ends_at`; it starts at `starts_at` or now (never in the past: history
    is not rewritten) and may not overlap another window of the same type (409). While a window
    runs it applies; the standing limit may still be changed, and applies again when it ends.
    """
    reason = required_reason(reason)
    ensure_may_grant_to(granter=granter, employee=employee)
    given = _limit_values(values, caps=[cap for cap in CAPS if cap in values])
    now = timezone.now()
    temporary = starts_at is not None or ends_at is not None
    if temporary:
        starts_at, ends_at = window_times(starts_at, ends_at, now)
    _lock_limits_of(employee)
    # Under the lock: a cap left out keeps its standing value (the standing personal limit, else the
    # role's), read now, so two partial changes at once both survive.
    standing = standing_limits(employee=employee, decision_type=decision_type)
    cleaned = {cap: given[cap] if cap in given else getattr(standing, cap) for cap in CAPS}
    ensure_within_granters_own(granter=granter, decision_type=decision_type, values=cleaned, at=now)
    if temporary:
        before = None
        limit = AuthorityLimit(employee=employee, decision_type=decision_type, starts_at=starts_at, ends_at=ends_at)
        check_window(limit)
    else:
        limit = _standing_limit(employee=employee, decision_type=decision_type)
        before = authority_limit_state(limit) if limit else None
        limit = limit or AuthorityLimit(employee=employee, decision_type=decision_type)
    _limit_save_audited(limit=limit, before=before, actor=granter, reason=reason, values=cleaned)
    key = f"limit:{limit.pk}:{now.isoformat()}"
    if temporary and starts_at <= now:
        # It runs from now: record its start here, so the periodic announcement does not tell it again.
        limit_event_once(limit, "limit.started", at=starts_at, actor=granter, reason=reason)
        key = f"limit:{limit.pk}:started"
    personal_limit_changed(employee=employee, decision_type=decision_type, key=key)
    return limit


@retry_on_conflict
@transaction.atomic
def limit_clear(*, granter: Employee, employee: Employee, decision_type: DecisionType, reason: str) -> None:
    """Return an employee to their role's limits for one type: remove their standing personal limit
    and end their temporary ones (one running stops now, scheduled ones are called off).

    The same people as for `limit_set`; nothing personal to clear: 409.
    """
    reason = required_reason(reason)
    ensure_may_grant_to(granter=granter, employee=employee)
    _lock_limits_of(employee)
    now = timezone.now()
    # Under the lock, the same rule the page shows "Back to the role's limits" from.
    refusal = limit_clear_refusal(granter=granter, employee=employee, decision_type=decision_type, at=now)
    if refusal is not None:
        raise refusal
    rows = list(
        personal_limits_to_clear(employee=employee, decision_type=decision_type, at=now)
        .select_for_update(of=("self",))
        .select_related("decision_type", "employee__user")
        .order_by("pk")
    )
    for row in rows:
        if row.ends_at is not None:
            _window_end(row, actor=granter, reason=reason, now=now)
            continue
        audit(
            actor=granter,
            action="limit.deleted",
            target=row,
            before=authority_limit_state(row),
            after=None,
            reason=reason,
            subject=employee,
        )
        row.delete()
        authority_data_changed()
    personal_limit_changed(
        employee=employee, decision_type=decision_type, key=f"limit-cleared:{employee.pk}:{now.isoformat()}"
    )


@retry_on_conflict
@transaction.atomic
def limit_window_end(
    *, granter: Employee, employee: Employee, decision_type: DecisionType, window_id: int, reason: str
) -> None:
    """End one temporary limit now: a running one stops (the standing or role limits apply again at
    once), a scheduled one is called off. The same people as for `limit_set`; the employee is told.

    Not a temporary limit of this employee and type: 404; already over: 409.
    """
    reason = required_reason(reason)
    ensure_may_grant_to(granter=granter, employee=employee)
    _lock_limits_of(employee)
    window = (
        AuthorityLimit.objects.select_for_update(of=("self",))
        .select_related("decision_type", "employee__user")
        .filter(pk=window_id, employee=employee, decision_type=decision_type, ends_at__isnull=False)
        .first()
    )
    if window is None:
        raise NotFound(_("No such temporary limit."), code="no_such_window")
    now = timezone.now()
    refusal = window_end_refusal(granter=granter, employee=employee, window=window, at=now)
    if refusal is not None:
        raise refusal
    pk = window.pk
    _window_end(window, actor=granter, reason=reason, now=now)
    personal_limit_changed(employee=employee, decision_type=decision_type, key=f"limit:{pk}:ended")


@retry_on_conflict
@transaction.atomic
def role_limit_set(
    *, granter: Employee, role, decision_type: DecisionType, values: dict, reason: str
) -> AuthorityLimit:
    """Set a role's default limits: only someone of a higher rank, never for their own role,
    and never above what the granter holds. Everyone the default applies to is told, and the
    escalations waiting for them are checked again."""
    reason = required_reason(reason)
    ensure_may_set_role(granter=granter, role=role)
    cleaned = _limit_values(values)
    ensure_within_granters_own(granter=granter, decision_type=decision_type, values=cleaned, at=timezone.now())
    limit = AuthorityLimit.objects.select_for_update().filter(role=role, decision_type=decision_type).first()
    before = authority_limit_state(limit) if limit else None
    limit = limit or AuthorityLimit(role=role, decision_type=decision_type)
    limit = _limit_save_audited(limit=limit, before=before, actor=granter, reason=reason, values=cleaned)
    key = f"role-limit:{limit.pk}:{timezone.now().isoformat()}"
    role_limit_changed(role=role, decision_type=decision_type, key=key)
    return limit
