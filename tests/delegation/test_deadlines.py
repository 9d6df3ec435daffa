"""Escalations are never stuck: deadlines in working hours, approver capacity, withdrawal, the sweep."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from delegation.deadlines import add_working_hours
from delegation.models import AuthorityLimit, Decision, Escalation, EscalationStep, ResponseTime
from delegation.services import decision_submit, escalation_approve, escalation_withdraw, limit_set
from delegation.tasks import review_assigned_escalations, sweep_unrouted_escalations
from empower.errors import Conflict, NotAllowed
from empower.models import Notification

UTC = ZoneInfo("UTC")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "hours", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0), 4, datetime(2026, 11, 23, 14, 0)),  # within Monday
        (datetime(2026, 11, 23, 15, 0), 4, datetime(2026, 11, 24, 11, 0)),  # over the night
        (datetime(2026, 11, 27, 16, 0), 2, datetime(2026, 11, 30, 10, 0)),  # Friday → Monday
        (datetime(2026, 11, 28, 12, 0), 1, datetime(2026, 11, 30, 10, 0)),  # asked on Saturday
        (datetime(2026, 11, 23, 7, 30), 1, datetime(2026, 11, 23, 10, 0)),  # before opening
        (datetime(2026, 11, 23, 10, 0), 16, datetime(2026, 11, 25, 10, 0)),  # two whole days
    ],
)
def test_deadlines_count_working_hours(start, hours, expected):
    assert add_working_hours(start.replace(tzinfo=UTC), hours) == expected.replace(tzinfo=UTC)


def test_working_hours_follow_the_organizations_time_zone(settings):
    settings.TIME_ZONE = "Atlantic/Reykjavik"
    start = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    assert add_working_hours(start, 1) == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


@pytest.fixture
def escalate(org, make_case, django_capture_on_commit_callbacks):
    def submit(amount="150.00", employee=None):
        employee = employee or org.alice
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=employee, case=make_case(employee), decision_type=org.refund, amount=amount, rationale="x"
            )
        return Escalation.objects.get(decision=decision)

    return submit


@pytest.fixture
def run_commits(django_capture_on_commit_callbacks):
    def run(task):
        with django_capture_on_commit_callbacks(execute=True):
            return task()

    return run


def test_an_overdue_escalation_moves_up_by_itself_and_everyone_is_told(org, escalate, run_commits):
    ResponseTime.objects.create(decision_type=org.refund, level=1, hours=2)
    with time_machine.travel(MONDAY_10, tick=False):
        escalation = escalate()
    assert escalation.assigned_to == org.bob and escalation.due_at == MONDAY_10 + timedelta(hours=2)

    with time_machine.travel(MONDAY_10 + timedelta(hours=1, minutes=59), tick=False):
        assert run_commits(review_assigned_escalations) == 0
    with time_machine.travel(MONDAY_10 + timedelta(hours=2, minutes=1), tick=False):
        assert run_commits(review_assigned_escalations) == 1
        escalation.refresh_from_db()
        assert escalation.assigned_to == org.carol and escalation.level == 2
        assert escalation.due_at == MONDAY_10 + timedelta(hours=6, minutes=1)  # refunds: 4 h by default
    reasons = list(escalation.steps.values_list("reason", flat=True))
    assert reasons == [EscalationStep.Reason.ROUTED, EscalationStep.Reason.OVERDUE, EscalationStep.Reason.ROUTED]
    told = set(
        Notification.objects.filter(key=f"escalation:{escalation.pk}:moved:2").values_list("recipient", flat=True)
    )
    assert told == {org.bob.pk, org.alice.pk}
    assert Notification.objects.filter(recipient=org.carol, url=f"/escalations/{escalation.pk}/").exists()
    # Running the review again changes nothing.
    with time_machine.travel(MONDAY_10 + timedelta(hours=2, minutes=2), tick=False):
        assert run_commits(review_assigned_escalations) == 0


def test_an_approver_who_no_longer_covers_it_passes_it_up_before_the_deadline(org, escalate, run_commits):
    escalation = escalate()
    AuthorityLimit.objects.create(employee=org.bob, decision_type=org.refund, per_decision=Decimal("100.00"))
    assert run_commits(review_assigned_escalations) == 1
    escalation.refresh_from_db()
    assert escalation.assigned_to == org.carol
    assert escalation.steps.filter(reason=EscalationStep.Reason.CAPACITY).exists()


def test_the_requester_withdraws_a_pending_escalation(org, escalate):
    escalation = escalate()
    with pytest.raises(NotAllowed):
        escalation_withdraw(escalation_id=escalation.pk, employee=org.bob)
    decision = escalation_withdraw(escalation_id=escalation.pk, employee=org.alice, reason="Customer changed mind")
    assert decision.status == Decision.Status.WITHDRAWN
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.WITHDRAWN
    assert Notification.objects.filter(recipient=org.bob, key=f"escalation:{escalation.pk}:withdrawn").exists()
    with pytest.raises(Conflict):
        escalation_approve(escalation_id=escalation.pk, approver=org.bob)
    with pytest.raises(Conflict):
        escalation_withdraw(escalation_id=escalation.pk, employee=org.alice)


def test_the_sweep_routes_what_waited_too_long_in_routing(org, make_case):
    # No on-commit execution: as if the broker had been down when the decision was made.
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount="150.00", rationale="x"
    )
    escalation = decision.escalation
    assert escalation.status == Escalation.Status.ROUTING
    assert sweep_unrouted_escalations() == 0  # still within the grace period
    Escalation.objects.filter(pk=escalation.pk).update(routing_since=timezone.now() - timedelta(minutes=5))
    assert sweep_unrouted_escalations() == 1
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED and escalation.assigned_to == org.bob
    assert sweep_unrouted_escalations() == 0


def test_lowering_an_approvers_limit_moves_their_waiting_escalations_up_at_once(org, escalate, run_commits):
    escalation = escalate()
    run_commits(
        lambda: limit_set(
            granter=org.carol,
            employee=org.bob,
            decision_type=org.refund,
            values={
                "per_decision": "100.00",
                "per_day": "1500.00",
                "per_month": "10000.00",
                "per_customer_month": "1000.00",
            },
            reason="Coaching",
        )
    )
    escalation.refresh_from_db()
    assert escalation.assigned_to == org.carol
    assert escalation.steps.filter(reason=EscalationStep.Reason.CAPACITY).exists()
