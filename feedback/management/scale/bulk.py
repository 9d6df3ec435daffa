"""Bulk loading for `seed_scale`: rows written in batches, ids taken from the database's own sequence,
and a one-line progress bar.

On PostgreSQL a batch is one `COPY … FROM STDIN` (several times faster than `bulk_create`'s
multi-row INSERT, measured on a million decisions); elsewhere (SQLite) one `executemany` INSERT.
Rows are written as given: no `save()`, no signals, no `auto_now` overriding the history's dates.
"""

import io
import json
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

from django.db import connection, models

BATCH_SIZE = 10_000
# COPY's text format: a backslash, a tab or a line break inside a value is escaped.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


class IdPool:
    """Ids for rows about to be written, so that children can point at them before they exist.

    PostgreSQL hands them out of the table's own sequence (so later inserts by the app never
    collide); SQLite's AUTOINCREMENT follows the largest id written, so counting on from the
    current maximum is enough there.
    """

    def __init__(self, model: type[models.Model]):
        self.table = model._meta.db_table
        self.pk_column = model._meta.pk.column
        self._next: int | None = None

    def take(self, n: int) -> list[int]:
        if n <= 0:
            return []
        with connection.cursor() as cursor:
            if is_postgresql():
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [self.table, self.pk_column, n],
                )
                return [row[0] for row in cursor.fetchall()]
            if self._next is None:
                table, column = connection.ops.quote_name(self.table), connection.ops.quote_name(self.pk_column)
                cursor.execute(f"SELECT COALESCE(MAX({column}), 0) FROM {table}")  # noqa: S608 (names from _meta)
                self._next = cursor.fetchone()[0] + 1
        first, self._next = self._next, self._next + n
        return list(range(first, first + n))


class Writer:
    """Rows for one table (tuples in the order of `fields`, foreign keys as ids), written every
    `batch_size` rows and on `flush()`."""

    def __init__(self, model: type[models.Model], fields: list[str], *, batch_size: int = BATCH_SIZE):
        meta = model._meta
        self.model = model
        self.table = meta.db_table
        self.fields = [meta.get_field(name) for name in fields]
        self.columns = [f.column for f in self.fields]
        self.batch_size = batch_size
        self.rows: list[tuple] = []
        self.written = 0
        self._json = [isinstance(f, models.JSONField) for f in self.fields]
        self._before: list[Writer] = []

    def after(self, *parents: "Writer") -> "Writer":
        """Flush `parents` before this table, so every foreign key points at a row already written
        (PostgreSQL checks them at each statement: see `immediate_constraints`)."""
        self._before.extend(parents)
        return self

    def add(self, row: tuple) -> None:
        self.rows.append(row)
        if len(self.rows) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        for parent in self._before:
            parent.flush()
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        if is_postgresql():
            self._copy(rows)
        else:
            self._insert(rows)
        self.written += len(rows)

    def _copy(self, rows: list[tuple]) -> None:
        buffer = io.StringIO()
        write = buffer.write
        json_at = [i for i, is_json in enumerate(self._json) if is_json]
        for row in rows:
            if json_at:
                row = list(row)
                for i in json_at:
                    row[i] = json.dumps(row[i])
            write("\t".join(_copy_text(value) for value in row))
            write("\n")
        buffer.seek(0)
        columns = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        with connection.cursor() as cursor:
            cursor.copy_expert(f"COPY {connection.ops.quote_name(self.table)} ({columns}) FROM STDIN", buffer)

    def _insert(self, rows: list[tuple]) -> None:
        ops = connection.ops
        convert = [_sqlite_value(is_json) for is_json in self._json]
        values = [tuple(c(v) for c, v in zip(convert, row, strict=True)) for row in rows]
        columns = ", ".join(ops.quote_name(c) for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {ops.quote_name(self.table)} ({columns}) VALUES ({marks})", values)  # noqa: S608


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _sqlite_value(is_json: bool):
    if is_json:
        return lambda v: None if v is None else json.dumps(v)

    def convert(value):
        if isinstance(value, datetime):  # stored as naive UTC text, as Django writes it
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, Decimal):
            return str(value)
        return value

    return convert


def immediate_constraints() -> None:
    """Check foreign keys at the end of each COPY rather than at commit: a million deferred checks
    would queue up in the server's memory for the whole transaction."""
    if is_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def analyze() -> None:
    """VACUUM ANALYZE once the seed has committed: fresh statistics for the planner, and a visibility
    map, without which PostgreSQL can use no index-only scan (e.g. counting a director's cases)."""
    if is_postgresql():
        with connection.cursor() as cursor:
            # VACUUM cannot run in a transaction: inside a caller's (e.g. a test's), statistics only.
            cursor.execute("ANALYZE" if connection.in_atomic_block else "VACUUM ANALYZE")


class Progress:
    """`label [#####.....]  52%  520000/1000000  12.3 s` on one line of a terminal stream."""

    WIDTH = 30

    def __init__(self, label: str, total: int, *, stream=None, enabled: bool = True, note=None):
        self.label, self.total = label, max(total, 1)
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()  # redraws on a terminal only
        self.note = note  # a callable adding e.g. "cases 12000" to the line
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if self.live and now - self._drawn >= 0.25:
            self._drawn = now
            self._draw(now)

    def finish(self) -> float:
        elapsed = time.monotonic() - self.started
        self._draw(time.monotonic(), final=True)
        return elapsed

    def _draw(self, now: float, final: bool = False) -> None:
        if not self.enabled:
            return
        share = 1.0 if final else min(self.done / self.total, 1.0)
        filled = int(share * self.WIDTH)
        bar = "#" * filled + "." * (self.WIDTH - filled)
        extra = f"  {self.note()}" if self.note else ""
        count = f"{int(self.done)}/{self.total}"
        line = f"\r{self.label:<10} [{bar}] {share:4.0%}  {count}  {now - self.started:6.1f} s{extra}"
        self.stream.write(line + ("\n" if final else ""))
        self.stream.flush()
