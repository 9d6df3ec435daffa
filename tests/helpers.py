"""Helpers tests share: try a service without keeping what it wrote, read a page as someone, run
calls at the same moment, and set up a stand-in."""

import threading
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from typing import TypeVar

import pytest
from django.db import connection, transaction
from django.utils import timezone

from delegation.models import Delegation
from delegation.services import delegation_create
from empower.errors import DomainError

T = TypeVar("T")


class Undo(Exception):
    """Raised to roll back what a tried action wrote."""

    pass


def accepted(action) -> bool:
    """Whether the service accepts `action()`; nothing it wrote survives."""
    result = False
    with suppress(Undo), transaction.atomic():
        try:
            action()
        except DomainError:
            result = False
        else:
            result = True
        raise Undo
    return result


def page(client, employee, url) -> str:
    """The page as `employee` sees it ("" when they may not see it at all)."""
    client.force_login(employee.user)
    response = client.get(url)
    return response.content.decode() if response.status_code == 200 else ""


def allow_audit_rewrites() -> None:
    """Drop PostgreSQL's append-only trigger for this test (its transaction is rolled back, and the
    trigger with it): for tests that recreate an old state of the audit trail, as a migration of
    before the trigger found it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS empower_audit_append_only ON empower_auditrecord")


def at_once(calls: list[Callable[[], T]], *, timeout: float = 60) -> list[T]:
    """Run `calls` in threads released together (each with its own database connection), and return
    what each answered, in the order they finished. An error in any is raised here, never swallowed."""
    start = threading.Barrier(len(calls))
    answers: list[T] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], T]) -> None:
        try:
            start.wait()
            answers.append(call())
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]
    return answers


def postgresql_only(reason: str) -> pytest.MarkDecorator:
    """For what only PostgreSQL has (row locks, triggers, a server to restart). CI runs on PostgreSQL,
    so these run there; on the embedded SQLite default they are skipped, with the reason."""
    return pytest.mark.skipif(connection.vendor != "postgresql", reason=reason)


def stand_in(org, delegator, delegate, *, types=None, starts=None, ends=None, by=None) -> Delegation:
    """`delegate` stands in for `delegator` (for refunds unless `types`), from now for a day unless told."""
    now = timezone.now()
    return delegation_create(
        delegator=delegator,
        delegate=delegate,
        decision_types=types or [org.refund],
        starts_at=starts or now,
        ends_at=ends or now + timedelta(days=1),
        reason="Holiday",
        created_by=by,
    )
