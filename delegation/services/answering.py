"""Answering escalations: approve (on the approver's caps), reject, withdraw; who may answer."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import (
    Decision,
    Escalation,
    EscalationStep,
)
from delegation.selectors import (
    answer_refusal,
    authority_snapshot,
    withdraw_refusal,
)
from delegation.services.common import count_usage, decision_state, validate_amount
from delegation.services.routing import escalation_move_up, lock_escalation
from empower.db_retry import retry_on_conflict
from empower.errors import Conflict, InvalidInput, NotFound
from empower.models import Employee
from empower.money import Money
from empower.services import (
    audit,
    lazy_message,
    notify,
)


def _ensure_may_answer(escalation: Escalation, actor: Employee) -> None:
    """Raise `answer_refusal`: the pages show the answer forms from the same rule."""
    refusal = answer_refusal(escalation=escalation, employee=actor)
    if refusal is not None:
        raise refusal


def escalation_answer_check(*, escalation_id: int, actor: Employee) -> None:
    """Refuse, before any input is read, whoever may not answer this escalation now: unknown 404,
    not theirs 403, not waiting for an answer 409. Approving and rejecting check it again under lock."""
    escalation = Escalation.objects.select_related("decision").filter(pk=escalation_id).first()
    if escalation is None:
        raise NotFound(_("No such escalation."), code="escalation_not_found")
    _ensure_may_answer(escalation, actor)


def _lock_open_escalation(*, escalation_id: int, actor: Employee) -> Escalation:
    escalation = lock_escalation(escalation_id)
    _ensure_may_answer(escalation, actor)
    return escalation


def _authority_holder(escalation: Escalation, actor: Employee) -> Employee:
    """Whose authority an approval uses: the approver's, also when their stand-in acts."""
    return escalation.approver or actor


@retry_on_conflict
def escalation_approve(
    *, escalation_id: int, approver: Employee, note: str = "", amount=None, share_as_guidance: bool = False
) -> Decision:
    """Approve an escalated decision, optionally for a lower amount, with a note to the employee: the
    note may be empty when approving as asked, and is required for a lower amount (400 without).

    Approval uses the approver's own caps at this moment; where they no longer cover it, the
    escalation moves up a level and the approval is refused (409). Who may answer is checked
    before the amount (403 and 409 come before 400).
    """
    moved_up = False
    with transaction.atomic():
        escalation = _lock_open_escalation(escalation_id=escalation_id, actor=approver)
        decision = escalation.decision
        final_amount = decision.amount if amount in (None, "") else validate_amount(amount)
        if final_amount > decision.amount:
            message = _("You can approve the requested amount or less, not more.")
            raise InvalidInput(message, field_errors={"amount": [message]})
        note = (note or "").strip()
        if final_amount < decision.amount and not note:
            # The requester must learn why they got less; approving as asked may go without a word.
            message = _("Tell the employee why you approve less than asked: a note is required.")
            raise InvalidInput(message, code="note_required", field_errors={"note": [message]})
        holder = _authority_holder(escalation, approver)
        now = timezone.now()
        held = authority_snapshot(
            employee=holder,
            decision_type_id=decision.decision_type_id,
            customer_id=decision.case.customer_id,
            at=now,
            lock=True,
        )
        if held.exceeded(final_amount):
            escalation_move_up(escalation=escalation, reason=EscalationStep.Reason.CAPACITY, actor=approver)
            moved_up = True
        else:
            count_usage(held, final_amount)
            before = decision_state(decision)
            decision.move_to(
                Decision.Status.APPROVED,
                at=now,
                final_amount=final_amount,
                approved_by=approver,
                authority_of=holder,
                # The maker's snapshot (the limits that escalated it) stays; the approver's is kept beside it.
                approval_snapshot=held.as_record() | {"authority_of": holder.username},
            )
            _answer(
                escalation,
                approver,
                Escalation.Status.APPROVED,
                note,
                now,
                decision_before=before,
                share_as_guidance=share_as_guidance,
            )
    if moved_up:
        raise Conflict(
            _("Your remaining authority no longer covers this; it has moved up a level."), code="approver_capacity"
        )
    return decision


@retry_on_conflict
def escalation_reject(
    *, escalation_id: int, approver: Employee, note: str, share_as_guidance: bool = False
) -> Decision:
    """Reject an escalated decision; the note, which is required, tells the employee why.

    Who may answer is checked before the note (403 and 409 come before 400).
    """
    note = (note or "").strip()
    with transaction.atomic():
        escalation = _lock_open_escalation(escalation_id=escalation_id, actor=approver)
        if not note:
            message = _("Tell the employee why: a note is required.")
            raise InvalidInput(message, field_errors={"note": [message]})
        decision = escalation.decision
        now = timezone.now()
        before = decision_state(decision)
        decision.move_to(Decision.Status.REJECTED, at=now, approved_by=None)
        _answer(
            escalation,
            approver,
            Escalation.Status.REJECTED,
            note,
            now,
            decision_before=before,
            share_as_guidance=share_as_guidance,
        )
    return decision


def _answer(
    escalation: Escalation,
    approver: Employee,
    status: str,
    note: str,
    now,
    *,
    decision_before: dict,
    share_as_guidance: bool = False,
) -> None:
    """Close an escalation with the approver's answer: audit both rows and tell the requester.

    A note the approver shares as guidance is shown beside the decision form for the decision's
    type (`delegation.selectors.guidance_for`); an empty note shares nothing."""
    decision = escalation.decision
    holder = _authority_holder(escalation, approver)
    shared = bool(share_as_guidance and (note or "").strip())
    _close(escalation, approver, status, note, now, share_as_guidance=shared)
    audit(
        actor=approver,
        action=f"decision.{status}",
        target=decision,
        before=decision_before,
        after=decision_state(decision),
        reason=note,
        subject=decision.made_by,
        on_behalf_of=holder if holder != approver else None,
    )
    _tell_requester(escalation)


def _close(escalation: Escalation, actor: Employee, status: str, note: str, now, *, share_as_guidance=False) -> None:
    before = {"status": escalation.status}
    escalation.move_to(
        status,
        reason=EscalationStep.Reason(status),
        at=now,
        note=(note or "").strip(),
        decided_by=actor,
        decided_at=now,
        remind_at=None,
        share_as_guidance=share_as_guidance,
    )
    audit(
        actor=actor,
        action=f"escalation.{status}",
        target=escalation,
        before=before,
        after={"status": status, **({"share_as_guidance": True} if share_as_guidance else {})},
        reason=escalation.note,
        subject=escalation.decision.made_by,
    )


def _tell_requester(escalation: Escalation) -> None:
    """The requester hears the outcome, the granted amount first (a cut one says what was asked)."""
    decision = escalation.decision
    if escalation.status == Escalation.Status.APPROVED and decision.final_amount < decision.amount:
        message = _(
            "%(approver)s approved %(amount)s (you asked %(asked)s) for your %(type)s on case #%(case)s. %(note)s"
        )
    elif escalation.status == Escalation.Status.APPROVED:
        message = _("%(approver)s approved %(amount)s for your %(type)s on case #%(case)s. %(note)s")
    else:
        message = _("%(approver)s rejected your %(type)s of %(asked)s on case #%(case)s. %(note)s")
    notify(
        recipient=decision.made_by,
        key=f"escalation:{escalation.pk}:{escalation.status}",
        message=lazy_message(
            message,
            approver=escalation.decided_by,
            type=decision.decision_type,
            amount=Money(decision.final_amount or decision.amount, decision.currency),  # in the recipient's language
            asked=Money(decision.amount, decision.currency),
            case=decision.case_id,
            note=escalation.note,
        ),
        url=f"/cases/{decision.case_id}/",
    )


@retry_on_conflict
def escalation_withdraw(*, escalation_id: int, employee: Employee, reason: str = "") -> Decision:
    """The requester takes back a pending escalation; the assignee is told."""
    with transaction.atomic():
        escalation = lock_escalation(escalation_id)
        decision = escalation.decision
        refusal = withdraw_refusal(escalation=escalation, employee=employee)
        if refusal is not None:
            raise refusal
        now = timezone.now()
        before = decision_state(decision)
        decision.move_to(Decision.Status.WITHDRAWN, at=now)
        audit(
            actor=employee,
            action="decision.withdrawn",
            target=decision,
            before=before,
            after=decision_state(decision),
            reason=reason,
            subject=employee,
        )
        _close(escalation, employee, Escalation.Status.WITHDRAWN, reason, now)
        if escalation.assigned_to:
            notify(
                recipient=escalation.assigned_to,
                key=f"escalation:{escalation.pk}:withdrawn",
                message=lazy_message(
                    _("%(requester)s withdrew escalation #%(id)s."), requester=employee, id=escalation.pk
                ),
                url=f"/escalations/{escalation.pk}/",
            )
    return decision
