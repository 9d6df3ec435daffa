"""The database's own refusals under concurrency: a serialization failure (SQLSTATE 40001) or a
deadlock (40P01) rolls back one transaction so the others can go on; the same work tried again a
moment later normally succeeds. Services that lock rows are wrapped in `retry_on_conflict`: a bounded
number of attempts (`DB_RETRY_ATTEMPTS`, default 3) with a short random pause, then `DatabaseBusy`,
which the API answers 503 with `Retry-After` (JSON) and the pages likewise.

Only the outermost transaction is retried: inside a caller's transaction the failure rolls that
whole transaction back, so the caller (or the request) must be the one to try again.
"""

import functools
import random
import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils.translation import gettext_lazy as _

from empower.errors import DomainError

RETRYABLE_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
RETRY_AFTER_SECONDS = 1


class DatabaseBusy(DomainError):
    status = 503
    code = "database_busy"
    retry_after = RETRY_AFTER_SECONDS


def is_retryable(error: BaseException) -> bool:
    """A serialization failure or a deadlock (PostgreSQL), or SQLite's "database is locked"."""
    if not isinstance(error, DatabaseError):
        return False
    cause = error.__cause__ or error
    if getattr(cause, "pgcode", None) in RETRYABLE_SQLSTATES:
        return True
    try:
        from psycopg2 import errors

        if isinstance(cause, errors.SerializationFailure | errors.DeadlockDetected):
            return True
    except ImportError:  # pragma: no cover
        pass
    return "database is locked" in str(error)


def busy() -> DatabaseBusy:
    return DatabaseBusy(_("The database is busy; nothing was changed. Please try again in a moment."))


def retry_on_conflict(func):
    """Run `func` (which opens its own transaction) again when the database refused it for a
    serialization failure or a deadlock, up to DB_RETRY_ATTEMPTS times; then raise `DatabaseBusy`."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        # Inside a caller's transaction (not merely a test case's wrapper): the caller must retry.
        if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
            return func(*args, **kwargs)
        attempts = max(1, getattr(settings, "DB_RETRY_ATTEMPTS", 3))
        for attempt in range(1, attempts + 1):
            try:
                return func(*args, **kwargs)
            except DatabaseError as error:
                if not is_retryable(error):
                    raise
                if attempt == attempts:
                    raise busy() from error
                time.sleep(random.uniform(0.005, 0.05) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    return wrapper
