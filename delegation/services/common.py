"""What the sub-domains of the services share: money parsing, the decision's audit state, counting usage,
enqueueing routing and telling people. Depends on no other services module."""

import re
from decimal import Decimal

from django.db.models import Case, DecimalField, Exists, F, OuterRef, Value, When
from django.utils.translation import gettext_lazy as _

from delegation.authority import ZERO
from delegation.models import (
    AuthorityLimit,
    Decision,
    DecisionType,
    Escalation,
    UsageCounter,
)
from delegation.selectors import AuthoritySnapshot
from empower.errors import InvalidInput
from empower.models import Employee
from empower.money import Money
from empower.services import (
    enqueue_after_commit,
    lazy_message,
    notify,
)

MAX_AMOUNT = Decimal("1000000000.00")

# What an amount looks like, as documented: ASCII digits, at most two decimals. Python's Decimal
# would also read "1_000", "١٢" (Arabic-Indic), full-width digits, "1E1" and "+5"; none is money
# as people write it on our pages or in the API, so each is refused in the same words.
AMOUNT_SHAPE = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")
_SIGNED = re.compile(r"-[0-9]+(\.[0-9]+)?")
_MANY_DECIMALS = re.compile(r"-?[0-9]+\.[0-9]{3,}")
_MANY_DIGITS = re.compile(r"[0-9]{13,}(\.[0-9]*)?")
AMOUNT_INVALID = _("Enter an amount such as 80.00.")


def validate_amount(value, *, field: str = "amount", allow_zero: bool = False) -> Decimal:
    """A positive (or, for a limit, zero) amount of the shape `AMOUNT_SHAPE`, below an absurd ceiling.

    The one money parser: the API and the pages answer a bad amount in these words. Text (from a page
    or the API) must have the documented shape; a Decimal or a whole number handed over by our own code
    is checked for range and decimals only. A float is refused: it cannot carry cents exactly.
    """
    amount = None
    message = AMOUNT_INVALID
    if isinstance(value, Decimal) or (isinstance(value, int) and not isinstance(value, bool)):
        amount = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if AMOUNT_SHAPE.fullmatch(text):
            amount = Decimal(text)
        elif _SIGNED.fullmatch(text) and not _MANY_DECIMALS.fullmatch(text):
            message = _("The amount must be greater than zero.")
        elif _MANY_DECIMALS.fullmatch(text):
            message = _("Use at most two decimal places.")
        elif _MANY_DIGITS.fullmatch(text):
            message = _("The amount is too large.")
    if amount is not None and amount.is_finite():
        if amount < 0 or (amount == 0 and not allow_zero):
            message = _("The amount must be greater than zero.")
        elif amount.as_tuple().exponent < -2:
            message = _("Use at most two decimal places.")
        elif amount > MAX_AMOUNT:
            message = _("The amount is too large.")
        else:
            return amount.quantize(Decimal("0.01"))
    raise InvalidInput(message, field_errors={field: [message]})


def count_usage(snapshot: AuthoritySnapshot, amount: Decimal) -> None:
    """Add an approved amount to the counters of a snapshot loaded with `lock=True`: every counter in
    one statement, on the rows this transaction holds locked."""
    keys = snapshot.keys.all()
    UsageCounter.objects.filter(key__in=keys).update(amount=F("amount") + amount)
    for key in keys:  # the snapshot's rows stay what the database now holds
        snapshot.counters[key].amount += amount


def settle_usage(*, counted: AuthoritySnapshot, covering: AuthoritySnapshot | None) -> None:
    """Move the amount counted tentatively on `counted`'s counters (`authority_snapshots(tentative=…)`)
    to those of `covering`, whose authority approves it, or off them when nobody's does: no
    statement when `covering` is `counted`, one otherwise."""
    amount = counted.counted
    moves = dict.fromkeys(counted.keys.all(), -amount)
    for key in covering.keys.all() if covering else ():
        moves[key] = moves.get(key, ZERO) + amount
    moves = {key: move for key, move in moves.items() if move}
    if not moves:
        return
    by_key = Case(*(When(key=key, then=Value(move)) for key, move in moves.items()), output_field=DecimalField())
    UsageCounter.objects.filter(key__in=moves).update(amount=F("amount") + by_key)
    rows = counted.counters | (covering.counters if covering else {})
    for key, move in moves.items():  # the snapshots' rows stay what the database now holds
        rows[key].amount += move


def decision_state(decision: Decision) -> dict:
    return {
        "status": decision.status,
        "amount": decision.amount,
        "final_amount": decision.final_amount,
        "decision_type": decision.decision_type.code,
        "case": decision.case_id,
    }


def enqueue_routing(escalation_id: int) -> None:
    """Route after commit. If the broker is down the escalation waits in "routing" for the sweep."""
    enqueue_after_commit("delegation.tasks.route_escalation", escalation_id)


def review_escalations_of(*, approver: Employee, decision_type: DecisionType) -> None:
    """After an approver's limits change, check at once whether they still cover what waits for them."""
    waiting = Escalation.objects.filter(
        approver=approver, status=Escalation.Status.ASSIGNED, decision__decision_type=decision_type
    ).values_list("pk", flat=True)
    for escalation_id in waiting:
        enqueue_after_commit("delegation.tasks.review_escalation", escalation_id)


def tell_of_step(escalation: Escalation, *, recipient: Employee, event: str, text, why) -> None:
    """Tell someone, once per `event`, of a step on an escalation's path; `text` names the escalation
    (%(id)s, %(type)s, %(amount)s: money in the recipient's language) and why it moved (%(why)s)."""
    decision = escalation.decision
    notify(
        recipient=recipient,
        key=f"escalation:{escalation.pk}:{event}",
        message=lazy_message(
            text,
            id=escalation.pk,
            type=decision.decision_type,
            amount=Money(decision.amount, decision.currency),  # in the recipient's language
            why=why,
        ),
        url=f"/escalations/{escalation.pk}/",
    )


def authority_limit_state(limit: AuthorityLimit) -> dict:
    """What an audit record shows of a limit: whose it is, for which type, its caps and its window."""
    return {
        "decision_type": limit.decision_type.code,
        "role": limit.role.code if limit.role_id else None,
        "employee": limit.employee.username if limit.employee_id else None,
        **limit.values(),
        "starts_at": limit.starts_at,
        "ends_at": limit.ends_at,
    }


def required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why: a reason is required.")
        raise InvalidInput(message, field_errors={"reason": [message]})
    return reason


def authority_changed(*, employee: Employee, decision_type: DecisionType, key: str) -> None:
    notify(
        recipient=employee,
        key=key,
        message=lazy_message(_("Your authority for %(type)s has changed."), type=decision_type),
        url="/authority/me/",
    )


def review_escalations_waiting_for(*, approver_ids: list[int], decision_type: DecisionType) -> None:
    """After several approvers' limits change (a role's default), check what waits for them, as
    `review_escalations_of` does for one."""
    waiting = Escalation.objects.filter(
        approver_id__in=approver_ids, status=Escalation.Status.ASSIGNED, decision__decision_type=decision_type
    ).values_list("pk", flat=True)
    for escalation_id in waiting:
        enqueue_after_commit("delegation.tasks.review_escalation", escalation_id)


def personal_limit_changed(*, employee: Employee, decision_type: DecisionType, key: str) -> None:
    """Tell the employee, and check at once whether they still cover the escalations waiting for them."""
    authority_changed(employee=employee, decision_type=decision_type, key=key)
    review_escalations_of(approver=employee, decision_type=decision_type)


def role_limit_changed(*, role, decision_type: DecisionType, key: str) -> None:
    """A role's default changed: tell everyone it applies to, and check what waits for them.

    It applies to the active people of that role without a standing personal limit for the type
    (someone in a temporary window is told too: the default applies again when the window ends).
    """
    standing = AuthorityLimit.objects.filter(
        employee=OuterRef("pk"), decision_type=decision_type, starts_at__isnull=True, ends_at__isnull=True
    )
    people = list(
        Employee.objects.filter(role=role, user__is_active=True).filter(~Exists(standing)).select_related("user")
    )
    message = lazy_message(
        _("The %(role)s role's limits for %(type)s have changed; they apply to you."),
        role=role,
        type=decision_type,
    )
    for person in people:
        notify(recipient=person, key=key, message=message, url="/authority/me/")
    review_escalations_waiting_for(approver_ids=[p.pk for p in people], decision_type=decision_type)


def limit_changed(limit: AuthorityLimit, *, key: str) -> None:
    """After a personal or role limit was saved or removed: tell whoever it concerns, review their escalations."""
    if limit.employee_id:
        personal_limit_changed(employee=limit.employee, decision_type=limit.decision_type, key=key)
    else:
        role_limit_changed(role=limit.role, decision_type=limit.decision_type, key=key)
