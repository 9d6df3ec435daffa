"""The audit trail's hash chain: every record carries SHA-256(previous hash + its own content).

Writing a record and moving the chain's head is one SQL statement (no extra round trip on any path):
on PostgreSQL a data-modifying CTE updates the single head row (`AuditChainHead`), which takes its
row lock, and inserts the record with the new hash computed by the database from the head's last
hash; concurrent writers queue on that row until the first commits, so the chain never forks and a
rolled-back transaction leaves no gap. The cost: transactions that audit are serialized from their
audit write to their commit (services write the audit record last, after their row locks). On
SQLite, whose transactions already take the database's write lock when they start, the INSERT reads
the head and a trigger moves it; SHA-256 comes from a function registered on each connection.

On PostgreSQL a trigger refuses UPDATE and DELETE of audit records (migration
`empower.0010_audit_chain`); `python manage.py verify_audit` walks the chain (`audit_chain_verify`).
"""

import hashlib
from dataclasses import dataclass

from django.db import connection
from django.db.backends.signals import connection_created

from empower.models import AuditChainHead, AuditRecord
from empower.prepared import Prepared

HEAD_ID = 1
_FIELDS = [f for f in AuditRecord._meta.concrete_fields if f.name not in ("id", "chain_seq", "hash")]


def chain_hash(previous: str, payload: str) -> str:
    return hashlib.sha256((previous + payload).encode()).hexdigest()


def _sqlite_sha256(text: str | None) -> str | None:
    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def register_sqlite_function(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("empower_sha256", 1, _sqlite_sha256, deterministic=True)


def connect_signals() -> None:
    connection_created.connect(register_sqlite_function, dispatch_uid="empower-audit-chain-sqlite")


def _cast_type(field) -> str:
    # varchar(n) without its length: an explicit cast would cut a long value silently; the column refuses it.
    db_type = field.db_type(connection)
    return "varchar" if db_type.startswith("varchar") else db_type


def _compose_insert() -> str:
    table = connection.ops.quote_name(AuditRecord._meta.db_table)
    head = connection.ops.quote_name(AuditChainHead._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in _FIELDS)
    # Identifiers come from the model, values are parameters (`noqa: S608` below). In a SELECT list
    # PostgreSQL types a parameter as text: each is cast to its column's type.
    if connection.vendor == "postgresql":
        marks = ", ".join(f"CAST(%s AS {_cast_type(f)})" for f in _FIELDS)
        return (
            f"WITH head AS (UPDATE {head} SET seq = seq + 1, "  # noqa: S608
            f"last_hash = encode(sha256(convert_to(last_hash || %s, 'UTF8')), 'hex') WHERE id = {HEAD_ID} "
            f"RETURNING seq, last_hash) "
            f"INSERT INTO {table} ({columns}, chain_seq, hash) SELECT {marks}, head.seq, head.last_hash FROM head "
            f"RETURNING id, chain_seq, hash"
        )
    marks = ", ".join(["%s"] * len(_FIELDS))
    return (
        f"INSERT INTO {table} ({columns}, chain_seq, hash) "  # noqa: S608
        f"SELECT {marks}, h.seq + 1, empower_sha256(h.last_hash || %s) FROM {head} h WHERE h.id = {HEAD_ID} "
        f"RETURNING id, chain_seq, hash"
    )


# Every audited change writes one: composed once, and planned once per PostgreSQL session.
_INSERT = Prepared(_compose_insert)


def audit_record_insert(record: AuditRecord) -> AuditRecord:
    """Insert `record` (unsaved) at the end of the chain, in one statement; sets its pk, place and hash."""
    values = [f.get_db_prep_save(f.pre_save(record, add=True), connection) for f in _FIELDS]
    payload = record.chain_payload()
    params = [payload, *values] if connection.vendor == "postgresql" else [*values, payload]
    with connection.cursor() as cursor:
        _INSERT.execute(cursor, params)
        row = cursor.fetchone()
    if row is None:  # no head row: the migration creates it; a flushed test database may have lost it
        AuditChainHead.objects.get_or_create(pk=HEAD_ID)
        return audit_record_insert(record)
    record.pk, record.chain_seq, record.hash = row
    record._state.adding = False
    record._state.db = connection.alias
    return record


@dataclass
class ChainReport:
    checked: int
    first_bad: AuditRecord | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None and not self.problem


def audit_chain_verify(*, batch: int = 2000) -> ChainReport:
    """Walk the chain in order and name the first record that does not match: content changed (its
    hash is not SHA-256 of the previous hash and its content), a record missing before it (a gap in
    the places), or records outside the chain. The head must name the last record."""
    previous, expected_seq, checked = "", 1, 0
    records = AuditRecord.objects.filter(chain_seq__isnull=False).order_by("chain_seq")
    for record in records.iterator(chunk_size=batch):
        if record.chain_seq != expected_seq:
            return ChainReport(checked, record, f"records before it are missing (place {expected_seq} expected)")
        if record.hash != chain_hash(previous, record.chain_payload()):
            return ChainReport(checked, record, "its content or hash was changed")
        previous, expected_seq, checked = record.hash, expected_seq + 1, checked + 1
    outside = AuditRecord.objects.filter(chain_seq__isnull=True).order_by("pk").first()
    if outside is not None:
        return ChainReport(checked, outside, "it was written outside the chain")
    head = AuditChainHead.objects.filter(pk=HEAD_ID).first()
    if checked and (head is None or head.seq != expected_seq - 1 or head.last_hash != previous):
        return ChainReport(checked, None, "the chain's head does not name its last record (records were removed)")
    return ChainReport(checked)
