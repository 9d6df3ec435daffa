"""A stand-in's decision shows whose authority judged it: `authority_of` in the decision API and on
the case page, and the limits snapshot names its source."""

from datetime import timedelta

from django.utils import timezone

from delegation.models import Decision
from delegation.services import delegation_create


def _bob_away_erin_stands_in(org):
    now = timezone.now()
    return delegation_create(
        delegator=org.bob,
        delegate=org.erin,
        decision_types=[org.refund],
        starts_at=now,
        ends_at=now + timedelta(days=1),
        reason="Holiday",
        created_by=None,
    )


def test_a_stand_ins_decision_names_the_authority_that_judged_it(org, api, make_case, client):
    _bob_away_erin_stands_in(org)
    case = make_case(org.erin)
    body = {"case": case.pk, "decision_type": "refund", "amount": "300.00", "rationale": "Covered by bob's"}

    response = api("erin").post("/api/v1/decisions/", body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["status"] == "approved" and created["authority_of"] == "bob"
    assert created["limits_snapshot"]["authority_of"] == "bob"
    assert created["limits_snapshot"]["source"] == "stand-in"
    assert created["limits_snapshot"]["limits_source"] == "role"
    assert created["limits_snapshot"]["per_decision"] == "500.00"
    read = api("erin").get(f"/api/v1/decisions/{created['id']}/").json()
    assert read["authority_of"] == "bob" and read["made_by"] == "erin"
    assert api("erin").get(f"/api/v1/cases/{case.pk}/").json()["decisions"][0]["authority_of"] == "bob"

    client.force_login(org.erin.user)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "on the authority of Bob" in page


def test_ones_own_decision_names_oneself_and_nothing_on_the_page(org, api, make_case, client):
    case = make_case(org.alice)
    body = {"case": case.pk, "decision_type": "refund", "amount": "30.00", "rationale": "Own"}

    created = api("alice").post("/api/v1/decisions/", body, format="json").json()

    assert created["authority_of"] == "alice"
    assert created["limits_snapshot"]["authority_of"] == "alice" and created["limits_snapshot"]["source"] == "role"
    assert Decision.objects.get(pk=created["id"]).authority_of == org.alice
    client.force_login(org.alice.user)
    assert "on the authority of" not in client.get(f"/cases/{case.pk}/").content.decode()
