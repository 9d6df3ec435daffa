"""Fault injection: escalations are never lost and never doubled.

Against PostgreSQL and this machine's Redis it: starts a worker, submits escalations; kills the
worker (SIGKILL) and submits more; stops Redis (queued messages are lost with it) and submits
more; restarts Redis and the worker, lets the periodic sweep run, and prints how many
escalations were created, routed, lost and duplicated. Lost and duplicated must be 0.

    createdb -h 127.0.0.1 empower_faults
    DATABASE_URL=postgres://root@127.0.0.1:5432/empower_faults \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/faults.py

It stops and restarts the Redis server on 127.0.0.1:6379: never run it next to anything else
that needs Redis.
"""

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "empower.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["EMPOWER_ROUTING_GRACE_SECONDS"] = "3"  # the sweep may act quickly in this drill
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "",
    "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log",
]  # fmt: skip
PER_PHASE = 10

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import Count  # noqa: E402
from kombu import pools  # noqa: E402

from delegation.models import DecisionType, Escalation  # noqa: E402
from delegation.services import decision_submit  # noqa: E402
from delegation.tasks import sweep_unrouted_escalations  # noqa: E402
from empower.celery import app  # noqa: E402
from empower.models import Employee, Notification  # noqa: E402
from empower.services import case_open  # noqa: E402


def start_worker() -> subprocess.Popen:
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "empower", "worker", "--pool=solo", "--loglevel=warning"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(4)
    return worker


def submit(phase: str, count: int) -> tuple[list[int], float]:
    alice = Employee.objects.get(user__username="alice")
    refund = DecisionType.objects.get(code="refund")
    ids, slowest = [], 0.0
    for i in range(count):
        case = case_open(
            employee=alice, customer_name="Drill", customer_email=f"{phase}{i}@faults.example", subject=phase
        )
        began = time.monotonic()
        decision = decision_submit(
            employee=alice, case=case, decision_type=refund, amount=Decimal("150.00"), rationale="Fault drill"
        )
        slowest = max(slowest, time.monotonic() - began)
        ids.append(decision.escalation.pk)
    return ids, slowest


def reset_broker_connections() -> None:
    pools.reset()
    app._pool = None
    app.amqp._producer_pool = None


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("seed_demo", password="faults-drill", stdout=open(os.devnull, "w"))  # noqa: SIM115
    Notification.objects.all().delete()
    before = set(Escalation.objects.values_list("pk", flat=True))
    latency = {}

    worker = start_worker()
    created, latency["worker up"] = submit("normal", PER_PHASE)

    worker.send_signal(signal.SIGKILL)
    worker.wait()
    ids, latency["worker killed"] = submit("workerdown", PER_PHASE)
    created += ids

    subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False, capture_output=True)
    reset_broker_connections()
    ids, latency["redis down"] = submit("redisdown", PER_PHASE)
    created += ids

    subprocess.run(REDIS_START, check=True)
    time.sleep(1)
    reset_broker_connections()
    worker = start_worker()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if not Escalation.objects.filter(pk__in=created, status=Escalation.Status.ROUTING).exists():
            break
        sweep_unrouted_escalations.delay()  # what beat does every minute
        time.sleep(2)
    worker.terminate()
    worker.wait()

    drill = Escalation.objects.filter(pk__in=created).exclude(pk__in=before)
    routed = drill.exclude(status=Escalation.Status.ROUTING).count()
    lost = drill.filter(status=Escalation.Status.ROUTING).count()
    duplicated = drill.annotate(steps_n=Count("steps")).filter(steps_n__gt=1).count()
    notified = Notification.objects.filter(key__in=[f"escalation:{pk}:assigned:1" for pk in created]).count()
    print(f"created     {len(created)}")
    print(f"routed      {routed}")
    print(f"lost        {lost}")
    print(f"duplicated  {duplicated}")
    print(f"approvers notified once each: {notified} of {len(created)}")
    for phase, seconds in latency.items():
        print(f"slowest submission with {phase:<14} {seconds * 1000:.0f} ms")
    sys.exit(0 if lost == 0 and duplicated == 0 and routed == len(created) else 1)


if __name__ == "__main__":
    main()
