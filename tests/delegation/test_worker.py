"""Routing with a real Celery worker process on the configured broker (Redis in CI)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone
from kombu import pools

from delegation.models import DecisionType, Escalation, EscalationStep
from delegation.services import decision_submit, limit_set
from delegation.tasks import review_assigned_escalations, route_escalation, sweep_unrouted_escalations
from empower.celery import app as celery_app
from empower.models import Employee, Notification
from empower.services import case_open
from tests.delegation.conftest import wait_for

pytestmark = pytest.mark.worker


@pytest.fixture
def people(transactional_db, tmp_path):
    call_command("seed_demo", password="pw-worker", stdout=open(tmp_path / "seed.log", "w"))  # noqa: SIM115
    return {e.user.username: e for e in Employee.objects.select_related("user")}


def _escalate(alice: Employee, amount: str) -> Escalation:
    case = case_open(employee=alice, customer_name="Jo", customer_email="jo@example.com", subject="Broken")
    decision = decision_submit(
        employee=alice,
        case=case,
        decision_type=DecisionType.objects.get(code="refund"),
        amount=Decimal(amount),
        rationale="Arrived broken",
    )
    return decision.escalation


def test_a_real_worker_routes_an_escalation_after_commit(people, celery_worker_process):
    escalation = _escalate(people["alice"], "800.00")

    def routed():
        escalation.refresh_from_db()
        return escalation.status != Escalation.Status.ROUTING

    wait_for(routed)
    assert escalation.status == Escalation.Status.ASSIGNED
    assert escalation.assigned_to == people["carol"]
    assert Notification.objects.filter(recipient=people["carol"]).count() == 1


def test_the_same_routing_task_delivered_twice_acts_once(people, celery_worker_process):
    escalation = _escalate(people["alice"], "150.00")
    route_escalation.delay(escalation.pk)
    route_escalation.delay(escalation.pk)
    wait_for(lambda: EscalationStep.objects.filter(escalation=escalation).exists())
    # Give the duplicate deliveries time to run before counting.
    wait_for(
        lambda: (
            "route_escalation" in celery_worker_process.log_path.read_text() and _deliveries(celery_worker_process) >= 3
        )
    )
    assert EscalationStep.objects.filter(escalation=escalation).count() == 1
    assert Notification.objects.filter(recipient=people["bob"]).count() == 1


def _deliveries(worker) -> int:
    return worker.log_path.read_text().count("succeeded in")


def _reset_broker_connections():
    """Forget pooled broker connections so the next publish uses the current CELERY_BROKER_URL."""
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def test_the_sweep_recovers_an_escalation_made_while_the_broker_was_unreachable(people, monkeypatch, worker):
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    _reset_broker_connections()
    escalation = _escalate(people["alice"], "150.00")
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ROUTING  # stored, waiting for the sweep

    monkeypatch.undo()
    _reset_broker_connections()
    Escalation.objects.filter(pk=escalation.pk).update(routing_since=timezone.now() - timedelta(minutes=5))
    worker.start()
    sweep_unrouted_escalations.delay()
    wait_for(lambda: Escalation.objects.get(pk=escalation.pk).status == Escalation.Status.ASSIGNED)
    assert Escalation.objects.get(pk=escalation.pk).assigned_to == people["bob"]
    assert EscalationStep.objects.filter(escalation=escalation).count() == 1


def test_work_queued_while_the_worker_is_stopped_is_routed_once_it_is_back(people, worker):
    worker.start()
    first = _escalate(people["alice"], "150.00")
    wait_for(lambda: Escalation.objects.get(pk=first.pk).status == Escalation.Status.ASSIGNED)
    worker.stop()

    waiting = [_escalate(people["erin"], "150.00"), _escalate(people["frank"], "800.00")]
    assert {Escalation.objects.get(pk=e.pk).status for e in waiting} == {Escalation.Status.ROUTING}

    worker.start()
    wait_for(lambda: not Escalation.objects.filter(status=Escalation.Status.ROUTING).exists())
    assert [Escalation.objects.get(pk=e.pk).assigned_to for e in waiting] == [people["bob"], people["carol"]]
    for escalation in [first, *waiting]:
        assert EscalationStep.objects.filter(escalation=escalation).count() == 1


def test_a_real_worker_moves_up_what_passed_its_deadline(people, celery_worker_process):
    escalation = _escalate(people["alice"], "150.00")
    wait_for(lambda: Escalation.objects.get(pk=escalation.pk).status == Escalation.Status.ASSIGNED)
    # Time is controlled through the data: the deadline stored in the database has passed.
    Escalation.objects.filter(pk=escalation.pk).update(due_at=timezone.now() - timedelta(minutes=1))
    review_assigned_escalations.delay()
    wait_for(lambda: Escalation.objects.get(pk=escalation.pk).assigned_to == people["carol"])
    reasons = list(EscalationStep.objects.filter(escalation=escalation).values_list("reason", flat=True))
    assert reasons == [EscalationStep.Reason.ROUTED, EscalationStep.Reason.OVERDUE, EscalationStep.Reason.ROUTED]


def test_a_real_worker_moves_up_what_the_approver_no_longer_covers(people, celery_worker_process):
    escalation = _escalate(people["alice"], "150.00")
    wait_for(lambda: Escalation.objects.get(pk=escalation.pk).status == Escalation.Status.ASSIGNED)
    limit_set(
        granter=people["carol"],
        employee=people["bob"],
        decision_type=DecisionType.objects.get(code="refund"),
        values={
            "per_decision": "100.00",
            "per_day": "1500.00",
            "per_month": "10000.00",
            "per_customer_month": "1000.00",
        },
        reason="Coaching",
    )
    wait_for(lambda: Escalation.objects.get(pk=escalation.pk).assigned_to == people["carol"])
    assert EscalationStep.objects.filter(escalation=escalation, reason=EscalationStep.Reason.CAPACITY).count() == 1
