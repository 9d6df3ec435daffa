"""The authority API: what may I decide, deciding, escalating and answering escalations."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delegation.models import AuthorityLimit, Decision, Delegation, Escalation, UsageCounter
from empower.models import Employee, Notification
from empower.services import case_resolve

D = Decimal
REFUND_CAPS = ("per_decision", "per_day", "per_month", "per_customer_month")


def refund_line(client) -> dict:
    body = client.get("/api/v1/me/authority/").json()
    return next(line for line in body["limits"] if line["decision_type"] == "refund")


@pytest.fixture
def submit(api, make_case, django_capture_on_commit_callbacks):
    """POST a decision as someone and run what the commit schedules (routing, eagerly)."""

    def post(
        username="alice", amount="50.00", *, case=None, decision_type="refund", rationale="Kettle broke", key=None
    ):
        client = api(username)
        case = case or make_case(Employee.objects.get(user__username=username))
        body = {"case": case.pk, "decision_type": decision_type, "amount": amount, "rationale": rationale}
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/decisions/", body, format="json", **headers)
        return response

    return post


@pytest.fixture
def escalated(submit, org):
    """alice asks for a 150.00 refund (beyond her 100.00): it is routed to bob."""
    response = submit("alice", "150.00")
    assert response.status_code == 201
    return Escalation.objects.get(decision_id=response.json()["id"])


# --- what may I decide ------------------------------------------------------------------------------


def test_my_authority_lists_every_active_type_with_limits_and_what_is_left(org, api):
    response = api("alice").get("/api/v1/me/authority/")
    assert response.status_code == 200
    body = response.json()
    assert body["currency"] == "EUR" and body["stand_in"] == []
    lines = {line["decision_type"]: line for line in body["limits"]}
    assert set(lines) == {"refund", "goodwill_credit", "replacement", "fee_waiver", "expedited_shipping", "wow"}
    assert {k: v for k, v in lines["refund"].items() if k not in ("decision_type_name", "available_now")} == {
        "decision_type": "refund",
        "source": "role",
        "per_decision": "100.00",
        "per_day": "300.00",
        "used_today": "0.00",
        "remaining_today": "300.00",
        "per_month": "2000.00",
        "used_this_month": "0.00",
        "remaining_this_month": "2000.00",
        "per_customer_month": "200.00",
    }
    assert lines["goodwill_credit"]["per_decision"] == "25.00" and lines["goodwill_credit"]["per_day"] == "100.00"


def test_the_director_has_no_limits(org, api):
    line = refund_line(api("dan"))
    assert [line[cap] for cap in REFUND_CAPS] == [None, None, None, None]
    assert line["remaining_today"] is None and line["remaining_this_month"] is None
    assert line["used_today"] == "0.00"


def test_an_inactive_decision_type_is_not_listed(org, api):
    org.types["fee_waiver"].is_active = False
    org.types["fee_waiver"].save()
    codes = [line["decision_type"] for line in api("alice").get("/api/v1/me/authority/").json()["limits"]]
    assert "fee_waiver" not in codes and "refund" in codes


def test_an_approved_decision_moves_what_is_used_and_left(org, api, submit):
    client = api("alice")
    assert submit("alice", "80.00").json()["status"] == "approved"
    line = refund_line(client)
    assert (line["used_today"], line["remaining_today"]) == ("80.00", "220.00")
    assert (line["used_this_month"], line["remaining_this_month"]) == ("80.00", "1920.00")
    # An escalated decision uses nothing until approved, and then the approver's caps.
    escalation = Escalation.objects.get(decision_id=submit("alice", "150.00").json()["id"])
    assert refund_line(client)["used_today"] == "80.00"
    bob = api("bob")
    assert bob.post(f"/api/v1/escalations/{escalation.pk}/approve/", {"note": "ok"}, format="json").status_code == 200
    assert refund_line(client)["used_today"] == "80.00"
    line = refund_line(bob)
    assert (line["used_today"], line["remaining_today"]) == ("150.00", "1350.00")


def test_a_stand_in_sees_the_authority_they_hold_for_someone_away(org, api):
    now = timezone.now()
    delegation = Delegation.objects.create(
        delegator=org.bob,
        delegate=org.erin,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
        created_by=org.bob,
    )
    delegation.decision_types.add(org.refund)
    body = api("erin").get("/api/v1/me/authority/").json()
    assert refund_line(api("erin"))["per_decision"] == "100.00"  # her own stays her own
    [borrowed] = body["stand_in"]
    assert borrowed["acting_for"] == "bob" and borrowed["decision_type"] == "refund"
    assert borrowed["per_decision"] == "500.00" and borrowed["source"] == "stand-in"


# --- deciding -------------------------------------------------------------------------------------


def test_within_authority_is_approved_in_the_request_without_any_task(
    org, api, make_case, django_capture_on_commit_callbacks
):
    case = make_case(org.alice)
    client = api("alice")
    body = {"case": case.pk, "decision_type": "refund", "amount": "50.00", "rationale": "Kettle broke"}
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post("/api/v1/decisions/", body, format="json")
    assert callbacks == []  # nothing queued: no routing, no e-mail
    assert response.status_code == 201
    result = response.json()
    decision = Decision.objects.get()
    assert response["Location"] == f"/api/v1/decisions/{decision.pk}/"
    assert "Idempotent-Replayed" not in response
    assert {k: result[k] for k in ("id", "status", "within_authority", "exceeded", "escalation")} == {
        "id": decision.pk,
        "status": "approved",
        "within_authority": True,
        "exceeded": [],
        "escalation": None,
    }
    assert result["amount"] == "50.00" and result["final_amount"] == "50.00" and result["currency"] == "EUR"
    assert result["decision_type"] == "refund" and result["case"] == case.pk
    assert result["made_by"] == "alice" and result["approved_by"] == "alice"
    assert not Escalation.objects.exists()
    assert UsageCounter.objects.filter(amount=D("50.00")).count() == 3  # alice's day and month, the customer's month


def test_beyond_authority_is_escalated_and_routed_to_bob(org, api, submit):
    response = submit("alice", "150.00")
    assert response.status_code == 201
    result = response.json()
    assert result["status"] == "escalated" and result["within_authority"] is False
    assert result["exceeded"] == ["per_decision"] and result["final_amount"] is None
    escalation = Escalation.objects.get(decision_id=result["id"])
    assert result["escalation"]["id"] == escalation.pk
    # Routing ran once the request's transaction committed.
    assert escalation.status == Escalation.Status.ASSIGNED and escalation.assigned_to == org.bob
    shown = api("alice").get(f"/api/v1/escalations/{escalation.pk}/").json()
    assert shown["assigned_to"] == "bob" and shown["status"] == "assigned" and shown["level"] == 1
    assert shown["requested_by"] == "alice" and shown["exceeded"] == ["per_decision"] and shown["due_at"]
    assert [e["id"] for e in api("bob").get("/api/v1/escalations/").json()["results"]] == [escalation.pk]
    assert not UsageCounter.objects.filter(amount__gt=0).exists()


@pytest.mark.django_db(transaction=True)
def test_with_eager_routing_the_answer_already_names_the_approver(org, api, make_case):
    """Without a test transaction around it the commit is real: routing runs before the response is built."""
    case = make_case(org.alice)
    body = {"case": case.pk, "decision_type": "refund", "amount": "800.00", "rationale": "Sofa arrived broken"}
    response = api("alice").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 201
    escalation = response.json()["escalation"]
    assert escalation["status"] == "assigned" and escalation["assigned_to"] == "carol"  # bob covers only 500


def test_the_per_customer_cap_counts_what_anyone_approved_for_the_customer(org, api, submit, make_case):
    case = make_case(org.alice, email="split@example.com")
    first = submit("alice", "150.00", case=case).json()
    assert first["exceeded"] == ["per_decision"]
    escalation = Escalation.objects.get(decision_id=first["id"])
    assert api("bob").post(f"/api/v1/escalations/{escalation.pk}/approve/", {}, format="json").status_code == 200
    # 150 approved for this customer this month; another 150 would make 300, above an agent's 200.
    second = submit("alice", "150.00", case=case).json()
    assert second["status"] == "escalated"
    assert second["exceeded"] == ["per_decision", "per_customer_month"]
    routed = api("alice").get(f"/api/v1/decisions/{second['id']}/").json()["escalation"]
    assert routed["assigned_to"] == "bob"  # bob's customer cap is 1000: 150 + 150 is within it


def test_small_refunds_cannot_be_split_past_the_customer_cap(org, submit, make_case):
    case = make_case(org.alice, email="split@example.com")
    assert submit("alice", "100.00", case=case).json()["status"] == "approved"
    assert submit("erin", "100.00", case=case).json()["status"] == "approved"
    third = submit("frank", "50.00", case=case).json()
    assert third["status"] == "escalated" and third["exceeded"] == ["per_customer_month"]


def test_the_per_day_cap(org, submit):
    for _ in range(3):
        assert submit("alice", "100.00").json()["status"] == "approved"
    assert submit("alice", "0.01").json()["exceeded"] == ["per_day"]


def test_reading_a_decision(org, api, escalated):
    decision = escalated.decision
    for who in ("alice", "erin", "bob", "carol", "dan"):
        response = api(who).get(f"/api/v1/decisions/{decision.pk}/")
        assert response.status_code == 200, who
    body = response.json()
    assert body["status"] == "escalated" and body["amount"] == "150.00" and body["final_amount"] is None
    assert body["made_by"] == "alice" and body["approved_by"] is None
    assert body["escalation"] == {
        "id": escalated.pk,
        "status": "assigned",
        "assigned_to": "bob",
        "level": 1,
        "due_at": body["escalation"]["due_at"],
    }
    for outsider in ("gina", "hank"):
        assert api(outsider).get(f"/api/v1/decisions/{decision.pk}/").status_code == 404
    assert api("alice").get("/api/v1/decisions/999999/").status_code == 404


def test_the_case_shows_its_decisions(org, api, submit, make_case):
    case = make_case(org.alice)
    submit("alice", "20.00", case=case)
    submit("alice", "150.00", case=case)
    body = api("bob").get(f"/api/v1/cases/{case.pk}/").json()
    assert [(d["amount"], d["status"]) for d in body["decisions"]] == [("150.00", "escalated"), ("20.00", "approved")]
    assert body["decisions"][0]["escalation"]["assigned_to"] == "bob"


# --- idempotency ----------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_answers_the_first_result_and_creates_nothing(org, submit, make_case):
    case = make_case(org.alice)
    first = submit("alice", "150.00", case=case, key="retry-1")
    again = submit("alice", "150.00", case=case, key="retry-1")
    assert first.status_code == again.status_code == 201
    # The same decision, as it stands now (routing has since assigned its escalation).
    assert again.json() | {"escalation": None} == first.json() | {"escalation": None}
    assert again.json()["escalation"]["id"] == first.json()["escalation"]["id"]
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert Decision.objects.count() == 1 and Escalation.objects.count() == 1
    # "150" is the same amount as "150.00".
    assert submit("alice", "150", case=case, key="retry-1").json()["id"] == first.json()["id"]
    assert Decision.objects.count() == 1


def test_the_same_key_with_another_body_is_409(org, submit, make_case):
    case = make_case(org.alice)
    first = submit("alice", "50.00", case=case, key="k-1")
    assert first.status_code == 201
    for other in ({"amount": "51.00"}, {"rationale": "Something else"}, {"decision_type": "goodwill_credit"}):
        response = submit("alice", case=case, key="k-1", **({"amount": "50.00"} | other))
        assert response.status_code == 409, other
        assert response.json()["code"] == "idempotency_conflict"
    assert Decision.objects.count() == 1
    assert UsageCounter.objects.filter(amount=D("50.00")).count() == 3  # counted once


def test_keys_belong_to_their_sender(org, submit, make_case):
    case = make_case(org.alice)
    submit("alice", "50.00", case=case, key="shared")
    assert submit("erin", "50.00", case=case, key="shared").json()["made_by"] == "erin"
    assert Decision.objects.count() == 2


def test_an_overlong_key_is_400(org, submit):
    response = submit("alice", "50.00", key="k" * 201)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert not Decision.objects.exists()


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    ["-5", "-0.01", "0", "0.00", "abc", "NaN", "nan", "Infinity", "-Infinity", "1.001", "1000000000.01", "1e12",
     "9" * 40, "", "  ", None, True, [], {"value": 5}],
)  # fmt: skip
def test_a_bad_amount_is_400_with_a_field_error_and_changes_nothing(org, api, make_case, amount):
    case = make_case(org.alice)
    body = {"case": case.pk, "decision_type": "refund", "amount": amount, "rationale": "x"}
    response = api("alice").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 400
    assert "amount" in response.json() and response.json()["code"] == "invalid"
    assert not Decision.objects.exists() and not UsageCounter.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"decision_type": "bribe"}, "decision_type"),
        ({"decision_type": ""}, "decision_type"),
        ({"decision_type": None}, "decision_type"),
        ({"rationale": ""}, "rationale"),
        ({"rationale": "   "}, "rationale"),
        ({"rationale": None}, "rationale"),
        ({"rationale": "x" * 5001}, "rationale"),
        ({"case": "abc"}, "case"),
        ({"case": -1}, "case"),
        ({"case": 2**70}, "case"),
        ({"case": None}, "case"),
    ],
)
def test_bad_fields_are_400_with_field_errors_and_change_nothing(org, api, make_case, change, field):
    case = make_case(org.alice)
    body = {"case": case.pk, "decision_type": "refund", "amount": "50.00", "rationale": "Kettle broke"} | change
    response = api("alice").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Decision.objects.exists() and not UsageCounter.objects.exists()


@pytest.mark.parametrize("missing", ["case", "decision_type", "amount", "rationale"])
def test_a_missing_field_is_400(org, api, make_case, missing):
    case = make_case(org.alice)
    body = {"case": case.pk, "decision_type": "refund", "amount": "50.00", "rationale": "Kettle broke"}
    del body[missing]
    response = api("alice").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 400 and missing in response.json()
    assert not Decision.objects.exists()


def test_an_inactive_decision_type_is_400(org, api, make_case):
    org.types["fee_waiver"].is_active = False
    org.types["fee_waiver"].save()
    body = {"case": make_case(org.alice).pk, "decision_type": "fee_waiver", "amount": "5.00", "rationale": "x"}
    response = api("alice").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 400 and "decision_type" in response.json()


@pytest.mark.parametrize("body", [[], "50.00", 5])
def test_a_body_that_is_not_an_object_is_400(org, api, body):
    response = api("alice").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 400
    assert not Decision.objects.exists()


def test_a_case_the_caller_may_not_act_on_is_404_like_one_that_does_not_exist(org, api, make_case):
    returns_case = make_case(org.gina)
    client = api("alice")
    for case_id in (returns_case.pk, 999999):
        body = {"case": case_id, "decision_type": "refund", "amount": "5.00", "rationale": "x"}
        response = client.post("/api/v1/decisions/", body, format="json")
        assert response.status_code == 404
        assert "case" in response.json()
    assert not Decision.objects.exists() and not UsageCounter.objects.exists()


def test_a_resolved_case_is_409(org, api, make_case):
    case = make_case(org.alice)
    case_resolve(employee=org.alice, case=case, resolution_note="Sorted")
    body = {"case": case.pk, "decision_type": "refund", "amount": "5.00", "rationale": "x"}
    response = api("alice").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 409 and response.json()["code"] == "case_resolved"
    assert not Decision.objects.exists()


def test_an_account_without_an_employee_record_cannot_decide(org, api, make_case):
    body = {"case": make_case(org.alice).pk, "decision_type": "refund", "amount": "5.00", "rationale": "x"}
    response = api("admin").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 403
    assert not Decision.objects.exists()


# --- answering escalations ------------------------------------------------------------------------


def test_bob_approves_a_lower_amount_with_a_note(org, api, escalated):
    response = api("bob").post(
        f"/api/v1/escalations/{escalated.pk}/approve/", {"note": "Half now", "amount": "120.00"}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved" and body["note"] == "Half now" and body["decided_by"] == "bob"
    assert body["decision_status"] == "approved" and body["final_amount"] == "120.00" and body["amount"] == "150.00"
    assert [step["reason"] for step in body["steps"]] == ["routed", "approved"]
    decision = api("alice").get(f"/api/v1/decisions/{escalated.decision_id}/").json()
    assert decision["status"] == "approved" and decision["final_amount"] == "120.00"
    assert decision["approved_by"] == "bob" and decision["made_by"] == "alice"
    assert Notification.objects.filter(recipient=org.alice, message__contains="Half now").exists()
    assert refund_line(api("bob"))["used_today"] == "120.00"


def test_approving_without_an_amount_approves_the_requested_one(org, api, escalated):
    response = api("bob").post(f"/api/v1/escalations/{escalated.pk}/approve/", {}, format="json")
    assert response.status_code == 200 and response.json()["final_amount"] == "150.00"


@pytest.mark.parametrize(("amount", "status"), [("150.01", 400), ("0", 400), ("-1", 400), ("abc", 400), ("1.001", 400)])
def test_approving_a_higher_or_bad_amount_is_400_and_changes_nothing(org, api, escalated, amount, status):
    response = api("bob").post(f"/api/v1/escalations/{escalated.pk}/approve/", {"amount": amount}, format="json")
    assert response.status_code == status and "amount" in response.json()
    escalated.refresh_from_db()
    assert escalated.status == Escalation.Status.ASSIGNED
    assert not UsageCounter.objects.filter(amount__gt=0).exists()


@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": "   "}])
def test_rejecting_needs_a_note(org, api, escalated, body):
    response = api("bob").post(f"/api/v1/escalations/{escalated.pk}/reject/", body, format="json")
    assert response.status_code == 400 and "note" in response.json()
    escalated.refresh_from_db()
    assert escalated.status == Escalation.Status.ASSIGNED


def test_bob_rejects_and_then_nobody_decides_it_again(org, api, escalated):
    bob = api("bob")
    response = bob.post(f"/api/v1/escalations/{escalated.pk}/reject/", {"note": "Outside policy"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "rejected" and response.json()["decision_status"] == "rejected"
    for action, body in (("approve", {}), ("reject", {"note": "Again"})):
        again = bob.post(f"/api/v1/escalations/{escalated.pk}/{action}/", body, format="json")
        assert again.status_code == 409 and again.json()["code"] == "already_decided"
    assert api("alice").get(f"/api/v1/decisions/{escalated.decision_id}/").json()["status"] == "rejected"


def test_the_requester_never_approves_their_own(org, api, escalated):
    client = api("alice")
    response = client.post(f"/api/v1/escalations/{escalated.pk}/approve/", {"note": "me"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "own_decision"
    assert client.post(f"/api/v1/escalations/{escalated.pk}/reject/", {"note": "me"}, format="json").status_code == 403
    escalated.refresh_from_db()
    assert escalated.status == Escalation.Status.ASSIGNED


def test_someone_above_who_is_not_the_assignee_is_403(org, api, escalated):
    # carol may see it (she is above alice and bob) but it is bob's to answer.
    client = api("carol")
    assert client.get(f"/api/v1/escalations/{escalated.pk}/").status_code == 200
    response = client.post(f"/api/v1/escalations/{escalated.pk}/approve/", {"note": "ok"}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_assignee"
    escalated.refresh_from_db()
    assert escalated.status == Escalation.Status.ASSIGNED


def test_people_outside_the_chain_cannot_see_it_and_answering_is_404(org, api, escalated):
    for outsider in ("erin", "gina", "hank"):
        client = api(outsider)
        assert client.get(f"/api/v1/escalations/{escalated.pk}/").status_code == 404
        # The contract: 403, or 404 when they may not see it, whatever the body.
        for action, body in (("approve", {}), ("reject", {"note": "n"}), ("reject", {})):
            response = client.post(f"/api/v1/escalations/{escalated.pk}/{action}/", body, format="json")
            assert response.status_code == 404 and response.json()["code"] == "escalation_not_found", outsider
    assert api("bob").get("/api/v1/escalations/999999/").status_code == 404
    assert api("bob").post("/api/v1/escalations/999999/approve/", {}, format="json").status_code == 404
    escalated.refresh_from_db()
    assert escalated.status == Escalation.Status.ASSIGNED


def test_the_escalation_shows_its_path(org, api, escalated):
    for who in ("alice", "bob", "carol", "dan"):
        assert api(who).get(f"/api/v1/escalations/{escalated.pk}/").status_code == 200, who
    body = api("alice").get(f"/api/v1/escalations/{escalated.pk}/").json()
    assert body["id"] == escalated.pk and body["decision"] == escalated.decision_id
    assert body["approver"] == "bob" and body["note"] == "" and body["decision_type"] == "refund"
    assert body["steps"] == [
        {
            "level": 1,
            "status": "assigned",
            "assigned_to": "bob",
            "reason": "routed",
            "created_at": body["steps"][0]["created_at"],
        }
    ]


def test_when_the_approvers_caps_no_longer_cover_it_it_moves_up(
    org, api, escalated, django_capture_on_commit_callbacks
):
    # bob's personal refund limit drops below the amount after it was routed to him.
    AuthorityLimit.objects.create(employee=org.bob, decision_type=org.refund, per_decision=D("100.00"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api("bob").post(f"/api/v1/escalations/{escalated.pk}/approve/", {"note": "ok"}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "approver_capacity"
    body = api("alice").get(f"/api/v1/escalations/{escalated.pk}/").json()
    assert body["assigned_to"] == "carol" and body["level"] == 2 and body["status"] == "assigned"
    assert [step["reason"] for step in body["steps"]] == ["routed", "capacity", "routed"]
    assert api("alice").get(f"/api/v1/decisions/{escalated.decision_id}/").json()["status"] == "escalated"
    assert not UsageCounter.objects.filter(amount__gt=0).exists()
    # carol can approve it now.
    assert api("carol").post(f"/api/v1/escalations/{escalated.pk}/approve/", {}, format="json").status_code == 200


def test_unroutable_when_nobody_above_covers_it_and_the_administrators_are_told(org, api, submit, settings):
    settings.ADMINS = [("Ops", "ops@example.com")]
    AuthorityLimit.objects.create(employee=org.dan, decision_type=org.refund, per_decision=D("3000.00"))
    response = submit("alice", "4000.00")
    assert response.status_code == 201 and response.json()["status"] == "escalated"
    escalation = Escalation.objects.get(decision_id=response.json()["id"])
    body = api("alice").get(f"/api/v1/escalations/{escalation.pk}/").json()
    assert body["status"] == "unroutable" and body["assigned_to"] is None
    assert [m.to for m in mail.outbox if "unroutable" in m.subject] == [["ops@example.com"]]
    # Nobody approves it by accident: it has no approver, so nobody may answer it.
    assert api("dan").post(f"/api/v1/escalations/{escalation.pk}/approve/", {}, format="json").status_code == 403
    assert Decision.objects.get().status == Decision.Status.ESCALATED


def test_the_inbox_lists_open_ones_first(org, api, submit):
    done = Escalation.objects.get(decision_id=submit("alice", "150.00").json()["id"])
    bob = api("bob")
    assert bob.post(f"/api/v1/escalations/{done.pk}/reject/", {"note": "No"}, format="json").status_code == 200
    waiting = Escalation.objects.get(decision_id=submit("erin", "160.00").json()["id"])
    body = bob.get("/api/v1/escalations/").json()["results"]
    assert [(e["id"], e["status"]) for e in body] == [(waiting.pk, "assigned"), (done.pk, "rejected")]
    assert body[0]["requested_by"] == "erin" and body[0]["amount"] == "160.00"
    assert api("alice").get("/api/v1/escalations/").json()["results"] == []  # only what is assigned to the caller


# --- query budgets --------------------------------------------------------------------------------


def _grow_the_organization(org, make_case) -> None:
    """50 more agents under bob and 100 earlier decisions: the budgets must not notice."""
    User = get_user_model()
    users = User.objects.bulk_create([User(username=f"agent{n}") for n in range(50)])
    Employee.objects.bulk_create(
        [Employee(user=u, role=org.alice.role, team=org.alice.team, parent=org.bob) for u in users]
    )
    case = make_case(org.alice, email="history@example.com")
    now = timezone.now()
    Decision.objects.bulk_create(
        [
            Decision(
                case=case,
                customer_id=case.customer_id,
                decision_type=org.refund,
                made_by=org.alice,
                amount=D("1.00"),
                final_amount=D("1.00"),
                currency="EUR",
                rationale="Earlier",
                status=Decision.Status.APPROVED,
                within_authority=True,
                approved_by=org.alice,
                created_at=now - timedelta(days=40, minutes=n),
            )
            for n in range(100)
        ]
    )


def _count_post(client, body, key) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/api/v1/decisions/", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 201
    return len(queries), response


# Auth, the case, the idempotency key (the caller's row locked, the key looked up), stand-in duties,
# counters, the rows written; an escalation also writes its row and reads it back once routing may have
# assigned it. (Without a key: 10 at most, tests/delegation/test_decision_path.py.)
@pytest.mark.parametrize(("amount", "outcome", "budget"), [("50.00", "approved", 11), ("150.00", "escalated", 12)])
def test_deciding_stays_within_a_query_budget_as_the_organization_grows(
    org, api, make_case, django_assert_max_num_queries, amount, outcome, budget
):
    client = api("alice")
    body = {"decision_type": "refund", "amount": amount, "rationale": "Kettle broke"}
    _count_post(client, body | {"case": make_case(org.alice).pk}, "warm")  # decision types and limits cached
    small, response = _count_post(client, body | {"case": make_case(org.alice).pk}, "small")
    assert response.json()["status"] == outcome
    _grow_the_organization(org, make_case)
    case = make_case(org.alice)
    with django_assert_max_num_queries(budget):
        big, response = _count_post(client, body | {"case": case.pk}, "big")
    assert response.json()["status"] == outcome
    assert big == small


def test_the_inbox_stays_within_a_query_budget(org, api, submit, django_assert_max_num_queries):
    for n in range(6):
        submit("alice" if n % 2 else "erin", "150.00")
    client = api("bob")
    with django_assert_max_num_queries(6):  # token, employee, stand-in duties (+ their types), count, escalations
        body = client.get("/api/v1/escalations/").json()["results"]
    assert len(body) == 6
