"""The decide-or-escalate rules, tested on the services every path calls."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from delegation.models import AuthorityLimit, Decision, Delegation, Escalation, EscalationStep, UsageCounter
from delegation.selectors import authority_of, escalation_inbox
from delegation.services import decision_submit, escalation_approve, escalation_reject, escalation_route
from empower.errors import Conflict, InvalidInput, NotAllowed, NotFound
from empower.models import AuditRecord, Notification
from tests.helpers import stand_in

D = Decimal


@pytest.fixture
def decide(org, make_case, django_capture_on_commit_callbacks):
    """Submit a decision and run what commits schedule (routing, eagerly)."""

    def submit(employee=None, amount="50.00", *, case=None, decision_type=None, key=None, rationale="Kettle broke"):
        employee = employee or org.alice
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=employee,
                case=case or make_case(employee),
                decision_type=decision_type or org.refund,
                amount=amount,
                rationale=rationale,
                idempotency_key=key,
            )
        decision.refresh_from_db()
        return decision

    return submit


def test_within_authority_is_approved_at_once_without_any_task(org, make_case, django_capture_on_commit_callbacks):
    case = make_case()
    with django_capture_on_commit_callbacks() as callbacks:
        decision = decision_submit(
            employee=org.alice, case=case, decision_type=org.refund, amount="50.00", rationale="Kettle broke"
        )
    assert callbacks == []
    assert decision.status == Decision.Status.APPROVED
    assert decision.within_authority and decision.final_amount == D("50.00")
    assert decision.approved_by == org.alice and decision.authority_of == org.alice
    assert not Escalation.objects.exists()
    line = next(x for x in authority_of(employee=org.alice).lines if x.decision_type == org.refund)
    assert line.used_today == D("50.00") and line.remaining_today == D("250.00")
    assert decision.limits_snapshot["per_decision"] == "100.00"
    assert AuditRecord.objects.filter(action="decision.approved", target_id=str(decision.pk), actor=org.alice).exists()


def test_beyond_authority_is_escalated_to_the_nearest_person_who_covers_it(decide, org):
    decision = decide(amount="150.00")
    assert decision.status == Decision.Status.ESCALATED
    assert decision.exceeded == ["per_decision"]
    escalation = decision.escalation
    assert escalation.status == Escalation.Status.ASSIGNED
    assert escalation.assigned_to == org.bob and escalation.approver == org.bob
    assert escalation.due_at > timezone.now()
    assert list(escalation.steps.values_list("reason", flat=True)) == [EscalationStep.Reason.ROUTED]
    assert Notification.objects.filter(recipient=org.bob, url=f"/escalations/{escalation.pk}/").count() == 1
    assert [m.to for m in mail.outbox] == [["bob@example.com"]]
    # Nothing counted for anyone until someone approves.
    assert not UsageCounter.objects.filter(amount__gt=0).exists()


def test_a_decision_counts_on_the_caps_of_whose_authority_approved_it(decide, org, make_case):
    """Counted on the maker's caps in the statement that locks them; moved to the delegator's for a
    stand-in's decision, and off them for an escalated one. The customer's month counts it once."""
    from delegation.selectors.usage import counter_amounts, counter_keys

    def used(employee, case) -> dict:
        keys = counter_keys(
            holder_id=employee.pk, decision_type_id=org.refund.pk, customer_id=case.customer_id, at=timezone.now()
        )
        amounts = counter_amounts(keys=keys.all())
        return {name: amounts.get(getattr(keys, name), Decimal(0)) for name in ("day", "month", "customer_month")}

    case = make_case(org.alice)
    decide(org.bob, "40.00", case=case)  # within bob's own 500
    assert used(org.bob, case) == {
        "day": Decimal("40.00"),
        "month": Decimal("40.00"),
        "customer_month": Decimal("40.00"),
    }
    decide(org.bob, "900.00", case=case)  # beyond bob's and escalated: nobody's caps move
    assert used(org.bob, case)["day"] == Decimal("40.00") and used(org.carol, case)["day"] == Decimal(0)
    stand_in(org, org.carol, org.bob, by=org.carol)
    decision = decide(org.bob, "600.00", case=case)  # beyond bob's own, within carol's
    assert decision.status == Decision.Status.APPROVED and decision.authority_of == org.carol
    assert used(org.bob, case) == {
        "day": Decimal("40.00"),
        "month": Decimal("40.00"),
        "customer_month": Decimal("640.00"),
    }
    assert used(org.carol, case)["day"] == Decimal("600.00") and used(org.carol, case)["month"] == Decimal("600.00")


def test_routing_skips_people_who_do_not_cover_it(decide, org):
    assert decide(amount="800.00").escalation.assigned_to == org.carol
    assert decide(amount="5000.00").escalation.assigned_to == org.dan


def test_routing_counts_the_approvers_remaining_caps(decide, org, make_case):
    # bob has spent most of his day: 1400 of 1500 on refunds.
    for _ in range(2):
        decide(org.bob, "500.00")
    decide(org.bob, "400.00")
    assert decide(amount="150.00").escalation.assigned_to == org.carol


def test_escalation_goes_to_the_stand_in_while_the_approver_is_away(decide, org):
    now = timezone.now()
    delegation = Delegation.objects.create(
        delegator=org.bob,
        delegate=org.erin,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
        created_by=org.bob,
    )
    delegation.decision_types.add(org.refund)
    escalation = decide(amount="150.00").escalation
    assert escalation.assigned_to == org.erin and escalation.approver == org.bob
    assert escalation.steps.get().reason == EscalationStep.Reason.STAND_IN
    # The stand-in approves on bob's authority: it counts on bob's caps and the audit says so.
    decision = escalation_approve(escalation_id=escalation.pk, approver=org.erin, note="Fine")
    assert decision.approved_by == org.erin and decision.authority_of == org.bob
    bob_refunds = next(x for x in authority_of(employee=org.bob).lines if x.decision_type == org.refund)
    assert bob_refunds.used_today == D("150.00")
    record = AuditRecord.objects.get(action="decision.approved", target_id=str(decision.pk))
    assert record.actor == org.erin and record.on_behalf_of == org.bob


def test_a_stand_in_never_receives_their_own_escalation(decide, org):
    now = timezone.now()
    delegation = Delegation.objects.create(
        delegator=org.bob,
        delegate=org.alice,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
        created_by=org.bob,
    )
    delegation.decision_types.add(org.refund)
    # alice holds bob's refund authority as a stand-in: 150 is within it, on bob's caps.
    decision = decide(amount="150.00")
    assert decision.status == Decision.Status.APPROVED and decision.authority_of == org.bob
    # Beyond bob's authority too: it goes up, never back to alice.
    assert decide(amount="800.00").escalation.assigned_to == org.carol


def test_unroutable_when_nobody_above_covers_it_and_admins_are_told(decide, org, settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    for person in (org.dan,):
        AuthorityLimit.objects.create(employee=person, decision_type=org.refund, per_decision=D("3000.00"))
    escalation = decide(amount="4000.00").escalation
    assert escalation.status == Escalation.Status.UNROUTABLE and escalation.assigned_to is None
    assert any("unroutable" in m.subject for m in mail.outbox)
    assert escalation.decision.status == Decision.Status.ESCALATED


def test_routing_twice_changes_nothing_and_notifies_nobody_again(decide, org):
    escalation = decide(amount="150.00").escalation
    assert escalation_route(escalation_id=escalation.pk) is None
    assert escalation.steps.count() == 1
    assert Notification.objects.filter(recipient=org.bob).count() == 1


def test_approve_a_lower_amount_counts_it_on_the_approvers_caps(decide, org):
    escalation = decide(amount="150.00").escalation
    decision = escalation_approve(escalation_id=escalation.pk, approver=org.bob, note="Half now", amount="120.00")
    assert decision.status == Decision.Status.APPROVED and decision.final_amount == D("120.00")
    assert decision.approved_by == org.bob
    bob_refunds = next(x for x in authority_of(employee=org.bob).lines if x.decision_type == org.refund)
    alice_refunds = next(x for x in authority_of(employee=org.alice).lines if x.decision_type == org.refund)
    assert bob_refunds.used_today == D("120.00") and alice_refunds.used_today == D("0.00")
    escalation.refresh_from_db()
    assert escalation.note == "Half now" and escalation.status == Escalation.Status.APPROVED
    assert Notification.objects.filter(recipient=org.alice, message__contains="Half now").exists()


def test_approve_more_than_requested_is_refused(decide, org):
    escalation = decide(amount="150.00").escalation
    with pytest.raises(InvalidInput):
        escalation_approve(escalation_id=escalation.pk, approver=org.bob, amount="150.01")
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED


def test_only_the_assignee_decides_and_only_once(decide, org):
    escalation = decide(amount="150.00").escalation
    with pytest.raises(NotAllowed):
        escalation_approve(escalation_id=escalation.pk, approver=org.alice)
    with pytest.raises(NotFound):  # hank may not even see it: no such escalation for him
        escalation_approve(escalation_id=escalation.pk, approver=org.hank)
    with pytest.raises(NotAllowed):  # carol sees it (above bob), but it is bob's to answer
        escalation_approve(escalation_id=escalation.pk, approver=org.carol)
    escalation_reject(escalation_id=escalation.pk, approver=org.bob, note="Outside policy")
    with pytest.raises(Conflict):
        escalation_approve(escalation_id=escalation.pk, approver=org.bob)
    decision = Decision.objects.get(pk=escalation.decision_id)
    assert decision.status == Decision.Status.REJECTED and decision.final_amount is None


def test_reject_needs_a_note(decide, org):
    escalation = decide(amount="150.00").escalation
    with pytest.raises(InvalidInput):
        escalation_reject(escalation_id=escalation.pk, approver=org.bob, note="  ")
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED


def test_approver_without_capacity_moves_it_up(decide, org, django_capture_on_commit_callbacks):
    escalation = decide(amount="150.00").escalation
    AuthorityLimit.objects.create(employee=org.bob, decision_type=org.refund, per_decision=D("100.00"))
    with pytest.raises(Conflict) as refused, django_capture_on_commit_callbacks(execute=True):
        escalation_approve(escalation_id=escalation.pk, approver=org.bob, note="ok")
    assert refused.value.code == "approver_capacity"
    escalation.refresh_from_db()
    assert escalation.assigned_to == org.carol and escalation.level == 2
    assert list(escalation.steps.values_list("reason", flat=True)) == [
        EscalationStep.Reason.ROUTED,
        EscalationStep.Reason.CAPACITY,
        EscalationStep.Reason.ROUTED,
    ]


def test_per_customer_cap_stops_splitting_a_refund(decide, org, make_case):
    case = make_case(org.alice, email="split@example.com")
    assert decide(amount="100.00", case=case).status == Decision.Status.APPROVED
    assert decide(org.erin, "100.00", case=case).status == Decision.Status.APPROVED
    third = decide(org.frank, "50.00", case=case)
    assert third.status == Decision.Status.ESCALATED and third.exceeded == ["per_customer_month"]


def test_per_day_cap(decide, org):
    for _ in range(3):
        assert decide(amount="100.00").status == Decision.Status.APPROVED
    assert decide(amount="0.01").exceeded == ["per_day"]


@pytest.mark.parametrize("amount", ["-5", "0", "abc", "NaN", "Infinity", "1.001", "1e12", ""])
def test_bad_amounts_are_refused_and_change_nothing(org, make_case, amount):
    case = make_case()
    with pytest.raises(InvalidInput) as refused:
        decision_submit(employee=org.alice, case=case, decision_type=org.refund, amount=amount, rationale="x")
    assert "amount" in refused.value.field_errors
    assert not Decision.objects.exists() and not UsageCounter.objects.exists()


def test_rationale_is_required(org, make_case):
    with pytest.raises(InvalidInput) as refused:
        decision_submit(employee=org.alice, case=make_case(), decision_type=org.refund, amount="5", rationale=" ")
    assert "rationale" in refused.value.field_errors
    assert not Decision.objects.exists()


def test_another_teams_case_is_refused(org, make_case):
    returns_case = make_case(org.gina)
    with pytest.raises(NotAllowed):
        decision_submit(employee=org.alice, case=returns_case, decision_type=org.refund, amount="5", rationale="x")
    assert not Decision.objects.exists()


def test_idempotency_key_answers_the_first_result_and_refuses_another_body(decide, org, make_case):
    case = make_case()
    first = decide(amount="150.00", case=case, key="k-1")
    again = decide(amount="150.00", case=case, key="k-1")
    assert again.pk == first.pk and Decision.objects.count() == 1 and Escalation.objects.count() == 1
    with pytest.raises(Conflict):
        decide(amount="151.00", case=case, key="k-1")
    assert Decision.objects.count() == 1


def test_a_personal_limit_replaces_the_roles(decide, org):
    AuthorityLimit.objects.create(
        employee=org.alice, decision_type=org.refund, per_decision=D("250.00"), per_day=None, per_month=None
    )
    assert decide(amount="240.00").status == Decision.Status.APPROVED


def test_a_temporary_limit_runs_only_in_its_window(decide, org):
    now = timezone.now()
    AuthorityLimit.objects.create(
        employee=org.alice,
        decision_type=org.refund,
        per_decision=D("250.00"),
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )
    assert decide(amount="240.00").status == Decision.Status.ESCALATED


def test_an_unknown_escalation_is_not_found(org):
    with pytest.raises(NotFound):
        escalation_approve(escalation_id=987654, approver=org.bob)
    with pytest.raises(NotFound):
        escalation_reject(escalation_id=987654, approver=org.bob, note="x")


def test_amount_and_rationale_errors_are_reported_together(org, make_case):
    with pytest.raises(InvalidInput) as refused:
        decision_submit(employee=org.alice, case=make_case(), decision_type=org.refund, amount="-1", rationale="")
    assert set(refused.value.field_errors) == {"amount", "rationale"}


def test_a_stand_in_who_starts_later_sees_and_decides_what_waits_for_the_delegator(decide, org):
    escalation = decide(amount="150.00").escalation
    assert escalation.assigned_to == org.bob
    now = timezone.now()
    delegation = Delegation.objects.create(
        delegator=org.bob,
        delegate=org.erin,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
        created_by=org.bob,
    )
    delegation.decision_types.add(org.refund)
    assert list(escalation_inbox(employee=org.erin)) == [escalation]
    assert list(escalation_inbox(employee=org.frank)) == []
    decision = escalation_approve(escalation_id=escalation.pk, approver=org.erin, note="Covered for Bob")
    assert decision.approved_by == org.erin and decision.authority_of == org.bob


def test_the_approver_is_told_in_their_own_language(decide, org):
    org.bob.language = "pl"
    org.bob.save(update_fields=["language"])
    escalation = decide(amount="150.00").escalation
    message = Notification.objects.get(recipient=org.bob, url=f"/escalations/{escalation.pk}/").message
    # The decision type's name too is in her language (translated data).
    assert message.startswith("Alice prosi o Twoją decyzję: Zwrot pieniędzy 150,00\u00a0€")
