"""Routing with a real Celery worker process on the configured broker (Redis in CI)."""

import re
import socket
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from kombu import Connection, pools
from rest_framework.test import APIClient

from delegation.models import Decision, DecisionType, Escalation, EscalationStep
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


# --- A worker killed mid-task, duplicates delivered at once, a broker that drops packets ---------


@contextmanager
def _holding_row_lock(escalation: Escalation):
    """Hold the escalation's row lock, so a routing task blocks at its first step (on SQLite, the
    IMMEDIATE transaction holds the database's write lock, to the same effect)."""
    with transaction.atomic():
        Escalation.objects.select_for_update().get(pk=escalation.pk)
        yield


def _routing_received(worker) -> int:
    return len(re.findall(r"route_escalation\[[^\]]+\] received", worker.log_path.read_text(errors="replace")))


def _wait_until_routing_blocks(worker, count: int) -> None:
    """Until `count` routing tasks are running and waiting for the row (PostgreSQL shows the wait)."""
    wait_for(lambda: _routing_received(worker) >= count, timeout=90)
    if connection.vendor == "postgresql":

        def waiting() -> int:
            with connection.cursor() as cursor:
                # This runs inside the transaction holding the lock, where PostgreSQL keeps the first
                # look at pg_stat_activity for the whole transaction: a look taken before the worker
                # began to wait would never show it waiting. Look afresh each time.
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                return cursor.fetchone()[0]

        wait_for(lambda: waiting() >= count)
    else:
        time.sleep(1)


def _succeeded(worker) -> int:
    return worker.log_path.read_text(errors="replace").count("succeeded in")


def _redeliver_unacknowledged() -> int:
    """Put back what a killed worker had taken but not acknowledged, as Redis does once the
    visibility timeout has passed (an hour in production: the test does not wait for it).
    The filesystem broker keeps no unacknowledged messages: there the sweep alone recovers."""
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        return 0
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS | {"visibility_timeout": 0}
    with Connection(settings.CELERY_BROKER_URL, transport_options=options) as conn:
        channel = conn.default_channel
        unacknowledged = channel.client.hlen(channel.unacked_key)
        channel.qos.restore_visible(num=1000, interval=1)
    return unacknowledged


def test_a_worker_killed_mid_routing_loses_nothing_and_routes_it_exactly_once(people, worker):
    escalation = _escalate(people["alice"], "150.00")  # the worker is stopped: the task waits in the queue
    with _holding_row_lock(escalation):
        worker.start()
        _wait_until_routing_blocks(worker, 1)
        worker.kill()  # SIGKILL while the task runs: nothing acknowledged, nothing committed
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ROUTING and not escalation.steps.exists()

    redelivered = _redeliver_unacknowledged()
    if settings.CELERY_BROKER_URL.startswith("redis"):
        assert redelivered == 1  # acks_late: the message outlived the worker that had taken it
    Escalation.objects.filter(pk=escalation.pk).update(routing_since=timezone.now() - timedelta(minutes=5))
    worker.start()
    sweep_unrouted_escalations.delay()  # and the sweep, as beat runs it: both may find it
    wait_for(lambda: Escalation.objects.get(pk=escalation.pk).status == Escalation.Status.ASSIGNED)
    wait_for(lambda: _succeeded(worker) >= 1 + redelivered)

    assert Escalation.objects.get(pk=escalation.pk).assigned_to == people["bob"]
    assert EscalationStep.objects.filter(escalation=escalation).count() == 1
    assert Notification.objects.filter(recipient=people["bob"]).count() == 1


def test_the_same_routing_task_delivered_twice_at_the_same_moment_acts_once(people, worker):
    escalation = _escalate(people["alice"], "150.00")  # delivery 1: enqueued on commit
    task_id = str(uuid.uuid4())
    with _holding_row_lock(escalation):
        route_escalation.apply_async(args=[escalation.pk], task_id=task_id)  # 2 and 3: one task, twice
        route_escalation.apply_async(args=[escalation.pk], task_id=task_id)
        worker.start(pool=("--pool=prefork", "--concurrency=2"))
        _wait_until_routing_blocks(worker, 2)  # two processes wait for the same row; released together
    wait_for(lambda: _succeeded(worker) >= 3, timeout=90)  # two prefork processes: slow on a busy machine

    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED and escalation.assigned_to == people["bob"]
    assert EscalationStep.objects.filter(escalation=escalation).count() == 1
    assert Notification.objects.filter(recipient=people["bob"]).count() == 1


@contextmanager
def _broker_dropping_packets():
    """A port where connecting hangs, as with a broker behind a firewall that drops packets: a
    listening socket whose backlog is full and never accepted, so the kernel drops new SYNs."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for sock in [*fillers, listener]:
            sock.close()


def test_submitting_while_the_broker_drops_packets_answers_and_stores_the_escalation(people, worker, monkeypatch):
    if not settings.CELERY_BROKER_URL.startswith("redis"):
        pytest.skip("the broker's timeouts under test are Redis's")
    client = APIClient()
    client.force_authenticate(people["alice"].user)
    case = case_open(employee=people["alice"], customer_name="Jo", customer_email="jo@example.com", subject="Broken")
    with _broker_dropping_packets() as unreachable:
        monkeypatch.setenv("CELERY_BROKER_URL", unreachable)
        _reset_broker_connections()
        response = client.post(
            "/api/v1/decisions/",
            {"case": case.pk, "decision_type": "refund", "amount": "150.00", "rationale": "Broken"},
            format="json",
        )
    monkeypatch.undo()
    _reset_broker_connections()
    # How long it took is measured by bench/faults.py; here: it answered, and nothing is lost.
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "escalated"
    escalation = Escalation.objects.get(pk=response.json()["escalation"]["id"])
    assert escalation.status == Escalation.Status.ROUTING  # stored, waiting for the sweep


def test_the_case_page_names_the_approver_once_a_real_worker_has_routed_it(people, celery_worker_process, client):
    client.force_login(people["alice"].user)
    case = case_open(employee=people["alice"], customer_name="Jo", customer_email="jo@example.com", subject="Broken")
    answer = client.post(
        reverse("case-detail", args=[case.pk]),
        {"decision_type": "refund", "amount": "150.00", "rationale": "Arrived broken"},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    outcome = reverse("decision-outcome", args=[case.pk, Decision.objects.get(case=case).pk])

    def polled() -> str | None:
        html = client.get(outcome, HTTP_HX_REQUEST="true").content.decode()
        return html if "Escalated to Bob" in html else None

    html = wait_for(polled)
    assert 'hx-trigger="every 2s"' not in html  # routed: the polling stops
