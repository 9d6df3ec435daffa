"""What you may not see is 404 on writes too, exactly as reads answer: approving or rejecting another
team's escalation, ending a delegation one is no part of, changing (or clearing, or ending a window
of) the limits of someone outside one's chain. 403 stays for who may see the target but not act."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.utils import timezone

from delegation.models import AuthorityLimit, Delegation, Escalation
from delegation.services import decision_submit, limit_set
from empower.models import AuditRecord

HX = {"HTTP_HX_REQUEST": "true"}
RAISED = {"per_decision": "120.00", "per_day": "300.00", "per_month": "2000.00", "per_customer_month": "200.00"}


@pytest.fixture
def escalation(org, make_case, django_capture_on_commit_callbacks) -> Escalation:
    """alice asks for a 150.00 refund; routing gives it to bob."""
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice, case=make_case(org.alice), decision_type=org.refund, amount=D("150.00"), rationale="x"
        )
    return Escalation.objects.get(decision=decision)


@pytest.fixture
def login(client):
    def as_(employee):
        client.force_login(employee.user)
        return client

    return as_


@pytest.fixture
def window(org) -> AuthorityLimit:
    now = timezone.now()
    return limit_set(
        granter=org.bob,
        employee=org.alice,
        decision_type=org.refund,
        values={"per_decision": D("120.00")},
        reason="Sale",
        starts_at=now + timedelta(hours=1),
        ends_at=now + timedelta(days=1),
    )


# Escalations -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("outsider", ["hank", "gina", "erin"])
@pytest.mark.parametrize(("action", "body"), [("approve", {}), ("approve", {"amount": "abc"}), ("reject", {})])
def test_answering_an_escalation_one_may_not_see_is_404_like_an_unknown_id(
    org, api, escalation, outsider, action, body
):
    client = api(outsider)
    assert client.get(f"/api/v1/escalations/{escalation.pk}/").status_code == 404

    hidden = client.post(f"/api/v1/escalations/{escalation.pk}/{action}/", body, format="json")
    unknown = client.post(f"/api/v1/escalations/999999/{action}/", body, format="json")

    assert hidden.status_code == 404, hidden.content
    assert hidden.json() == unknown.json()
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED


def test_someone_who_sees_it_but_may_not_answer_is_still_403(org, api, escalation):
    # carol is above alice and bob: she sees it, but it is bob's to answer.
    response = api("carol").post(f"/api/v1/escalations/{escalation.pk}/approve/", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_assignee"
    assert api("alice").post(f"/api/v1/escalations/{escalation.pk}/reject/", {}, format="json").status_code == 403


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("action", ["approve", "reject"])
def test_the_pages_answer_404_to_an_outsider(org, login, escalation, htmx, action):
    response = login(org.hank).post(f"/escalations/{escalation.pk}/{action}/", {"note": "Sure"}, **(HX if htmx else {}))

    assert response.status_code == 404
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED


# Limits ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("granter", "employee"), [("hank", "alice"), ("erin", "alice"), ("alice", "bob")])
@pytest.mark.parametrize("body", [RAISED | {"reason": "More"}, {"per_decision": "abc"}])
def test_changing_limits_outside_ones_chain_is_404_like_an_unknown_name(org, api, granter, employee, body):
    client = api(granter)
    hidden = client.put(f"/api/v1/employees/{employee}/limits/refund/", body, format="json")
    unknown = client.put("/api/v1/employees/nobody-at-all/limits/refund/", body, format="json")

    assert hidden.status_code == 404, hidden.content
    assert hidden.json() == unknown.json()
    assert not AuthorityLimit.objects.filter(employee__isnull=False).exists()


def test_own_limits_stay_403(org, api):
    response = api("alice").put("/api/v1/employees/alice/limits/refund/", RAISED | {"reason": "Me"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "own_limits"


@pytest.mark.parametrize("outsider", ["hank", "erin"])
def test_clearing_limits_and_ending_windows_outside_ones_chain_is_404(org, api, window, outsider):
    client = api(outsider)

    cleared = client.delete("/api/v1/employees/alice/limits/refund/?reason=x")
    ended = client.post(
        f"/api/v1/employees/alice/limits/refund/windows/{window.pk}/end/", {"reason": "x"}, format="json"
    )
    ended_no_reason = client.post(f"/api/v1/employees/alice/limits/refund/windows/{window.pk}/end/", {}, format="json")

    assert (cleared.status_code, ended.status_code, ended_no_reason.status_code) == (404, 404, 404)
    assert AuthorityLimit.objects.filter(pk=window.pk, ends_at__gt=timezone.now()).exists()
    assert not AuditRecord.objects.filter(action__in=["limit.deleted", "limit.ended"]).exists()


@pytest.mark.parametrize("outsider", ["hank", "erin"])
@pytest.mark.parametrize("clear", [False, True])
def test_the_limit_pages_answer_404_to_an_outsider(org, login, window, outsider, clear):
    body = {"per_decision": "120.00", "reason": "More"} | ({"action": "clear"} if clear else {})
    client = login(getattr(org, outsider))

    assert client.post("/authority/people/alice/refund/edit/", body).status_code == 404
    assert client.post(f"/authority/people/alice/refund/windows/{window.pk}/end/", {"reason": "x"}).status_code == 404
    assert AuthorityLimit.objects.filter(employee=org.alice).count() == 1


# Delegations -------------------------------------------------------------------------------------------


def test_ending_a_delegation_one_is_no_part_of_is_404_and_the_stand_in_403(org, api, login):
    now = timezone.now()
    delegation = Delegation.objects.create(
        delegator=org.bob,
        delegate=org.erin,
        created_by=org.bob,
        starts_at=now,
        ends_at=now + timedelta(days=2),
        reason="Away",
    )
    delegation.decision_types.set([org.refund])

    outsider = api("hank").post(f"/api/v1/delegations/{delegation.pk}/end/", {"reason": "x"}, format="json")
    unknown = api("hank").post("/api/v1/delegations/999999/end/", {"reason": "x"}, format="json")
    stand_in = api("erin").post(f"/api/v1/delegations/{delegation.pk}/end/", {"reason": "x"}, format="json")
    page = login(org.gina).post(f"/delegations/{delegation.pk}/end/", {"reason": "x"})

    assert outsider.status_code == 404 and outsider.json()["code"] == unknown.json()["code"]
    assert stand_in.status_code == 403
    assert page.status_code == 404
    delegation.refresh_from_db()
    assert delegation.ended_at is None
