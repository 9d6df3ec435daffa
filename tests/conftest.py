"""Shared fixtures: the contract's demo organization, named actors, cases and API clients.

The demo organization is built once, when the test database is created; each test then runs in a
transaction of its own that is rolled back, so it finds the organization as seeded.
"""

import os
import smtplib
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation
from rest_framework.test import APIClient

from config.celery import app as celery_app
from delegation.models import DecisionType
from empower import services as empower_services
from empower.models import Employee
from empower.services import case_open

# live_server runs in a thread next to Playwright's event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "demo-pass-123"
PEOPLE = ("alice", "erin", "frank", "bob", "gina", "hank", "carol", "dan")


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed_demo() -> None:
    with override_settings(PASSWORD_HASHERS=FAST_HASHERS):
        call_command("seed_demo", password=PASSWORD, stdout=open(os.devnull, "w"))  # noqa: SIM115


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, with the demo organization in it (committed, once per session)."""
    with django_db_blocker.unblock():
        seed_demo()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: a rolled-back test leaves no cached limits (or throttle
    counts) behind for ids the database hands out again."""
    cache.clear()


@pytest.fixture(autouse=True)
def site_language():
    """Each test starts in the site's language: a request in another language leaves that language
    active in the thread (Django activates one per request and never deactivates it)."""
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks run in-process unless a test starts a real worker."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def org(db):
    """The demo organization; attributes are the employees (org.alice, org.bob, …) and types.

    Seeded once for the session (`django_db_setup`); a test that committed and flushed the tables
    (`transactional_db`, `live_server`) leaves it empty, so it is seeded again when missing.
    """
    people = {e.user.username: e for e in Employee.objects.select_related("user", "role", "team", "parent")}
    if not set(PEOPLE) <= set(people):
        seed_demo()
        people = {e.user.username: e for e in Employee.objects.select_related("user", "role", "team", "parent")}
    types = {t.code: t for t in DecisionType.objects.all()}
    return SimpleNamespace(**people, types=types, refund=types["refund"], goodwill=types["goodwill_credit"])


@pytest.fixture
def make_case(org):
    counter = iter(range(1, 10_000))

    def make(employee: Employee | None = None, *, email: str | None = None, subject: str = "Broken kettle"):
        n = next(counter)
        return case_open(
            employee=employee or org.alice,
            customer_name=f"Jo Customer{n}",
            customer_email=email or f"jo{n}@example.com",
            subject=subject,
        )

    return make


@pytest.fixture
def api(org):
    """`api("alice")` is an API client authenticated as alice with a token."""

    def client_for(username: str | None = None) -> APIClient:
        client = APIClient()
        if username:
            response = client.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
            assert response.status_code == 200, response.content
            client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
        return client

    return client_for


@pytest.fixture
def smtp(monkeypatch):
    """The mail server the outbox sends through: `smtp.down = True` refuses every message."""

    class Server:
        down = False
        calls = 0

    server = Server()
    real_send = empower_services.send_mail

    def send_mail(**kwargs):
        server.calls += 1
        if server.down:
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(**kwargs)

    monkeypatch.setattr(empower_services, "send_mail", send_mail)
    return server
