"""Hand-made decision histories for the cockpit's recommendations, track records and what-if tests.

Rows are written directly (not through `decision_submit`): these tests read history, and a history
of 30 escalations with chosen outcomes, amounts and dates is clearer written out than replayed.
"""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from delegation.models import Decision, Escalation

OUTCOMES = {
    # outcome: (decision status, escalation status, final amount as a share of the amount)
    "as_asked": (Decision.Status.APPROVED, Escalation.Status.APPROVED, Decimal("1")),
    "lower": (Decision.Status.APPROVED, Escalation.Status.APPROVED, Decimal("0.5")),
    "rejected": (Decision.Status.REJECTED, Escalation.Status.REJECTED, None),
    "withdrawn": (Decision.Status.WITHDRAWN, Escalation.Status.WITHDRAWN, None),
    "waiting": (Decision.Status.ESCALATED, Escalation.Status.ASSIGNED, None),
}


def escalated(
    *,
    case,
    maker,
    approver,
    decision_type,
    amount,
    outcome: str = "as_asked",
    exceeded=("per_decision",),
    at=None,
    hours_to_answer: float = 2,
    note: str = "Fine by me",
) -> Decision:
    """One escalated decision by `maker`, answered by `approver` (`outcome`), `hours_to_answer` later."""
    at = at or timezone.now() - timedelta(days=1)
    amount = Decimal(str(amount))
    status, escalation_status, share = OUTCOMES[outcome]
    answered = outcome in ("as_asked", "lower", "rejected")
    decided_at = at + timedelta(hours=hours_to_answer) if outcome != "waiting" else None
    decision = Decision.objects.create(
        case=case,
        customer_id=case.customer_id,
        decision_type=decision_type,
        made_by=maker,
        amount=amount,
        currency="EUR",
        final_amount=(amount * share).quantize(Decimal("0.01")) if share is not None else None,
        rationale="Customer waited long",
        status=status,
        within_authority=False,
        exceeded=list(exceeded),
        approved_by=approver if status == Decision.Status.APPROVED else None,
        authority_of=approver if status == Decision.Status.APPROVED else None,
        created_at=at,
        decided_at=decided_at,
    )
    Escalation.objects.create(
        decision=decision,
        status=escalation_status,
        route_above=maker,
        approver=approver,
        assigned_to=approver,
        exceeded=list(exceeded),
        note=note if answered else "",
        decided_by=approver if answered else None,
        decided_at=decided_at if answered else None,
        created_at=at,
        routing_since=at,
        routed_at=at,
    )
    return decision


def within(*, case, maker, decision_type, amount, at=None) -> Decision:
    """One decision within the maker's authority, approved at once."""
    at = at or timezone.now() - timedelta(days=1)
    amount = Decimal(str(amount))
    return Decision.objects.create(
        case=case,
        customer_id=case.customer_id,
        decision_type=decision_type,
        made_by=maker,
        amount=amount,
        currency="EUR",
        final_amount=amount,
        rationale="Right for the customer",
        status=Decision.Status.APPROVED,
        within_authority=True,
        exceeded=[],
        authority_of=maker,
        created_at=at,
        decided_at=at,
    )
