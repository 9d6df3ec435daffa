"""Every step of a decision and its escalation leaves an audit record: who, what, before, after, why."""

import pytest

from delegation.models import EscalationStep
from delegation.services import (
    decision_submit,
    escalation_approve,
    escalation_move_up,
    escalation_reject,
    escalation_withdraw,
)
from empower.models import AuditRecord


@pytest.fixture
def escalate(org, make_case, django_capture_on_commit_callbacks):
    """alice asks for a 150.00 refund; routing runs on commit and gives it to bob."""

    def make():
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=org.alice,
                case=make_case(org.alice),
                decision_type=org.refund,
                amount="150.00",
                rationale="Kettle broke twice",
            )
        decision.refresh_from_db()
        return decision

    return make


def _records(target) -> list[AuditRecord]:
    return list(
        AuditRecord.objects.filter(target_type=target._meta.label_lower, target_id=str(target.pk)).order_by("id")
    )


def test_a_decision_within_authority_is_recorded_with_who_what_and_why(org, make_case):
    decision = decision_submit(
        employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount="50.00", rationale="Late"
    )

    [record] = _records(decision)
    assert (record.action, record.actor, record.subject, record.reason) == (
        "decision.approved",
        org.alice,
        org.alice,
        "Late",
    )
    assert record.after["status"] == "approved" and record.after["amount"] == "50.00"


def test_an_escalation_is_recorded_when_made_and_when_routed(org, escalate):
    decision = escalate()

    [made] = _records(decision)
    assert (made.action, made.actor, made.reason) == ("decision.escalated", org.alice, "Kettle broke twice")
    assert made.after["status"] == "escalated" and made.after["exceeded"] == ["per_decision"]
    [routed] = _records(decision.escalation)
    assert routed.action == "escalation.routed" and routed.actor is None  # the system routed it
    assert routed.before["status"] == "routing"
    assert routed.after == {"status": "assigned", "assigned_to": "bob"}


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (
            lambda e, org: escalation_approve(escalation_id=e.pk, approver=org.bob, note="Fine", amount="120.00"),
            "approved",
        ),
        (lambda e, org: escalation_reject(escalation_id=e.pk, approver=org.bob, note="Fine"), "rejected"),
    ],
)
def test_an_answer_is_recorded_on_the_decision_and_on_the_escalation(org, escalate, answer, status):
    decision = escalate()

    answer(decision.escalation, org)

    decided = _records(decision)[-1]
    assert (decided.action, decided.actor, decided.subject, decided.reason) == (
        f"decision.{status}",
        org.bob,
        org.alice,
        "Fine",
    )
    assert decided.before["status"] == "escalated" and decided.after["status"] == status
    if status == "approved":
        assert (decided.before["final_amount"], decided.after["final_amount"]) == (None, "120.00")
    closed = _records(decision.escalation)[-1]
    assert (closed.action, closed.actor, closed.after) == (f"escalation.{status}", org.bob, {"status": status})
    assert closed.before["status"] == "assigned"


def test_moving_up_and_withdrawing_are_recorded(org, escalate):
    decision = escalate()

    escalation_move_up(escalation=decision.escalation, reason=EscalationStep.Reason.OVERDUE)
    escalation_withdraw(escalation_id=decision.escalation.pk, employee=org.alice, reason="Customer changed their mind")

    moved = next(r for r in _records(decision.escalation) if r.action == "escalation.moved_up")
    assert moved.before == {"assigned_to": "bob", "level": 1} and moved.after["level"] == 2
    assert moved.reason == str(EscalationStep.Reason.OVERDUE.label)
    withdrawn = _records(decision)[-1]
    assert (withdrawn.action, withdrawn.actor, withdrawn.reason) == (
        "decision.withdrawn",
        org.alice,
        "Customer changed their mind",
    )
    assert withdrawn.before["status"] == "escalated" and withdrawn.after["status"] == "withdrawn"


def test_audit_records_cannot_be_changed(org, make_case):
    decision_submit(
        employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount="50.00", rationale="Late"
    )
    record = AuditRecord.objects.get(action="decision.approved")
    record.reason = "Something nicer"
    with pytest.raises(ValueError, match="append-only"):
        record.save()
    assert AuditRecord.objects.get(pk=record.pk).reason == "Late"
