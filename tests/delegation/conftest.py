import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from empower.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    """The test database, as a URL a separate worker process can open."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A real `celery -A empower worker` process on the configured broker and the test database."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 45, pool: tuple[str, ...] = ("--pool=solo",)) -> None:
        """Start it and wait until it is ready; `pool` e.g. ("--pool=prefork", "--concurrency=2")."""
        env = os.environ | {"DATABASE_URL": _database_url(), "CELERY_BROKER_URL": settings.CELERY_BROKER_URL}
        env.pop("CELERY_TASK_ALWAYS_EAGER", None)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the process writes to it while it lives
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "empower", "worker", *pool, "--loglevel=info",
             "--without-gossip", "--without-mingle", "-n", f"test-{uuid.uuid4().hex[:8]}@%h"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.log_path.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"The Celery worker did not start:\n{self.log_path.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: no clean shutdown, no acknowledgement."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A real worker (not yet started) that is always stopped at the end of the test.

    Tasks go through the broker instead of running in-process.
    """
    celery_app.conf.task_always_eager = False
    worker = Worker(tmp_path / "worker.log")
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker_process(worker):
    worker.start()
    return worker


def wait_for(predicate, *, timeout: float = 30, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    raise AssertionError("Timed out waiting for the worker")
