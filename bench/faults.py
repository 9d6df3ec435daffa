"""Fault injection: escalations are never lost and never doubled, and nobody is told twice.

Against PostgreSQL and a Redis server it: measures how long a submission takes while the broker
refuses connections and while it drops packets; starts a worker and submits escalations; kills
the worker (SIGKILL) and submits more; stops Redis (queued messages are lost with it) and submits
more; restarts Redis and the worker, lets the periodic sweep and e-mail re-send run, and prints
how many escalations were created, routed, lost and duplicated, and how many notifications and
e-mails went out twice. Lost and duplicated must be 0.

    createdb -h 127.0.0.1 empower_faults
    DATABASE_URL=postgres://root@127.0.0.1:5432/empower_faults \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/faults.py

It stops and restarts the Redis server on the broker URL's port: never point it at a Redis that
anything else needs. With no Redis on that port it starts a throwaway one there and stops it at
the end (e.g. CELERY_BROKER_URL=redis://127.0.0.1:6391/0 runs it beside a shared Redis).
"""

import email
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")
os.environ["EMPOWER_ROUTING_GRACE_SECONDS"] = "3"  # the sweep may act quickly in this drill
BROKER = urlparse(os.environ.get("CELERY_BROKER_URL", ""))
if BROKER.scheme != "redis":
    sys.exit("Set CELERY_BROKER_URL to a Redis URL (and DATABASE_URL to PostgreSQL): see the docstring.")
REDIS_PORT = BROKER.port or 6379
WORK_DIR = Path(tempfile.mkdtemp(prefix="empower-faults-"))
# Every e-mail the web side and the workers send lands here as a file, so duplicates can be counted.
# (django-environ drops the first slash of the path: hence four.)
os.environ["EMAIL_URL"] = f"filemail:///{WORK_DIR / 'mail'}"
os.environ.pop("EMAIL_BACKEND", None)
REDIS_START = [
    "redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", str(REDIS_PORT), "--save", "",
    "--appendonly", "no", "--dir", str(WORK_DIR), "--logfile", str(WORK_DIR / "redis.log"),
]  # fmt: skip
PER_PHASE = 10

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db.models import Count  # noqa: E402
from kombu import pools  # noqa: E402

from config.celery import app  # noqa: E402
from delegation.models import DecisionType, Escalation  # noqa: E402
from delegation.services import decision_submit  # noqa: E402
from delegation.tasks import sweep_unrouted_escalations  # noqa: E402
from empower import services as empower_services  # noqa: E402
from empower.models import Employee, Notification, OutgoingEmail  # noqa: E402
from empower.services import case_open  # noqa: E402


def redis_answers() -> bool:
    ping = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "ping"], capture_output=True, text=True, check=False)
    return ping.stdout.strip() == "PONG"


def stop_redis() -> None:
    subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "shutdown", "nosave"], check=False, capture_output=True)


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


@contextmanager
def broker_at(url: str):
    """Publish to another broker URL for a while (Celery reads CELERY_BROKER_URL when it connects)."""
    os.environ["CELERY_BROKER_URL"] = url
    reset_broker_connections()
    try:
        yield
    finally:
        os.environ["CELERY_BROKER_URL"] = BROKER.geturl()
        reset_broker_connections()


@contextmanager
def dropping_packets():
    """A port where connecting hangs, like a broker behind a firewall that drops packets: a listening
    socket whose backlog is full and never accepted, so the kernel drops new connection attempts."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = [socket.socket() for _ in range(3)]
    for filler in fillers:
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        for sock in [*fillers, listener]:
            sock.close()


def emails_sent() -> Counter:
    """(recipient, subject) → how many e-mails went out with it."""
    sent = Counter()
    for path in (WORK_DIR / "mail").glob("*.log"):
        for raw in path.read_text().split("-" * 79):
            if raw.strip():
                message = email.message_from_string(raw.strip())
                sent[(message["To"], " ".join(str(message["Subject"]).split()))] += 1
    return sent


def main() -> None:
    call_command("migrate", verbosity=0)
    call_command("seed_demo", password="faults-drill", stdout=open(os.devnull, "w"))  # noqa: SIM115
    Notification.objects.all().delete()
    OutgoingEmail.objects.all().delete()  # the drill counts only its own e-mails
    before = set(Escalation.objects.values_list("pk", flat=True))
    latency = {}
    own_redis = not redis_answers()
    if own_redis:
        subprocess.run(REDIS_START, check=True)
        time.sleep(1)

    # The broker unreachable, Redis itself untouched: the escalations wait for the sweep.
    with broker_at("redis://127.0.0.1:1/0"):
        created, latency["broker refusing"] = submit("refused", 3)
    with dropping_packets() as url, broker_at(url):
        ids, latency["broker dropping"] = submit("dropped", 3)
        created += ids

    worker = start_worker()
    ids, latency["worker up"] = submit("normal", PER_PHASE)
    created += ids

    worker.send_signal(signal.SIGKILL)
    worker.wait()
    ids, latency["worker killed"] = submit("workerdown", PER_PHASE)
    created += ids

    stop_redis()
    reset_broker_connections()
    ids, latency["redis down"] = submit("redisdown", PER_PHASE)
    created += ids

    subprocess.run(REDIS_START, check=True)
    time.sleep(1)
    reset_broker_connections()
    worker = start_worker()
    # What beat does: the sweep every minute, the e-mail re-send every two (faster in the drill).
    empower_services.EMAIL_SEND_AGAIN_AFTER = timedelta(seconds=3)
    unsent = OutgoingEmail.objects.unsent()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        routing = Escalation.objects.filter(pk__in=created, status=Escalation.Status.ROUTING)
        if not routing.exists() and not unsent.exists():
            break
        sweep_unrouted_escalations.delay()
        empower_services.emails_send_again()
        time.sleep(2)
    time.sleep(2)  # let the last deliveries finish before counting
    worker.terminate()
    worker.wait()
    if own_redis:
        stop_redis()

    drill = Escalation.objects.filter(pk__in=created).exclude(pk__in=before)
    routed = drill.exclude(status=Escalation.Status.ROUTING).count()
    lost = drill.filter(status=Escalation.Status.ROUTING).count()
    duplicated = drill.annotate(steps_n=Count("steps")).filter(steps_n__gt=1).count()
    assigned = Counter(
        key.rsplit(":", 2)[0]
        for key in Notification.objects.filter(key__contains=":assigned:").values_list("key", flat=True)
    )
    notified = sum(1 for pk in created if assigned[f"escalation:{pk}"] == 1)
    notified_twice = sum(1 for pk in created if assigned[f"escalation:{pk}"] > 1)
    sent = emails_sent()
    notifications = Notification.objects.exclude(recipient__user__email="")
    print(f"created     {len(created)}")
    print(f"routed      {routed}")
    print(f"lost        {lost}")
    print(f"duplicated  {duplicated}")
    print(f"approvers notified once each: {notified} of {len(created)} (more than once: {notified_twice})")
    print(
        f"e-mails sent {sum(sent.values())} for {notifications.count()} notifications; "
        f"unsent {unsent.count()}, sent twice {sum(1 for n in sent.values() if n > 1)}"
    )
    for phase, seconds in latency.items():
        print(f"slowest submission with {phase:<16} {seconds * 1000:.0f} ms")
    ok = lost == 0 and duplicated == 0 and routed == len(created) and notified_twice == 0
    sys.exit(0 if ok and unsent.count() == 0 and all(n == 1 for n in sent.values()) else 1)


if __name__ == "__main__":
    main()
