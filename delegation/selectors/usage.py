"""Limits and usage: counter keys, usage read from counters, each person's own limits, and the one
loader of both (`authority_snapshots`)."""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.core.cache import cache
from django.db import connection
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    F,
    Q,
)
from django.utils import timezone

from delegation.authority import NO_AUTHORITY, ZERO, Limits, Usage, exceeded_limits
from delegation.authority_cache import authority_data_version
from delegation.models import AuthorityLimit, DecisionType, Delegation, UsageCounter
from empower.models import Employee

logger = logging.getLogger(__name__)


def active_decision_types() -> list[DecisionType]:
    return list(DecisionType.objects.filter(is_active=True).order_by("code"))


# --- cached decision types and limits ------------------------------------------------------------
#
# The decision path reads these from the cache, under the version `delegation.authority_cache` replaces on
# every change (so never stale after one); everything else reads the database.

CACHE_SECONDS = 3600  # entries of an old version are never read again; this only frees the space
LOCAL_ENTRIES = 20_000  # a process's own copy holds at most this many entries (then starts again)

# This process's copy of what it read at one version: (version, {key: value}), replaced as a whole (one
# assignment, so a thread never pairs a version with another version's values). A decision then asks
# the shared cache for the version only (a few bytes), instead of unpickling the catalogue and the
# limits (model instances) from it every time.
_local: tuple[str | None, dict] = (None, {})


def _cached_many(keys: list[str], load: Callable[[list[str]], dict]) -> dict:
    """{key: value} for `keys` at the current version: from this process's copy, else the shared
    cache, else `load(missing keys)` (kept in both); straight from the database where the version says
    so (a transaction that changed them) or the cache cannot be reached."""
    global _local
    try:
        version = authority_data_version()
    except Exception:  # an unreachable cache slows the decision down; it never refuses it
        logger.warning("Cache unavailable: reading authority data from the database.", exc_info=True)
        version = None
    if version is None:
        return load(keys)
    local_version, local = _local
    if local_version != version or len(local) > LOCAL_ENTRIES:
        local = {}
        _local = (version, local)
    found = {key: local[key] for key in keys if key in local}
    wanted = [key for key in keys if key not in found]
    if not wanted:
        return found
    versioned = {f"authority-data:{version}:{key}": key for key in wanted}
    try:
        shared = {versioned[k]: value for k, value in cache.get_many(list(versioned)).items()}
    except Exception:
        shared = {}
    missing = [key for key in wanted if key not in shared]
    if missing:
        loaded = load(missing)
        shared |= loaded
        try:
            cache.set_many({f"authority-data:{version}:{key}": value for key, value in loaded.items()}, CACHE_SECONDS)
        except Exception:
            logger.warning("Cache unavailable: authority data not kept.", exc_info=True)
    local.update(shared)
    return found | shared


@dataclass(frozen=True)
class Catalogue:
    """Every decision type (by code) and every role's limits (by role id and decision type id)."""

    types: dict[str, DecisionType]
    role_limits: dict[tuple[int, int], AuthorityLimit]


def _load_catalogue(_keys) -> dict:
    types = {t.code: t for t in DecisionType.objects.all()}
    role_limits = {
        (row.role_id, row.decision_type_id): row for row in AuthorityLimit.objects.filter(role__isnull=False)
    }
    return {"catalogue": Catalogue(types=types, role_limits=role_limits)}


def cached_catalogue() -> Catalogue:
    """Decision types and role limits, from the cache (two queries when it has not got them)."""
    return _cached_many(["catalogue"], _load_catalogue)["catalogue"]


def active_decision_type(code: str) -> DecisionType | None:
    """The active decision type of that code (None if unknown or out of use), from the cache."""
    decision_type = cached_catalogue().types.get(code)
    return decision_type if decision_type is not None and decision_type.is_active else None


def cached_personal_limits(*, employee_ids: list[int], at: datetime) -> dict[int, list[AuthorityLimit]]:
    """Each employee's personal limits that have not ended at `at` (standing and temporary, every
    type), from the cache: one query for those it has not got."""

    def load(keys: list[str]) -> dict:
        ids = [int(key.removeprefix("personal:")) for key in keys]
        rows: dict[int, list[AuthorityLimit]] = {pk: [] for pk in ids}
        for row in AuthorityLimit.objects.filter(employee_id__in=ids).filter(
            Q(ends_at__isnull=True) | Q(ends_at__gt=at)
        ):
            rows[row.employee_id].append(row)
        return {f"personal:{pk}": rows[pk] for pk in ids}

    found = _cached_many([f"personal:{pk}" for pk in employee_ids], load)
    return {pk: found[f"personal:{pk}"] for pk in employee_ids}


def cached_duties(*, employee_id: int, at: datetime) -> list[tuple[Delegation, frozenset[int]]]:
    """The delegations `employee_id` stands in for that have not ended at `at` (running and
    scheduled), each with its decision type ids, from the cache: the decision path asks it every time,
    and nearly always hears "none". Whether each runs at a given moment is for the caller to check
    (`Delegation.is_active_at`); the delegations carry no related rows (the delegator is loaded apart)."""

    def load(keys: list[str]) -> dict:
        ids = [int(key.removeprefix("duties:")) for key in keys]
        rows: dict[int, list] = {pk: [] for pk in ids}
        unfinished = (
            Delegation.objects.filter(delegate_id__in=ids, ends_at__gt=at)
            .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
            .prefetch_related("decision_types")
        )
        for delegation in unfinished:
            types = frozenset(t.pk for t in delegation.decision_types.all())
            delegation._prefetched_objects_cache = {}  # kept small: the ids are what is read
            rows[delegation.delegate_id].append((delegation, types))
        return {f"duties:{pk}": rows[pk] for pk in ids}

    return _cached_many([f"duties:{employee_id}"], load)[f"duties:{employee_id}"]


@dataclass(frozen=True)
class CounterKeys:
    """The usage counters one approval moves: the holder's day and month, the customer's month."""

    day: str
    month: str
    customer_month: str | None

    def all(self) -> list[str]:
        return [k for k in (self.day, self.month, self.customer_month) if k]


def counter_keys(*, holder_id: int, decision_type_id: int, customer_id: int | None, at: datetime) -> CounterKeys:
    # Caps count in the organization's time zone (settings.TIME_ZONE).
    day = timezone.localdate(at)
    return CounterKeys(
        day=f"emp:{holder_id}:dt:{decision_type_id}:day:{day.isoformat()}",
        month=f"emp:{holder_id}:dt:{decision_type_id}:month:{day:%Y-%m}",
        customer_month=f"cust:{customer_id}:dt:{decision_type_id}:month:{day:%Y-%m}" if customer_id else None,
    )


def usage_from(amounts: dict[str, Decimal], keys: CounterKeys) -> Usage:
    return Usage(
        today=amounts.get(keys.day, ZERO),
        this_month=amounts.get(keys.month, ZERO),
        customer_this_month=amounts.get(keys.customer_month, ZERO) if keys.customer_month else ZERO,
    )


def counter_amounts(*, keys: list[str]) -> dict[str, Decimal]:
    return dict(UsageCounter.objects.filter(key__in=keys).values_list("key", "amount"))


def locked_counters(
    *, keys: list[str], adding: Decimal = ZERO, added_to: Iterable[str] = ()
) -> dict[str, UsageCounter]:
    """The counters of `keys`, created where missing and row-locked until the transaction ends, in one
    statement: an upsert whose update locks an existing row as `SELECT … FOR UPDATE` would, and
    returns the amount committed last plus `adding` on the keys `added_to` (none by default). Rows
    are taken in key order (the lock order)."""
    keys = sorted(set(keys))
    if not keys:
        return {}
    added_to = set(added_to)
    quote = connection.ops.quote_name
    table, key, amount = quote(UsageCounter._meta.db_table), quote("key"), quote("amount")
    rows = ", ".join(["(%s, %s)"] * len(keys))
    # Only names from the model go into the text; the keys and amounts are parameters.
    sql = (
        f"INSERT INTO {table} ({key}, {amount}) VALUES {rows} "  # noqa: S608
        f"ON CONFLICT ({key}) DO UPDATE SET {amount} = {table}.{amount} + EXCLUDED.{amount} "
        f"RETURNING id, {key}, {amount}"
    )
    params = [value for k in keys for value in (k, adding if k in added_to else ZERO)]
    return {c.key: c for c in UsageCounter.objects.raw(sql, params)}


def own_limits(
    *,
    employees: list[Employee],
    decision_type_ids: list[int],
    at: datetime | None = None,
    cached: bool = False,
) -> dict[tuple[int, int], Limits]:
    """Each employee's own limits per decision type, in two queries whatever the organization's size
    (none with `cached=True` once the cache has them: see `cached_catalogue`).

    A personal limit replaces the role's for its type; a temporary personal limit, while it runs,
    replaces the standing one. No limit row at all means no authority for that type.
    """
    at = at or timezone.now()
    if cached:
        by_role = cached_catalogue().role_limits
        wanted = set(decision_type_ids)
        rows = [
            row
            for per_employee in cached_personal_limits(employee_ids=[e.pk for e in employees], at=at).values()
            for row in per_employee
            if row.decision_type_id in wanted and row.is_active_at(at)
        ]
        personal_rows = sorted(rows, key=_precedence)
    else:
        role_rows = AuthorityLimit.objects.filter(
            role_id__in={e.role_id for e in employees}, decision_type_id__in=decision_type_ids
        )
        by_role = {(row.role_id, row.decision_type_id): row for row in role_rows}
        # Standing limits first, then temporary ones (those with an end) by start: the last one wins.
        personal_rows = (
            AuthorityLimit.objects.filter(employee__in=employees, decision_type_id__in=decision_type_ids)
            .active_at(at)
            .order_by(_is_window(), F("starts_at").asc(nulls_first=True), "id")
        )
    by_employee = {(row.employee_id, row.decision_type_id): row for row in personal_rows}
    result = {}
    for employee in employees:
        for type_id in decision_type_ids:
            if row := by_employee.get((employee.pk, type_id)):
                result[(employee.pk, type_id)] = limits_of_row(row, "personal")
            elif row := by_role.get((employee.role_id, type_id)):
                result[(employee.pk, type_id)] = limits_of_row(row, "role")
            else:
                result[(employee.pk, type_id)] = NO_AUTHORITY
    return result


def _precedence(row: AuthorityLimit) -> tuple:
    """The database's order of personal rows (below), in memory: standing first, then windows by start."""
    return (row.ends_at is not None, row.starts_at is not None, row.starts_at or datetime.min, row.id)


def _is_window() -> ExpressionWrapper:
    return ExpressionWrapper(Q(ends_at__isnull=False), output_field=BooleanField())


def running_windows(
    *, employee_ids: list[int], decision_type_ids: list[int], at: datetime | None = None
) -> dict[tuple[int, int], AuthorityLimit]:
    """(employee id, decision type id) → the temporary limit running at `at` (the one that applies), in one query."""
    at = at or timezone.now()
    rows = (
        AuthorityLimit.objects.filter(
            employee_id__in=employee_ids, decision_type_id__in=decision_type_ids, ends_at__isnull=False
        )
        .active_at(at)
        .order_by(F("starts_at").asc(nulls_first=True), "id")
    )
    return {(row.employee_id, row.decision_type_id): row for row in rows}


def limits_of_row(row: AuthorityLimit, source: str) -> Limits:
    return Limits(row.per_decision, row.per_day, row.per_month, row.per_customer_month, source=source)


@dataclass(frozen=True)
class AuthoritySnapshot:
    """One person's own limits for one decision type and what they have used of them at a moment
    (with one customer's use of the type this month, where a customer was asked for)."""

    employee: Employee
    decision_type_id: int
    customer_id: int | None
    limits: Limits
    usage: Usage
    keys: CounterKeys
    # The counter rows, locked, when loaded with `lock=True` (empty otherwise): what approving moves.
    counters: dict[str, UsageCounter] = field(default_factory=dict, compare=False)
    # What its counters already hold beyond `usage`: an amount counted on them tentatively (`tentative`).
    counted: Decimal = ZERO

    def exceeded(self, amount: Decimal) -> list[str]:
        """The limits `amount` would break (the pure check); empty when it is within authority."""
        return exceeded_limits(self.limits, self.usage, amount)

    def covers(self, amount: Decimal) -> bool:
        return not self.exceeded(amount)

    def as_record(self) -> dict:
        """What a decision keeps of the limits and use that judged (or approved) it."""
        return self.limits.as_dict() | {
            "used_today": f"{self.usage.today:.2f}",
            "used_this_month": f"{self.usage.this_month:.2f}",
            "customer_used_this_month": f"{self.usage.customer_this_month:.2f}",
        }


SnapshotKey = tuple[int, int, int | None]  # (employee id, decision type id, customer id or None)


def authority_snapshots(
    *,
    wanted: Iterable[tuple[Employee, int, int | None]],
    at: datetime | None = None,
    lock: bool = False,
    cached: bool = False,
    tentative: Decimal | None = None,
) -> dict[SnapshotKey, AuthoritySnapshot]:
    """The one loader of "limits and usage of these people": for each (employee, decision type id,
    customer id or None) in `wanted`, their own limits at `at` and their use of them, keyed by
    (employee id, decision type id, customer id).

    Three queries whatever the number of people and types (two for the limits, one for the
    counters); with `lock=True` the counter rows are created where missing and locked, in the same
    one statement, for a caller that will move them in its transaction; with `cached=True` the
    limits come from the cache (`own_limits`), as the decision path reads them. With `lock=True` and
    `tentative`, that amount is also counted on the first wanted's counters in the same statement:
    the decision path's bet that its maker's own authority covers it, which spares it a statement
    when it does (`delegation.services.common.settle_usage` moves the amount where it does not).
    The snapshots' `usage` is what was used before it either way.

    Lock order, the same on every path so no two transactions deadlock: first the rows that
    serialize one person's work (the employee row: limit changes, delegation set-ups), then a
    delegation or escalation row, then authority limit rows, and last the usage counters, here,
    always in key order.
    """
    at = at or timezone.now()
    wanted = list(dict.fromkeys((e, type_id, customer_id) for e, type_id, customer_id in wanted))
    if not wanted:
        return {}
    employees = list({e.pk: e for e, _type_id, _customer_id in wanted}.values())
    keys = {
        (e.pk, type_id, customer_id): counter_keys(
            holder_id=e.pk, decision_type_id=type_id, customer_id=customer_id, at=at
        )
        for e, type_id, customer_id in wanted
    }
    all_keys = sorted({k for ck in keys.values() for k in ck.all()})
    counters: dict[str, UsageCounter] = {}
    first = (wanted[0][0].pk, wanted[0][1], wanted[0][2])
    counted_keys = keys[first].all() if lock and tentative else []
    if lock:
        counters = locked_counters(keys=all_keys, adding=tentative or ZERO, added_to=counted_keys)
        amounts = {key: c.amount - (tentative if key in counted_keys else ZERO) for key, c in counters.items()}
    else:
        amounts = counter_amounts(keys=all_keys)
    type_ids = sorted({t for _e, t, _c in wanted})
    limits = own_limits(employees=employees, decision_type_ids=type_ids, at=at, cached=cached)
    result = {}
    for employee, type_id, customer_id in wanted:
        key = (employee.pk, type_id, customer_id)
        result[key] = AuthoritySnapshot(
            employee=employee,
            decision_type_id=type_id,
            customer_id=customer_id,
            limits=limits[(employee.pk, type_id)],
            usage=usage_from(amounts, keys[key]),
            keys=keys[key],
            counters={k: counters[k] for k in keys[key].all()} if lock else {},
            counted=tentative if key == first and counted_keys else ZERO,
        )
    return result


def authority_snapshot(
    *,
    employee: Employee,
    decision_type_id: int,
    customer_id: int | None,
    at: datetime | None = None,
    lock: bool = False,
) -> AuthoritySnapshot:
    """`authority_snapshots` for one person, one type (and one customer)."""
    wanted = [(employee, decision_type_id, customer_id)]
    return authority_snapshots(wanted=wanted, at=at, lock=lock)[(employee.pk, decision_type_id, customer_id)]
