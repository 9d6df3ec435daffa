"""Beyond one machine: two web nodes and two Celery workers on one database, broker and cache.

Nothing in the code may assume one process: caps hold when the decisions of one person arrive at
different nodes at once, an escalation submitted at either node is routed exactly once by either
worker, and the per-address throttle counts across every web process, through the shared cache.
On PostgreSQL + Redis the nodes share the Redis cache; on the embedded default (SQLite and the
filesystem broker) a file-based cache stands in for it, as all processes run on this machine.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from delegation.models import Decision, DecisionType, Escalation, EscalationStep, UsageCounter
from empower.celery import app as celery_app
from empower.models import Employee, Notification
from empower.services import case_open
from empower.tokens import api_token_issue
from tests.conftest import seed_demo
from tests.delegation.conftest import ROOT, Worker, _database_url, wait_for

pytestmark = pytest.mark.worker

SUBMISSIONS = 40
AMOUNT = Decimal("30.00")  # alice may refund 300.00 a day: exactly ten of these fit
FITS = 10
ANON_RATE = 60  # the `anon` throttle rate in settings: 60 a minute per address


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _shared_cache_url(tmp_path: Path) -> str:
    """Redis when the broker is Redis (a key prefix of this run's own); else files on this machine."""
    broker = settings.CELERY_BROKER_URL
    if broker.startswith(("redis://", "rediss://")):
        return f"{broker}{'&' if '?' in broker else '?'}key_prefix=scale-out-{uuid.uuid4().hex[:8]}"
    return f"filecache://{tmp_path / 'cache'}"


class WebNode:
    """A gunicorn node (two worker processes, threads in each) on the test database and broker."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = os.environ | {
            "DEBUG": "0",
            "SECRET_KEY": "scale-out-test-only",
            "SECURE_SSL_REDIRECT": "0",
            "SESSION_COOKIE_SECURE": "0",
            "CSRF_COOKIE_SECURE": "0",
            "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        }
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process writes to it while it lives
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--threads", "4", "--worker-class", "gthread", "--preload", "--timeout", "60",
             "--graceful-timeout", "5", "--error-logfile", "-",
             # gunicorn 27 opens a control socket at one fixed path per user: two nodes would collide.
             "--no-control-socket"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 45) -> None:
        """Until /healthz/ answers 200 (database and broker reachable from the node)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/healthz/", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"The web node did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def signal_stop(self) -> None:
        """SIGINT: gunicorn's quick shutdown (nothing is in flight when a test ends)."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def stop(self) -> None:
        self.signal_stop()
        if self.process:
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _post(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture(scope="module")
def cluster(django_db_setup, tmp_path_factory):
    """Two web nodes and two workers, started together once for this module, always stopped."""
    logs = tmp_path_factory.mktemp("scale-out")
    nodes = [WebNode(logs / f"web-{n}.log") for n in (1, 2)]
    workers = [Worker(logs / f"worker-{n}.log") for n in (1, 2)]
    with pytest.MonkeyPatch.context() as env:
        # The same database, broker and shared cache for all four processes; each would refuse a
        # per-process cache once told there are four web processes.
        env.setenv("DATABASE_URL", _database_url())
        env.setenv("CELERY_BROKER_URL", settings.CELERY_BROKER_URL)
        env.setenv("CACHE_URL", _shared_cache_url(logs))
        env.setenv("WEB_NODES", "4")
        try:
            for node in nodes:
                node.start()
            with ThreadPoolExecutor(max_workers=4) as pool:
                started = [pool.submit(w.start) for w in workers] + [pool.submit(n.wait_ready) for n in nodes]
                for future in started:
                    future.result()
            yield nodes, workers
        finally:
            # Signal all four at once, then wait for each.
            for node in nodes:
                node.signal_stop()
            for worker in workers:
                if worker.process and worker.process.poll() is None:
                    worker.process.terminate()
            for process in [*nodes, *workers]:
                process.stop()


@pytest.fixture
def scale_out(cluster, transactional_db):
    """The cluster, with this test's data committed where its processes can see it."""
    celery_app.conf.task_always_eager = False
    return cluster


def test_two_nodes_and_two_workers_hold_the_cap_and_route_each_escalation_once(scale_out):
    nodes, workers = scale_out
    seed_demo()
    people = {e.user.username: e for e in Employee.objects.select_related("user")}
    alice, bob = people["alice"], people["bob"]
    refund = DecisionType.objects.get(code="refund")
    token = api_token_issue(user=alice.user)[1]
    # One customer each, so the per-customer cap (200.00 a month) stays out of the way.
    cases = [
        case_open(employee=alice, customer_name=f"C {i}", customer_email=f"scale{i}@example.com", subject="Refund")
        for i in range(SUBMISSIONS)
    ]

    start = threading.Barrier(SUBMISSIONS)

    def submit(n: int) -> tuple[int, dict]:
        start.wait()
        body = {"case": cases[n].pk, "decision_type": "refund", "amount": str(AMOUNT), "rationale": "Late"}
        return _post(f"{nodes[n % 2].url}/api/v1/decisions/", body, token)

    with ThreadPoolExecutor(max_workers=SUBMISSIONS) as pool:
        answers = list(pool.map(submit, range(SUBMISSIONS)))

    assert [status for status, _ in answers] == [201] * SUBMISSIONS, answers
    statuses = [body["status"] for _, body in answers]
    assert statuses.count("approved") == FITS
    assert statuses.count("escalated") == SUBMISSIONS - FITS
    # Both nodes approved some: the cap held across them, not within one.
    assert {n % 2 for n, (_, body) in enumerate(answers) if body["status"] == "approved"} == {0, 1}
    assert Decision.objects.filter(status=Decision.Status.APPROVED).count() == FITS
    day = UsageCounter.objects.get(key__startswith=f"emp:{alice.pk}:dt:{refund.pk}:day:")
    month = UsageCounter.objects.get(key__startswith=f"emp:{alice.pk}:dt:{refund.pk}:month:")
    assert day.amount == month.amount == FITS * AMOUNT

    # Every escalation, submitted at either node, is assigned once by one of the two workers.
    escalations = Escalation.objects.filter(decision__made_by=alice)
    assert escalations.count() == SUBMISSIONS - FITS
    wait_for(lambda: not escalations.filter(status=Escalation.Status.ROUTING).exists(), timeout=45)
    for escalation in escalations:
        assert escalation.status == Escalation.Status.ASSIGNED
        assert escalation.assigned_to == bob
        steps = EscalationStep.objects.filter(escalation=escalation)
        assert [(s.reason, s.assigned_to_id) for s in steps] == [(EscalationStep.Reason.ROUTED, bob.pk)]
        assert Notification.objects.filter(recipient=bob, key__startswith=f"escalation:{escalation.pk}:").count() == 1
    assert Notification.objects.filter(recipient=bob).count() == SUBMISSIONS - FITS
    assert all("delegation.tasks.route_escalation" in w.log_path.read_text() for w in workers), "one worker idled"


def test_the_per_address_throttle_counts_across_every_web_process(scale_out):
    """Through the shared cache: per process, each of the four would allow its own 60."""
    nodes, _workers = scale_out
    answers = [
        _post(f"{nodes[n % 2].url}/api/v1/feedback/no-such-token/", {"csat": 5})[0] for n in range(ANON_RATE + 1)
    ]
    assert 429 not in answers[:ANON_RATE]
    assert answers[ANON_RATE] == 429
