"""`empower.prepared`: the decision path's hot reads answer what the ORM would, `insert_once` inserts
once per unique key, and PostgreSQL plans each statement once per database session."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from empower.models import ApiToken, Case, Employee
from empower.selectors import case_of_id
from empower.tokens import api_token_issue, token_digest, token_with_employee
from tests.helpers import postgresql_only


def values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_token_read_loads_what_the_orm_loads(org):
    token_row, key = api_token_issue(user=org.alice.user, name="laptop")
    token = token_with_employee(token_digest(key))
    assert values(token) == values(ApiToken.objects.get(pk=token_row.pk))
    assert values(token.user) == values(get_user_model().objects.get(pk=org.alice.user_id))
    assert values(token.user.employee) == values(Employee.objects.get(pk=org.alice.pk))
    assert token.user.employee.user is token.user  # loaded along: reading it costs no query


def test_an_account_without_an_employee_record_reads_as_none(org, django_assert_num_queries):
    admin = get_user_model().objects.create_user("auditor", password="x")
    _row, key = api_token_issue(user=admin)
    token = token_with_employee(token_digest(key))
    with django_assert_num_queries(0):
        assert getattr(token.user, "employee", None) is None


def test_an_unknown_or_expired_token_reads_as_nothing(org):
    token_row, key = api_token_issue(user=org.alice.user)
    assert token_with_employee(token_digest("not-a-key")) is None
    ApiToken.objects.filter(pk=token_row.pk).update(expires_at=token_row.created_at)
    assert token_with_employee(token_digest(key)) is None


def test_the_case_read_loads_what_the_orm_loads(org, make_case):
    case = make_case()
    assert values(case_of_id(case.pk)) == values(Case.objects.get(pk=case.pk))
    assert case_of_id(case.pk + 1000) is None


@postgresql_only("server-side prepared statements are PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_postgresql_plans_a_read_once_per_session(org, make_case):
    case = make_case()
    connection.close()  # a new session, as after a restart or a broken connection

    def statements() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert case_of_id(case.pk).pk == case.pk
        return [q["sql"].split()[0] for q in captured.captured_queries]

    assert statements() == ["PREPARE", "EXECUTE"]
    assert statements() == ["EXECUTE"]
    connection.close()
    assert statements() == ["PREPARE", "EXECUTE"]


@postgresql_only("server-side prepared statements are PostgreSQL's")
def test_behind_a_transaction_pooler_statements_go_as_text(org, make_case, settings):
    settings.DB_PREPARED_STATEMENTS = False
    case = make_case()
    with CaptureQueriesContext(connection) as captured:
        assert case_of_id(case.pk).pk == case.pk
    assert [q["sql"].split()[0] for q in captured.captured_queries] == ["SELECT"]


def test_insert_once_inserts_the_first_and_skips_the_same_again(org):
    from empower.models import Notification
    from empower.prepared import insert_once

    first = Notification(recipient=org.alice, key="event:1", message="Hello", url="/x/")
    assert insert_once(first, unique=("recipient", "key")) and first.pk is not None
    stored = Notification.objects.get(pk=first.pk)
    assert (stored.message, stored.url, stored.created_at) == ("Hello", "/x/", first.created_at)
    again = Notification(recipient=org.alice, key="event:1", message="Hello again")
    assert not insert_once(again, unique=("recipient", "key")) and again.pk is None
    assert Notification.objects.get(recipient=org.alice, key="event:1").message == "Hello"
    assert insert_once(Notification(recipient=org.bob, key="event:1", message="Hi"), unique=("recipient", "key"))


def test_insert_stores_what_save_would_and_keeps_the_constraints(org, make_case):
    from django.db import IntegrityError, transaction

    from delegation.models import Decision
    from empower.prepared import insert

    case = make_case()

    def decision(**more) -> Decision:
        fields = {"case": case, "customer_id": case.customer_id, "decision_type": org.refund, "made_by": org.alice}
        fields |= {"amount": "12.50", "currency": "EUR", "rationale": "Late", "limits_snapshot": {"a": 1}}
        return Decision(**fields, status=Decision.Status.ESCALATED, within_authority=False, **more)

    inserted = insert(decision(idempotency_key="k1"))
    assert inserted.pk is not None and not inserted._state.adding
    stored = Decision.objects.get(pk=inserted.pk)
    assert str(stored.amount) == "12.50" and stored.limits_snapshot == {"a": 1} and stored.created_at
    assert (stored.idempotency_key, stored.case_id, stored.made_by_id) == ("k1", case.pk, org.alice.pk)
    with pytest.raises(IntegrityError, match="idempotency_key"), transaction.atomic():
        insert(decision(idempotency_key="k1"))


def test_insert_saves_the_orm_way_where_something_listens(org):
    """A limit's save renews the cached authority data's version (a signal): `insert` sends it."""
    from django.db.models.signals import post_save

    from delegation.models import AuthorityLimit
    from empower.prepared import insert

    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(listener, sender=AuthorityLimit)
    try:
        limit = insert(
            AuthorityLimit(employee=org.alice, decision_type=org.refund, per_decision="10.00", reason="Trial")
        )
    finally:
        post_save.disconnect(listener, sender=AuthorityLimit)
    assert limit.pk is not None and heard == [(limit.pk, True)]
