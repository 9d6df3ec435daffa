"""Correct under the database's own failure modes: deadlocks and serialization failures are retried a
bounded number of times, then answered 503 with Retry-After; web and workers survive a PostgreSQL
restart; daily and monthly caps bucket by the organization's local day across daylight-saving changes."""

from datetime import UTC, datetime
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
import time_machine
from django.core.signals import request_started
from django.db import OperationalError, connection, connections
from psycopg2 import errors as pg_errors

from config.celery import ConnectionKeepingWorkerFixup
from config.celery import app as celery_app
from delegation.models import Decision, UsageCounter
from delegation.selectors import usage as usage_selectors
from delegation.services import decision_submit
from empower.db_retry import DatabaseBusy
from tests.helpers import postgresql_only


def _deadlock() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = pg_errors.DeadlockDetected("deadlock detected")
    return error


def _serialization_failure() -> OperationalError:
    error = OperationalError("could not serialize access due to concurrent update")
    error.__cause__ = pg_errors.SerializationFailure("could not serialize access")
    return error


@pytest.fixture
def failing_locks(monkeypatch):
    """The counters' lock fails with the given errors, one per call, then works."""
    real = usage_selectors.locked_counters
    state = SimpleNamespace(errors=[], calls=0)

    def locked_counters(**kwargs):
        state.calls += 1
        if state.errors:
            raise state.errors.pop(0)
        return real(**kwargs)

    monkeypatch.setattr(usage_selectors, "locked_counters", locked_counters)
    return state


def _body(case, amount="40.00"):
    return {"case": case.pk, "decision_type": "refund", "amount": amount, "rationale": "Broken kettle"}


def test_a_deadlock_and_a_serialization_failure_are_retried_and_the_decision_counts_once(
    org, api, make_case, failing_locks
):
    failing_locks.errors = [_deadlock(), _serialization_failure()]
    case = make_case(org.alice)

    response = api("alice").post("/api/v1/decisions/", _body(case), format="json")

    assert response.status_code == 201, response.content
    assert failing_locks.calls == 3
    assert Decision.objects.filter(case=case).count() == 1
    day = UsageCounter.objects.get(key__startswith=f"emp:{org.alice.pk}:", key__contains=":day:")
    assert day.amount == D("40.00")


def test_after_the_bounded_retries_the_api_answers_503_with_retry_after_and_changes_nothing(
    org, api, make_case, failing_locks, settings
):
    settings.DB_RETRY_ATTEMPTS = 3
    failing_locks.errors = [_deadlock() for _ in range(5)]
    case = make_case(org.alice)

    response = api("alice").post("/api/v1/decisions/", _body(case), format="json")

    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["code"] == "database_busy" and response.json()["detail"]
    assert failing_locks.calls == 3
    assert not Decision.objects.filter(case=case).exists()


def test_the_service_raises_database_busy_after_its_attempts(org, make_case, failing_locks, settings):
    settings.DB_RETRY_ATTEMPTS = 2
    failing_locks.errors = [_serialization_failure() for _ in range(3)]
    with pytest.raises(DatabaseBusy):
        decision_submit(
            employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount=D("10.00"), rationale="x"
        )
    assert failing_locks.calls == 2


def test_other_database_errors_are_not_retried(org, make_case, failing_locks):
    failing_locks.errors = [OperationalError("disk full")]
    with pytest.raises(OperationalError):
        decision_submit(
            employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount=D("10.00"), rationale="x"
        )
    assert failing_locks.calls == 1


@pytest.mark.parametrize("htmx", [True, False])
def test_the_decision_page_answers_503_with_retry_after(org, client, make_case, failing_locks, htmx):
    failing_locks.errors = [_deadlock() for _ in range(5)]
    case = make_case(org.alice)
    client.force_login(org.alice.user)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    response = client.post(
        f"/cases/{case.pk}/", {"decision_type": "refund", "amount": "40.00", "rationale": "x"}, **headers
    )

    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert not Decision.objects.filter(case=case).exists()


# Surviving a PostgreSQL restart ------------------------------------------------------------------------

restart_is_postgresqls = postgresql_only("a server restart is PostgreSQL's")


def _terminate_our_connection() -> None:
    """What a PostgreSQL restart does to a kept connection: the server side goes away."""
    pid = connection.cursor().connection.get_backend_pid()
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()


@restart_is_postgresqls
@pytest.mark.django_db(transaction=True)
def test_the_web_survives_a_restart_of_postgresql(org, client):
    client.force_login(org.alice.user)
    assert client.get("/").status_code == 200
    _terminate_our_connection()
    # What Django runs as each request starts (the test client leaves it out): a kept connection is
    # checked before its first use in the request (CONN_HEALTH_CHECKS) and replaced when broken.
    request_started.send(sender=None)
    assert client.get("/").status_code == 200


@restart_is_postgresqls
@pytest.mark.django_db(transaction=True)
def test_a_worker_survives_a_restart_of_postgresql(org):
    fixup = ConnectionKeepingWorkerFixup(celery_app)
    task = SimpleNamespace(request=SimpleNamespace(is_eager=False))
    fixup.on_task_prerun(task)
    assert UsageCounter.objects.count() >= 0
    fixup.on_task_postrun(task, state="SUCCESS")

    _terminate_our_connection()

    fixup.on_task_prerun(task)  # the next task: Django's request cycle, health check before first use
    assert org.alice.__class__.objects.filter(pk=org.alice.pk).exists()
    fixup.on_task_postrun(task, state="SUCCESS")


# Daylight-saving changes -------------------------------------------------------------------------------

# (zone, a UTC instant, the organization's local date then). Around each zone's spring and autumn
# changes, and a month's end on the night of a change, where the UTC date and the local date differ.
MOMENTS = [
    ("Europe/Warsaw", "2026-03-28T22:30:00", "2026-03-28"),  # 23:30 CET, before the spring change
    ("Europe/Warsaw", "2026-03-28T23:30:00", "2026-03-29"),  # 00:30 CET on the day of the change
    ("Europe/Warsaw", "2026-03-29T21:30:00", "2026-03-29"),  # 23:30 CEST, the same short day
    ("Europe/Warsaw", "2026-03-31T22:30:00", "2026-04-01"),  # 00:30 CEST: a new month
    ("Europe/Warsaw", "2026-10-24T22:30:00", "2026-10-25"),  # 00:30 CEST on the day of the autumn change
    ("Europe/Warsaw", "2026-10-25T22:30:00", "2026-10-25"),  # 23:30 CET, the same long day
    ("Europe/Warsaw", "2026-10-25T23:30:00", "2026-10-26"),  # 00:30 CET the next day
    ("America/New_York", "2026-03-08T04:30:00", "2026-03-07"),  # 23:30 EST, before the spring change
    ("America/New_York", "2026-03-08T05:30:00", "2026-03-08"),  # 00:30 EST on the day of the change
    ("America/New_York", "2026-03-09T03:30:00", "2026-03-08"),  # 23:30 EDT, the same short day
    ("America/New_York", "2026-11-01T03:30:00", "2026-10-31"),  # 23:30 EDT on Oct 31: still October
    ("America/New_York", "2026-11-01T04:30:00", "2026-11-01"),  # 00:30 EDT, the day of the autumn change
    ("America/New_York", "2026-11-02T04:30:00", "2026-11-01"),  # 23:30 EST, the same long day
]


@pytest.mark.parametrize(("zone", "instant", "local_day"), MOMENTS)
def test_caps_count_in_the_organizations_local_day_and_month(org, make_case, settings, zone, instant, local_day):
    settings.TIME_ZONE = zone
    at = datetime.fromisoformat(instant).replace(tzinfo=UTC)
    case = make_case(org.alice)
    with time_machine.travel(at, tick=False):
        decision_submit(employee=org.alice, case=case, decision_type=org.refund, amount=D("40.00"), rationale="x")

    counted = set(
        UsageCounter.objects.filter(key__startswith=f"emp:{org.alice.pk}:", amount__gt=0).values_list("key", flat=True)
    )
    assert counted == {
        f"emp:{org.alice.pk}:dt:{org.refund.pk}:day:{local_day}",
        f"emp:{org.alice.pk}:dt:{org.refund.pk}:month:{local_day[:7]}",
    }


@pytest.mark.parametrize(
    ("zone", "first", "second"),
    [
        ("Europe/Warsaw", "2026-03-28T22:30:00", "2026-03-28T23:30:00"),  # one UTC day, two local days
        ("America/New_York", "2026-11-01T03:30:00", "2026-11-01T04:30:00"),  # one UTC day, two local months
    ],
)
def test_the_daily_cap_starts_again_at_local_midnight(org, make_case, settings, zone, first, second):
    settings.TIME_ZONE = zone
    # alice may decide 300.00 a day: 250.00 before local midnight leaves 250.00 possible after it.
    with time_machine.travel(datetime.fromisoformat(first).replace(tzinfo=UTC), tick=False):
        for _ in range(3):
            decision_submit(
                employee=org.alice,
                case=make_case(org.alice),
                decision_type=org.refund,
                amount=D("90.00"),
                rationale="x",
            )
    with time_machine.travel(datetime.fromisoformat(second).replace(tzinfo=UTC), tick=False):
        later = decision_submit(
            employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount=D("90.00"), rationale="x"
        )
    assert later.status == Decision.Status.APPROVED and later.within_authority


@restart_is_postgresqls
@pytest.mark.django_db(transaction=True)
def test_concurrent_decisions_of_one_person_all_succeed_and_count_exactly(org):
    """Eight connections deciding for one person at once, each for its own customer: every decision is
    taken and counted exactly; a deadlock victim (seen in load runs) is tried again, not answered 500."""
    import threading

    from empower.services import case_open

    cases = [
        case_open(employee=org.dan, customer_name="C", customer_email=f"c{n}@example.com", subject="s")
        for n in range(8)
    ]
    errors: list[Exception] = []
    barrier = threading.Barrier(len(cases))

    def decide(case) -> None:
        try:
            barrier.wait()
            for _ in range(5):
                decision_submit(employee=org.dan, case=case, decision_type=org.refund, amount=D("1.00"), rationale="x")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(case,)) for case in cases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Decision.objects.filter(made_by=org.dan, status=Decision.Status.APPROVED).count() == 40
    day = UsageCounter.objects.get(key__startswith=f"emp:{org.dan.pk}:dt:{org.refund.pk}:day:")
    assert day.amount == D("40.00")
