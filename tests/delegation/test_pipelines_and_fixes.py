"""Status pipelines refuse illegal moves and change nothing; scheduled/running/ended in one place;
and the services-side bug fixes of the renovation (partial limit changes merge under the lock,
ending someone else's stand-in is a 404 to an outsider)."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from delegation.models import AuthorityLimit, Decision, DecisionType, Delegation, Escalation, EscalationStep, Timed
from delegation.services import decision_submit, delegation_create, delegation_end, limit_set
from empower.errors import Conflict, NotAllowed, NotFound
from empower.models import AuditRecord, Employee

D = Decimal


@pytest.fixture
def escalated(org, make_case, django_capture_on_commit_callbacks) -> Escalation:
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice, case=make_case(), decision_type=org.refund, amount="150.00", rationale="Broken"
        )
    return Escalation.objects.get(decision=decision)


class TestDecisionPipeline:
    def test_a_decided_decision_cannot_be_decided_again(self, org, make_case):
        decision = decision_submit(
            employee=org.alice, case=make_case(), decision_type=org.refund, amount="20.00", rationale="Late"
        )
        assert decision.status == Decision.Status.APPROVED

        with pytest.raises(Conflict) as refused:
            decision.move_to(Decision.Status.REJECTED, at=timezone.now())

        assert refused.value.code == "illegal_move"
        decision.refresh_from_db()
        assert decision.status == Decision.Status.APPROVED and decision.final_amount == D("20.00")

    def test_an_escalated_decision_moves_to_an_answer(self, escalated):
        decision = escalated.decision
        decision.move_to(Decision.Status.WITHDRAWN, at=timezone.now())
        decision.refresh_from_db()
        assert decision.status == Decision.Status.WITHDRAWN and decision.decided_at is not None


class TestEscalationPipeline:
    def test_an_assigned_escalation_is_answered_with_a_step(self, escalated, org):
        assert escalated.status == Escalation.Status.ASSIGNED
        steps = escalated.steps.count()

        step = escalated.move_to(Escalation.Status.REJECTED, reason=EscalationStep.Reason.REJECTED, note="No")

        escalated.refresh_from_db()
        assert escalated.status == Escalation.Status.REJECTED and escalated.note == "No"
        assert escalated.steps.count() == steps + 1
        assert (step.status, step.assigned_to, step.level) == ("rejected", escalated.assigned_to, escalated.level)

    @pytest.mark.parametrize("illegal", [Escalation.Status.ROUTING, Escalation.Status.APPROVED])
    def test_a_closed_escalation_refuses_every_move_and_nothing_changes(self, escalated, illegal):
        escalated.move_to(Escalation.Status.WITHDRAWN, reason=EscalationStep.Reason.WITHDRAWN)
        steps = escalated.steps.count()

        with pytest.raises(Conflict):
            escalated.move_to(illegal, reason=EscalationStep.Reason.ROUTED, level=9)

        fresh = Escalation.objects.get(pk=escalated.pk)
        assert fresh.status == Escalation.Status.WITHDRAWN and fresh.level == 1
        assert fresh.steps.count() == steps

    def test_routing_cannot_answer_directly(self, org, make_case):
        decision = decision_submit(
            employee=org.alice, case=make_case(), decision_type=org.refund, amount="150.00", rationale="Broken"
        )  # not routed: no on-commit callbacks run
        escalation = Escalation.objects.get(decision=decision)
        assert escalation.status == Escalation.Status.ROUTING
        with pytest.raises(Conflict):
            escalation.move_to(Escalation.Status.APPROVED, reason=EscalationStep.Reason.APPROVED)
        assert not escalation.steps.exists()


class TestScheduledRunningEnded:
    def test_a_delegation_and_a_window_tell_their_state_and_the_queryset_agrees(self, org):
        now = timezone.now()
        running = delegation_create(
            delegator=org.bob,
            delegate=org.erin,
            decision_types=[org.refund],
            starts_at=now,
            ends_at=now + timedelta(1),
            reason="Away",
        )
        later = delegation_create(
            delegator=org.bob,
            delegate=org.frank,
            decision_types=[org.goodwill],
            starts_at=now + timedelta(days=2),
            ends_at=now + timedelta(days=3),
            reason="Away",
        )
        at = timezone.now()
        assert running.state_at(at) == Timed.RUNNING and later.state_at(at) == Timed.SCHEDULED
        assert running.state_at(now + timedelta(days=2)) == Timed.ENDED
        assert list(Delegation.objects.in_state(Timed.RUNNING, at)) == [running]
        assert list(Delegation.objects.in_state(Timed.SCHEDULED, at)) == [later]
        assert set(Delegation.objects.in_state(Timed.ENDED, now + timedelta(days=5))) == {running, later}

        window = AuthorityLimit(employee=org.alice, decision_type=org.refund, starts_at=at, ends_at=at + timedelta(1))
        assert window.state_at(at - timedelta(seconds=1)) == Timed.SCHEDULED
        assert window.state_at(at) == Timed.RUNNING
        assert window.state_at(at + timedelta(days=1)) == Timed.ENDED
        assert AuthorityLimit(role=org.alice.role, decision_type=org.refund).state_at(at) is None


class TestEndingSomeoneElsesStandIn:
    @pytest.fixture
    def bobs(self, org) -> Delegation:
        now = timezone.now()
        return delegation_create(
            delegator=org.bob,
            delegate=org.erin,
            decision_types=[org.refund],
            starts_at=now,
            ends_at=now + timedelta(1),
            reason="Away",
        )

    def test_an_outsider_is_told_there_is_no_such_delegation(self, org, bobs):
        # hank leads Returns: neither delegator, stand-in, nor above either of them.
        with pytest.raises(NotFound):
            delegation_end(delegation=bobs, actor=org.hank, reason="Not mine")
        bobs.refresh_from_db()
        assert bobs.ended_at is None
        assert not AuditRecord.objects.filter(action="delegation.ended").exists()

    def test_the_stand_in_sees_it_but_may_not_end_it(self, org, bobs):
        with pytest.raises(NotAllowed):
            delegation_end(delegation=bobs, actor=org.erin, reason="Done")

    def test_someone_above_the_delegator_ends_it(self, org, bobs):
        delegation_end(delegation=bobs, actor=org.carol, reason="Back early")
        bobs.refresh_from_db()
        assert bobs.ended_at is not None and bobs.ended_by == org.carol


def test_a_partial_limit_change_keeps_the_caps_it_does_not_name(org):
    limit_set(
        granter=org.bob,
        employee=org.alice,
        decision_type=org.refund,
        values={"per_decision": "80.00", "per_day": "250.00", "per_month": "1500.00", "per_customer_month": "150.00"},
        reason="Coaching",
    )

    limit = limit_set(
        granter=org.bob, employee=org.alice, decision_type=org.refund, values={"per_day": "200.00"}, reason="Less"
    )

    assert (limit.per_decision, limit.per_day, limit.per_month, limit.per_customer_month) == (
        D("80.00"),
        D("200.00"),
        D("1500.00"),
        D("150.00"),
    )


@pytest.mark.django_db(transaction=True)
def test_two_partial_limit_changes_at_once_both_survive(tmp_path):
    """Two managers change different caps of alice's refund limit at the same moment: the merge with
    the standing values happens under the service's lock, so neither change is lost."""
    call_command("seed_demo", password="pw-partial", stdout=open(tmp_path / "seed.log", "w"))  # noqa: SIM115
    bob, carol, alice = (Employee.objects.get(user__username=name) for name in ("bob", "carol", "alice"))
    refund = DecisionType.objects.get(code="refund")
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def change(granter, values):
        try:
            start.wait()
            limit_set(granter=granter, employee=alice, decision_type=refund, values=values, reason="Tuning")
        except BaseException as error:  # reported below, never swallowed
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=change, args=(bob, {"per_decision": "90.00"})),
        threading.Thread(target=change, args=(carol, {"per_day": "250.00"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    limit = AuthorityLimit.objects.get(employee=alice, decision_type=refund)
    assert (limit.per_decision, limit.per_day) == (D("90.00"), D("250.00"))
    assert (limit.per_month, limit.per_customer_month) == (D("2000.00"), D("200.00"))  # the role's, kept
