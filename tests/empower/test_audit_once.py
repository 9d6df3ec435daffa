"""`audit_once`: an event that happens once is recorded once, however often (or however
concurrently) it is told, and the caller acts only when its call wrote the record."""

import threading

from django.db import connection, transaction

from empower.models import AuditRecord
from empower.services import audit, audit_once
from tests.helpers import allow_audit_rewrites


def records(target, action):
    return AuditRecord.objects.filter(action=action, target_type=target._meta.label_lower, target_id=str(target.pk))


def test_an_event_is_recorded_once(org, make_case):
    case = make_case()
    first = audit_once(action="case.reminded", target=case, subject=org.alice, after={"to": "bob"}, reason="Due")
    again = audit_once(action="case.reminded", target=case, subject=org.alice)

    assert (first, again) == (True, False)
    [record] = records(case, "case.reminded")
    assert record.after == {"to": "bob"} and record.reason == "Due" and record.subject == org.alice
    assert record.actor is None
    # Another target, or another action on this one, is another event.
    assert audit_once(action="case.reminded", target=make_case()) is True
    assert audit_once(action="case.escalated_twice", target=case) is True


def test_a_record_written_before_without_the_helper_counts(org, make_case):
    case = make_case()
    audit(actor=None, action="case.reminded", target=case)  # e.g. before the switch to audit_once
    assert audit_once(action="case.reminded", target=case) is False
    assert records(case, "case.reminded").count() == 1


def test_with_a_key_the_same_event_may_recur_on_a_target_once_per_key(org, make_case):
    case = make_case()
    assert audit_once(action="case.admins_told", target=case, key="step:1", after={"step": 1}) is True
    assert audit_once(action="case.admins_told", target=case, key="step:1") is False
    assert audit_once(action="case.admins_told", target=case, key="step:2", after={"step": 2}) is True
    assert sorted(r.after["step"] for r in records(case, "case.admins_told")) == [1, 2]
    # A key longer than the column is hashed, and still once.
    long_key = "x" * 400
    assert audit_once(action="case.admins_told", target=case, key=long_key) is True
    assert audit_once(action="case.admins_told", target=case, key=long_key) is False


def test_a_refused_duplicate_leaves_the_callers_transaction_usable(org, make_case):
    case = make_case()
    with transaction.atomic():
        assert audit_once(action="case.reminded", target=case) is True
        # Hide the record from the existence check, as a concurrent writer's uncommitted record is
        # hidden: only the unique index refuses the second, inside a savepoint.
        allow_audit_rewrites()
        AuditRecord.objects.filter(once_key__isnull=False).update(action="case.hidden")
        assert audit_once(action="case.reminded", target=case) is False
        audit(actor=None, action="case.after", target=case)
    assert records(case, "case.after").count() == 1


def test_two_concurrent_writers_record_the_event_once(transactional_db, org, make_case):
    case = make_case()
    first_wrote = threading.Event()
    results = {}

    def first():
        try:
            with transaction.atomic():
                results["first"] = audit_once(action="case.reminded", target=case)
                first_wrote.set()
                # Hold the transaction open while the second writer checks and inserts.
                threading.Event().wait(0.5)
        finally:
            first_wrote.set()
            connection.close()

    def second():
        try:
            first_wrote.wait(5)
            # PostgreSQL: sees no committed record, inserts and waits on the unique index; SQLite: waits for
            # the write lock (IMMEDIATE), then sees the record. Either way one record.
            with transaction.atomic():
                results["second"] = audit_once(action="case.reminded", target=case)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    assert results == {"first": True, "second": False}
    assert records(case, "case.reminded").count() == 1
