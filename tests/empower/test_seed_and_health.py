import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from delegation.models import AuthorityLimit, DecisionType
from empower.models import Employee

pytestmark = pytest.mark.django_db


def _seed(password="pw-seed"):
    out = io.StringIO()
    call_command("seed_demo", password=password, stdout=out)
    return out.getvalue()


def _state():
    return (
        sorted(Employee.objects.values_list("user__username", "role__code", "team__name", "parent__user__username")),
        sorted(AuthorityLimit.objects.values_list("role__code", "decision_type__code", "per_decision", "per_day")),
        DecisionType.objects.count(),
    )


def test_seed_demo_builds_the_contracts_organization_idempotently():
    _seed()
    first = _state()
    _seed()
    assert _state() == first
    people = {row[0]: row[1:] for row in first[0]}
    assert people["alice"] == ("agent", "Customer Care", "bob")
    assert people["bob"] == ("team_lead", "Customer Care", "carol")
    assert people["gina"] == ("agent", "Returns", "hank")
    assert people["hank"] == ("team_lead", "Returns", "carol")
    assert people["carol"] == ("manager", "Operations", "dan")
    assert people["dan"] == ("director", "Operations", None)
    refund = AuthorityLimit.objects.get(role__code="agent", decision_type__code="refund")
    assert [str(v) for v in refund.values().values()] == ["100.00", "300.00", "2000.00", "200.00"]
    director = AuthorityLimit.objects.get(role__code="director", decision_type__code="refund")
    assert set(director.values().values()) == {None}
    assert set(DecisionType.objects.values_list("code", flat=True)) == {
        "refund",
        "goodwill_credit",
        "replacement",
        "fee_waiver",
        "expedited_shipping",
        "wow",
    }


def test_seed_demo_never_undoes_what_was_changed_since():
    _seed()
    AuthorityLimit.objects.filter(role__code="agent", decision_type__code="refund").update(per_decision="120.00")
    DecisionType.objects.filter(code="refund").update(response_hours=2)
    Employee.objects.filter(user__username="frank").update(team=Employee.objects.get(user__username="gina").team)
    _seed()
    assert AuthorityLimit.objects.get(role__code="agent", decision_type__code="refund").per_decision == Decimal(
        "120.00"
    )
    assert DecisionType.objects.get(code="refund").response_hours == 2
    assert Employee.objects.get(user__username="frank").team.name == "Returns"


def test_seed_demo_prints_the_password_and_logins_work(client):
    output = _seed("s3cret-demo")
    assert "s3cret-demo" in output and "alice" in output
    login = {"username": "alice", "password": "s3cret-demo"}
    assert client.post("/accounts/login/", login)["Location"] == "/"
    admin = {"username": "admin", "password": "s3cret-demo", "next": "/admin/"}
    assert client.post("/admin/login/", admin)["Location"] == "/admin/"


def test_healthz_reports_database_and_broker(client, settings):
    settings.HEALTHZ_TOKEN = "monitor"  # the backlog figures are for monitoring clients only
    response = client.get("/healthz/", HTTP_AUTHORIZATION="Bearer monitor")
    assert response.status_code == 200
    assert response.json() | {"database": "ok", "broker": "ok"} == response.json()
    assert response.json()["oldest_unrouted_seconds"] is None


def test_healthz_is_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz/")
    assert response.status_code == 503
    assert response.json()["broker"] == "down"
