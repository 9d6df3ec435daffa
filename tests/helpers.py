"""Helpers the "shown exactly when accepted" tests share: try a service without keeping what it wrote,
and read a page as someone."""

from contextlib import suppress

from django.db import transaction

from empower.errors import DomainError


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
