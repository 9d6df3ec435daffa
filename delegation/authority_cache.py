"""The version of cached authority data (decision types, limits, and who stands in for whom).

Decision types, limits and stand-in duties (delegations) are read on every decision and change
rarely, so the decision path keeps them in the cache (`delegation.selectors.usage`) under a
version: a random token in the shared cache (CACHES), replaced once any transaction that changed
them commits. A change is never served stale: every process reads the version first, and the
transaction that made the change reads the database until it commits (it never caches what it has
not committed).
The limits and catalogue services call `authority_data_changed`; so do these models' signals, for
every other path (admin forms, seed commands, tests). `QuerySet.update()` and `bulk_create()` send
no signal: whoever changes these tables that way calls `authority_data_changed` themselves.
"""

import logging
from uuid import uuid4

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save

from delegation.models import AuthorityLimit, DecisionType, Delegation


def _version_key() -> str:
    # One version per database: the test database and the development one never share cached data.
    return f"authority-data:{connection.settings_dict['NAME']}:version"


def _new_authority_data_version(**kwargs) -> None:
    cache.set(_version_key(), uuid4().hex, timeout=None)


def authority_data_changed_here() -> bool:
    """Whether the transaction in progress changed decision types or limits (and so must read them
    from the database, not the cache)."""
    return connection.in_atomic_block and any(
        callback is _new_authority_data_version for _sids, callback, _robust in connection.run_on_commit
    )


def authority_data_changed(**kwargs) -> None:
    """Call in the transaction that changes a decision type or a limit: once it commits, cached
    ones are no longer used anywhere; until then this transaction reads them from the database."""
    if not authority_data_changed_here():
        transaction.on_commit(_new_authority_data_version, robust=True)


def authority_data_version() -> str | None:
    """The version cached decision types and limits are kept under now; None where they must be read
    from the database: in a transaction that changed them."""
    if authority_data_changed_here():
        return None
    key = _version_key()
    version = cache.get(key)
    if version is None:  # never set, or evicted: start a new one (a concurrent first one wins)
        cache.add(key, uuid4().hex, timeout=None)
        version = cache.get(key)
    return version


def _migrated(**kwargs) -> None:
    # A migrated (or flushed) database may hold other rows under the same name. A cache that is
    # down must not stop a migration: its entries (an hour at most) are then the only risk.
    try:
        _new_authority_data_version()
    except Exception:
        logging.getLogger(__name__).warning("Cache unavailable: authority data version not renewed.", exc_info=True)


def connect_signals() -> None:
    """Every save or delete of a decision type, a limit or a delegation (and of a delegation's types),
    and every migration, renews the version
    (called once, from the app's `ready`)."""
    for model in (DecisionType, AuthorityLimit, Delegation):
        post_save.connect(authority_data_changed, sender=model, dispatch_uid=f"authority-data-saved-{model.__name__}")
        post_delete.connect(
            authority_data_changed, sender=model, dispatch_uid=f"authority-data-deleted-{model.__name__}"
        )
    m2m_changed.connect(
        authority_data_changed, sender=Delegation.decision_types.through, dispatch_uid="authority-data-delegation-types"
    )
    post_migrate.connect(_migrated, dispatch_uid="authority-data-migrated")
