"""The audit trail cannot be rewritten: append-only at the database level on PostgreSQL, and a hash
chain that `verify_audit` walks, naming the first record that does not match."""

import threading
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from delegation.services import decision_submit
from empower.audit_chain import audit_chain_verify, chain_hash
from empower.models import AuditChainHead, AuditRecord, Employee
from empower.services import audit
from tests.helpers import postgresql_only

trigger_is_postgresqls = postgresql_only("the append-only trigger is PostgreSQL's (SQLite: documented)")


def verify() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except CommandError as error:
        return "broken", err.getvalue() + str(error)
    return "ok", out.getvalue()


@pytest.fixture
def trail(org, make_case, django_capture_on_commit_callbacks) -> list[AuditRecord]:
    """Some records written the application's way: cases, decisions within and beyond authority."""
    for amount in ("40.00", "150.00", "60.00"):
        with django_capture_on_commit_callbacks(execute=True):
            decision_submit(
                employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount=D(amount), rationale="x"
            )
    return list(AuditRecord.objects.order_by("chain_seq"))


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _drop_trigger() -> None:
    if connection.vendor == "postgresql":  # the test's transaction is rolled back: the trigger comes back
        _sql("DROP TRIGGER empower_audit_append_only ON empower_auditrecord")


def test_every_record_carries_a_hash_chained_to_the_previous_one(trail):
    assert len(trail) >= 6
    seqs = [r.chain_seq for r in trail]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    previous = "" if seqs[0] == 1 else AuditRecord.objects.get(chain_seq=seqs[0] - 1).hash
    for record in trail:
        assert record.hash == chain_hash(previous, record.chain_payload())
        previous = record.hash
    head = AuditChainHead.objects.get()
    assert (head.seq, head.last_hash) == (trail[-1].chain_seq, trail[-1].hash)
    assert verify()[0] == "ok"


def test_the_record_returned_by_audit_is_the_stored_one(org):
    record = audit(actor=org.bob, action="test.event", target=org.alice, before={"a": D("1.50")}, reason="Why")
    stored = AuditRecord.objects.get(pk=record.pk)
    assert (stored.hash, stored.chain_seq, stored.before) == (record.hash, record.chain_seq, {"a": "1.50"})
    assert stored.hash == chain_hash(
        AuditRecord.objects.filter(chain_seq=record.chain_seq - 1).values_list("hash", flat=True).first() or "",
        stored.chain_payload(),
    )


@trigger_is_postgresqls
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE empower_auditrecord SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM empower_auditrecord WHERE id = %s",
    ],
)
def test_postgresql_refuses_to_update_or_delete_an_audit_record_even_for_the_application(trail, statement):
    target = trail[1]
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        _sql(statement, [target.pk])
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditRecord.objects.filter(pk=target.pk).update(reason="through the ORM")
    assert AuditRecord.objects.get(pk=target.pk).reason == target.reason


def test_verify_audit_names_a_record_changed_in_sql(trail):
    victim = trail[2]
    _drop_trigger()
    _sql("UPDATE empower_auditrecord SET reason = %s WHERE id = %s", ["nothing to see", victim.pk])

    outcome, message = verify()

    assert outcome == "broken"
    assert f"audit record #{victim.pk} " in message and "changed" in message
    assert audit_chain_verify().first_bad.pk == victim.pk


def test_verify_audit_names_a_record_whose_hash_was_recomputed_alone(trail):
    # A forger who rewrites a record and its own hash still breaks the link to the next one.
    victim, after = trail[1], trail[2]
    _drop_trigger()
    forged = AuditRecord.objects.get(pk=victim.pk)
    forged.reason = "forged"
    previous = AuditRecord.objects.get(chain_seq=victim.chain_seq - 1).hash if victim.chain_seq > 1 else ""
    _sql(
        "UPDATE empower_auditrecord SET reason = %s, hash = %s WHERE id = %s",
        ["forged", chain_hash(previous, forged.chain_payload()), victim.pk],
    )

    assert audit_chain_verify().first_bad.pk == after.pk


def test_verify_audit_names_the_record_after_one_deleted(trail):
    gone, after = trail[3], trail[4]
    _drop_trigger()
    _sql("DELETE FROM empower_auditrecord WHERE id = %s", [gone.pk])

    outcome, message = verify()

    assert outcome == "broken" and f"audit record #{after.pk} " in message and "missing" in message


def test_verify_audit_notices_the_last_records_removed(trail):
    _drop_trigger()
    _sql("DELETE FROM empower_auditrecord WHERE id = %s", [trail[-1].pk])
    outcome, message = verify()
    assert outcome == "broken" and "head" in message


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_do_not_fork_the_chain(org):
    employees = list(Employee.objects.select_related("user")[:4])
    errors: list[Exception] = []
    barrier = threading.Barrier(len(employees))

    def write(employee: Employee) -> None:
        try:
            barrier.wait()
            for n in range(10):
                with transaction.atomic():
                    audit(actor=employee, action="test.concurrent", target=employee, after={"n": n})
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(e,)) for e in employees]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    seqs = sorted(AuditRecord.objects.filter(action="test.concurrent").values_list("chain_seq", flat=True))
    assert len(seqs) == 40 and len(set(seqs)) == 40
    report = audit_chain_verify()
    assert report.ok, report
