"""Deciding for the customer: within authority at once, beyond it escalated and routed after commit."""

import hashlib
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import (
    Decision,
    DecisionType,
    Escalation,
)
from delegation.selectors import authority_held_for, authority_snapshots
from delegation.services.common import (
    decision_state,
    enqueue_routing,
    settle_usage,
    validate_amount,
)
from delegation.services.stories import story_clean
from empower.db_retry import retry_on_conflict
from empower.errors import Conflict, InvalidInput
from empower.models import Case, Employee
from empower.prepared import insert
from empower.services import (
    audit,
    ensure_may_act_on_case,
)


def _fingerprint(*, case: Case, decision_type: DecisionType, amount: Decimal, rationale: str) -> str:
    raw = f"{case.pk}|{decision_type.code}|{amount:.2f}|{rationale}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _earlier(*, employee: Employee, idempotency_key: str) -> Decision | None:
    """The decision `employee` already submitted under this key, with what an answer shows of it."""
    return (
        Decision.objects.select_related(
            "decision_type", "approved_by__user", "authority_of__user", "escalation__assigned_to__user"
        )
        .filter(made_by=employee, idempotency_key=idempotency_key)
        .first()
    )


def _snapshot_record(snapshot, employee: Employee) -> dict:
    """The limits that judged a decision, naming whose they are: a stand-in's decision is judged by the
    delegator's authority (`source` "stand-in", their own source kept as `limits_source`)."""
    record = snapshot.as_record() | {"authority_of": snapshot.employee.username}
    if snapshot.employee.pk != employee.pk:
        record |= {"source": "stand-in", "limits_source": record["source"]}
    return record


@retry_on_conflict
def decision_submit(
    *,
    employee: Employee,
    case: Case,
    decision_type: DecisionType,
    amount,
    rationale: str,
    idempotency_key: str | None = None,
    story: str = "",
    remedy: bool = False,
) -> Decision:
    """Decide for the customer, or escalate what goes beyond the employee's authority.

    Within authority (own, or held as a stand-in) the decision is approved here, in this
    transaction, and the caps' counters move under a row lock. Beyond it, the decision is
    recorded as escalated with the limits it broke and routed by a task after commit.
    The same idempotency key with the same request answers the first decision again.
    A resolved case takes no decision (409) unless it is a follow-up's `remedy`, which only
    `feedback.services.follow_up_remedy` asks for once it has checked who handles the follow-up.

    Returns the decision with what an answer shows of it already loaded (maker, approver, type, case,
    escalation or none), so rendering it costs no query. Decision types and limits are read from
    the cache (`delegation.selectors.usage`), which never serves them stale after a change.

    Two requests with one key at once: the unique constraint on (maker, key) makes the second wait
    for the first to commit and then refuses its row; its transaction is rolled back and it answers
    as the retry it is. No lock is taken for that on the way (a statement on every keyed decision).
    """
    submit = {
        "employee": employee,
        "case": case,
        "decision_type": decision_type,
        "amount": amount,
        "rationale": rationale,
        "story": story,
        "remedy": remedy,
        "idempotency_key": idempotency_key,
    }
    try:
        return _decide(**submit)
    except IntegrityError as error:
        if not idempotency_key or "idempotency_key" not in str(error):
            raise
    return _decide(**submit)


@transaction.atomic
def _decide(
    *,
    employee: Employee,
    case: Case,
    decision_type: DecisionType,
    amount,
    rationale: str,
    story: str,
    remedy: bool,
    idempotency_key: str | None,
) -> Decision:
    rationale = (rationale or "").strip()
    try:
        amount = validate_amount(amount)
    except InvalidInput as invalid:
        if not rationale:  # report both at once
            invalid.field_errors["rationale"] = [_("Say why: the rationale is required.")]
        raise
    if not rationale:
        message = _("Say why: the rationale is required.")
        raise InvalidInput(message, field_errors={"rationale": [message]})
    story = story_clean(decision_type=decision_type, story=story)  # a wow gesture needs its story
    if not decision_type.is_active:
        message = _("This decision type is not in use.")
        raise InvalidInput(message, field_errors={"decision_type": [message]})
    ensure_may_act_on_case(employee=employee, case=case)

    fingerprint = _fingerprint(case=case, decision_type=decision_type, amount=amount, rationale=rationale)
    if idempotency_key:
        earlier = _earlier(employee=employee, idempotency_key=idempotency_key)
        if earlier:
            if earlier.request_fingerprint != fingerprint:
                raise Conflict(_("This idempotency key was used for another request."), code="idempotency_conflict")
            earlier.made_by = employee
            return earlier
    if case.status != Case.Status.OPEN and not remedy:
        raise Conflict(_("This case is resolved; reopen it to decide."), code="case_resolved")

    now = timezone.now()
    holders = [employee, *authority_held_for(employee=employee, decision_type_id=decision_type.pk, at=now)]
    # Counted on the maker's own caps at once, in the statement that locks the counters: where their
    # own authority covers it (nearly always), the decision needs no other statement for its usage.
    snapshots = authority_snapshots(
        wanted=[(h, decision_type.pk, case.customer_id) for h in holders],
        at=now,
        lock=True,
        cached=True,
        tentative=amount,
    )
    # Own authority first; then what the employee holds as a stand-in, on the delegator's caps.
    mine = [snapshots[(h.pk, decision_type.pk, case.customer_id)] for h in holders]
    own_exceeded = mine[0].exceeded(amount)
    covering = next((s for s in mine if s.covers(amount)), None)
    holder = covering.employee if covering else None
    settle_usage(counted=mine[0], covering=covering)
    # A decision is created approved or escalated; later moves go through `Decision.move_to`.
    if holder is not None:
        outcome = {
            "status": Decision.Status.APPROVED,
            "within_authority": True,
            "final_amount": amount,
            "approved_by": employee,
            "authority_of": holder,
            "decided_at": now,
        }
    else:
        outcome = {"status": Decision.Status.ESCALATED, "within_authority": False, "exceeded": own_exceeded}
    decision = Decision(
        case=case,
        customer_id=case.customer_id,
        decision_type=decision_type,
        made_by=employee,
        amount=amount,
        currency=settings.EMPOWER_CURRENCY,
        rationale=rationale,
        story=story,
        idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint,
        limits_snapshot=_snapshot_record(covering or mine[0], employee),
        created_at=now,
        **outcome,
    )
    insert(decision)
    if holder is not None:
        Decision.escalation.related.set_cached_value(decision, None)  # none: the answer needs no query to say so
        audit(
            actor=employee,
            action="decision.approved",
            target=decision,
            after=decision_state(decision),
            reason=rationale,
            subject=employee,
            on_behalf_of=holder if holder != employee else None,
        )
        return decision

    escalation = Escalation.objects.create(
        decision=decision, route_above=employee, exceeded=own_exceeded, created_at=now, routing_since=now
    )
    decision.escalation = escalation
    audit(
        actor=employee,
        action="decision.escalated",
        target=decision,
        after=decision_state(decision) | {"exceeded": own_exceeded},
        reason=rationale,
        subject=employee,
    )
    enqueue_routing(escalation.pk)
    return decision
