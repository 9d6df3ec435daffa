"""Managers shape authority through the API: limits, stand-ins, the historic question, withdrawing."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
import yaml
from django.core.management import call_command
from django.utils import timezone

from delegation.models import AuthorityLimit, Decision, Delegation, Escalation
from delegation.services import decision_submit, delegation_create, limit_set
from empower.models import AuditRecord, Notification

D = Decimal
RAISED = {
    "per_decision": "300.00",
    "per_day": "900.00",
    "per_month": "5000.00",
    "per_customer_month": "600.00",
    "reason": "Trusted with bigger refunds",
}


def limits_url(username: str, decision_type: str | None = None) -> str:
    return f"/api/v1/employees/{username}/limits/" + (f"{decision_type}/" if decision_type else "")


def refund_of(body: dict) -> dict:
    return next(line for line in body["limits"] if line["decision_type"] == "refund")


def nothing_changed_for(org, employee) -> bool:
    return (
        not AuthorityLimit.objects.filter(employee=employee).exists()
        and not AuditRecord.objects.filter(action__startswith="limit.", subject=employee).exists()
        and not Notification.objects.filter(recipient=employee, url="/authority/me/").exists()
    )


# Reading limits ---------------------------------------------------------------------------------------


def test_alice_reads_her_own_limits_with_their_source_and_what_is_left(org, api):
    response = api("alice").get(limits_url("alice"))

    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "alice" and body["currency"] == "EUR"
    assert {line["decision_type"] for line in body["limits"]} == set(org.types)
    refund = refund_of(body)
    assert refund["per_decision"] == "100.00" and refund["per_day"] == "300.00"
    assert refund["per_month"] == "2000.00" and refund["per_customer_month"] == "200.00"
    assert refund["source"] == "role" and refund["used_today"] == "0.00" and refund["remaining_today"] == "300.00"


@pytest.mark.parametrize("viewer", ["bob", "carol", "dan"])
def test_everyone_above_alice_reads_her_limits(org, api, viewer):
    assert api(viewer).get(limits_url("alice")).status_code == 200


@pytest.mark.parametrize(("viewer", "username"), [("erin", "alice"), ("hank", "alice"), ("alice", "bob"), ("bob", "x")])
def test_anyone_else_gets_404(org, api, viewer, username):
    response = api(viewer).get(limits_url(username))

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_personal_limit_shows_as_personal(org, api):
    limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=RAISED, reason="Sale")

    refund = refund_of(api("bob").get(limits_url("alice")).json())

    assert refund["source"] == "personal" and refund["per_decision"] == "300.00"


# Setting limits: the granting rules ------------------------------------------------------------------


def test_carol_raises_alices_refund_limit_and_the_next_decision_is_approved_at_once(org, api, make_case):
    response = api("carol").put(limits_url("alice", "refund"), RAISED, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["username"] == "alice" and body["decision_type"] == "refund" and body["source"] == "personal"
    assert [body[c] for c in ("per_decision", "per_day", "per_month", "per_customer_month")] == [
        "300.00",
        "900.00",
        "5000.00",
        "600.00",
    ]
    assert body["set_by"] == "carol" and body["reason"] == "Trusted with bigger refunds"
    assert body["starts_at"] is None and body["ends_at"] is None
    record = AuditRecord.objects.get(action="limit.created", subject=org.alice)
    assert record.actor == org.carol and record.after["per_decision"] == "300.00"
    assert Notification.objects.filter(recipient=org.alice, url="/authority/me/").exists()
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("250.00"), rationale="Broken"
    )
    assert decision.status == Decision.Status.APPROVED


def test_a_cap_left_out_stays_as_it_is(org, api):
    response = api("bob").put(
        limits_url("alice", "refund"), {"per_decision": "150.00", "reason": "Only per decision"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["per_decision"], body["per_day"], body["per_customer_month"]) == ("150.00", "300.00", "200.00")


def test_changing_it_again_updates_the_one_standing_limit(org, api):
    client = api("bob")
    client.put(limits_url("alice", "refund"), RAISED | {"per_decision": "200.00"}, format="json")
    response = client.put(limits_url("alice", "refund"), RAISED | {"per_decision": "120.00"}, format="json")

    assert response.status_code == 200
    assert AuthorityLimit.objects.get(employee=org.alice).per_decision == D("120.00")
    assert AuditRecord.objects.filter(action="limit.changed", subject=org.alice).count() == 1


def test_a_lowered_limit_takes_effect_for_the_next_decision(org, api, make_case):
    api("bob").put(limits_url("alice", "refund"), RAISED | {"per_decision": "40.00"}, format="json")

    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("50.00"), rationale="Dent"
    )

    assert decision.status == Decision.Status.ESCALATED and decision.exceeded == ["per_decision"]


@pytest.mark.parametrize(
    ("granter", "employee", "code"),
    [
        ("alice", "alice", "own_limits"),
        ("bob", "bob", "own_limits"),
        ("erin", "alice", "not_found"),  # outside their chain: 404, as reads answer
        ("hank", "alice", "not_found"),
        ("alice", "bob", "not_found"),
    ],
)
def test_only_someone_above_may_and_never_their_own(org, api, granter, employee, code):
    response = api(granter).put(limits_url(employee, "refund"), RAISED, format="json")

    assert response.status_code == (404 if code == "not_found" else 403)
    assert response.json()["code"] == code and response.json()["detail"]
    assert nothing_changed_for(org, getattr(org, employee))


def test_nobody_grants_more_than_they_hold_and_the_refusal_names_the_caps(org, api):
    too_much = RAISED | {"per_decision": "500.01", "per_day": "1500.00", "per_customer_month": "1000.01"}

    response = api("bob").put(limits_url("alice", "refund"), too_much, format="json")

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "above_own_limit"
    assert body["per_decision"] == ["At most €500.00: you cannot grant more than you hold."]
    assert body["per_customer_month"] == ["At most €1,000.00: you cannot grant more than you hold."]
    assert "per_day" not in body and "per_month" not in body
    assert nothing_changed_for(org, org.alice)


def test_no_limit_only_from_someone_who_has_none(org, api):
    unlimited = RAISED | {"per_decision": None}

    refused = api("carol").put(limits_url("alice", "refund"), unlimited, format="json")
    granted = api("dan").put(limits_url("alice", "refund"), unlimited, format="json")

    assert refused.status_code == 403 and refused.json()["code"] == "above_own_limit"
    assert "per_decision" in refused.json()
    assert granted.status_code == 200 and granted.json()["per_decision"] is None


def test_answers_speak_the_callers_language(org, api):
    org.bob.language = "pl"
    org.bob.save(update_fields=["language"])
    body = {k: v for k, v in RAISED.items() if k != "reason"}

    response = api("bob").put(limits_url("erin", "refund"), body, format="json")

    assert response.status_code == 400
    assert response["Content-Language"] == "pl"
    assert response.json()["reason"] == ["To pole jest wymagane."]  # DRF's own message, in Polish


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"per_day": "-1"}, "per_day"),
        ({"per_day": "abc"}, "per_day"),
        ({"per_month": "1.001"}, "per_month"),
        ({"per_decision": "NaN"}, "per_decision"),
        ({"per_decision": ["1"]}, "per_decision"),
        ({"reason": "  "}, "reason"),
        ({"ends_at": "2001-01-01T00:00:00Z"}, "ends_at"),
        ({"starts_at": "yesterday-ish"}, "starts_at"),
    ],
)
def test_bad_values_are_400_with_field_errors_and_change_nothing(org, api, change, field):
    response = api("bob").put(limits_url("alice", "refund"), RAISED | change, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert nothing_changed_for(org, org.alice)


def test_a_missing_reason_is_400(org, api):
    body = {k: v for k, v in RAISED.items() if k != "reason"}

    response = api("bob").put(limits_url("alice", "refund"), body, format="json")

    assert response.status_code == 400 and "reason" in response.json()
    assert nothing_changed_for(org, org.alice)


@pytest.mark.parametrize(("username", "decision_type"), [("nobody", "refund"), ("alice", "teleport")])
def test_an_unknown_employee_or_type_is_404(org, api, username, decision_type):
    response = api("carol").put(limits_url(username, decision_type), RAISED, format="json")

    assert response.status_code == 404
    assert not AuthorityLimit.objects.filter(employee__isnull=False).exists()


def test_a_temporary_limit_goes_back_by_itself(org, api, make_case):
    now = timezone.now()
    window = {"starts_at": (now - timedelta(minutes=1)).isoformat(), "ends_at": (now + timedelta(hours=2)).isoformat()}

    response = api("bob").put(limits_url("alice", "refund"), RAISED | window, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["ends_at"] is not None
    assert refund_of(api("alice").get(limits_url("alice")).json())["per_decision"] == "300.00"
    with time_machine.travel(now + timedelta(hours=3)):
        assert refund_of(api("alice").get(limits_url("alice")).json())["per_decision"] == "100.00"
        decision = decision_submit(
            employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("250.00"), rationale="Late"
        )
        assert decision.status == Decision.Status.ESCALATED


# Clearing -------------------------------------------------------------------------------------------


def test_clearing_returns_alice_to_her_roles_limits(org, api):
    limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=RAISED, reason="Sale")

    response = api("bob").delete(limits_url("alice", "refund") + "?reason=Sale%20over")

    assert response.status_code == 200, response.content
    refund = refund_of(response.json())
    assert refund["source"] == "role" and refund["per_decision"] == "100.00"
    record = AuditRecord.objects.get(action="limit.deleted", subject=org.alice)
    assert record.actor == org.bob and record.reason == "Sale over"


def test_the_reason_may_come_in_the_body(org, api):
    limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=RAISED, reason="Sale")

    response = api("carol").delete(limits_url("alice", "refund"), {"reason": "Policy"}, format="json")

    assert response.status_code == 200
    assert not AuthorityLimit.objects.filter(employee=org.alice).exists()


@pytest.mark.parametrize(
    ("actor", "query", "status", "code"),
    [
        ("bob", "", 400, "invalid"),
        ("alice", "?reason=x", 403, "own_limits"),
        ("hank", "?reason=x", 404, "not_found"),
    ],
)
def test_clearing_is_refused_without_a_reason_or_by_the_wrong_person(org, api, actor, query, status, code):
    limit_set(granter=org.bob, employee=org.alice, decision_type=org.refund, values=RAISED, reason="Sale")

    response = api(actor).delete(limits_url("alice", "refund") + query)

    assert response.status_code == status and response.json()["code"] == code
    assert AuthorityLimit.objects.filter(employee=org.alice).exists()
    assert not AuditRecord.objects.filter(action="limit.deleted").exists()


def test_clearing_when_there_is_nothing_to_clear_is_409(org, api):
    response = api("bob").delete(limits_url("alice", "refund") + "?reason=x")

    assert response.status_code == 409 and response.json()["code"] == "no_personal_limit"


# Stand-ins --------------------------------------------------------------------------------------------


def window(hours_from: float = -1, hours_to: float = 48) -> dict:
    now = timezone.now()
    return {
        "starts_at": (now + timedelta(hours=hours_from)).isoformat(),
        "ends_at": (now + timedelta(hours=hours_to)).isoformat(),
    }


def test_carol_hands_her_refunds_to_bob_and_alices_800_goes_to_bob(
    org, api, make_case, django_capture_on_commit_callbacks
):
    body = {"to": "bob", "decision_types": ["refund", "goodwill_credit"], "reason": "Holiday"} | window()

    response = api("carol").post("/api/v1/delegations/", body, format="json")

    assert response.status_code == 201, response.content
    created = response.json()
    assert created["from"] == "carol" and created["to"] == "bob" and created["state"] == "active"
    assert created["decision_types"] == ["goodwill_credit", "refund"] and created["created_by"] == "carol"
    assert Notification.objects.filter(recipient=org.bob, key__endswith=":started").exists()
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("800.00"), rationale="Sofa"
        )
    escalation = Escalation.objects.get(decision=decision)
    assert escalation.approver == org.carol and escalation.assigned_to == org.bob
    inbox = api("bob").get("/api/v1/escalations/").json()["results"]
    assert [e["id"] for e in inbox] == [escalation.pk]


def test_a_stand_in_sees_the_authority_they_hold(org, api):
    api("carol").post("/api/v1/delegations/", {"to": "bob", "decision_types": ["refund"], "reason": "Away"} | window())

    stand_in = api("bob").get(limits_url("bob")).json()["stand_in"]

    assert [(s["acting_for"], s["decision_type"], s["per_decision"]) for s in stand_in] == [
        ("carol", "refund", "2000.00")
    ]


def test_carol_sets_up_a_stand_in_for_bob(org, api):
    body = {"from": "bob", "to": "erin", "decision_types": ["refund"], "reason": "Bob is ill"} | window()

    response = api("carol").post("/api/v1/delegations/", body, format="json")

    assert response.status_code == 201, response.content
    delegation = Delegation.objects.get()
    assert (delegation.delegator, delegation.delegate, delegation.created_by) == (org.bob, org.erin, org.carol)


def test_starts_at_defaults_to_now(org, api):
    ends = (timezone.now() + timedelta(days=1)).isoformat()
    body = {"to": "erin", "decision_types": ["refund"], "ends_at": ends, "reason": "Lunch"}

    response = api("bob").post("/api/v1/delegations/", body, format="json")

    assert response.status_code == 201 and response.json()["state"] == "active"


@pytest.mark.parametrize(
    ("actor", "change", "status", "field"),
    [
        ("bob", {"to": "bob"}, 400, "to"),
        ("bob", {"to": "nobody"}, 400, "to"),
        ("bob", {"decision_types": []}, 400, "decision_types"),
        ("bob", {"decision_types": ["teleport"]}, 400, "decision_types"),
        ("bob", window(hours_from=5, hours_to=1), 400, "ends_at"),
        ("bob", window(hours_from=-5, hours_to=-1), 400, "ends_at"),
        ("bob", {"ends_at": "soon"}, 400, "ends_at"),
        ("bob", {"reason": ""}, 400, "reason"),
        ("bob", {"from": "nobody"}, 400, "from"),
        ("alice", {"from": "bob"}, 403, None),
        ("hank", {"from": "bob"}, 403, None),
    ],
)
def test_bad_delegations_are_refused_and_create_nothing(org, api, actor, change, status, field):
    body = {"to": "erin", "decision_types": ["refund"], "reason": "Away"} | window() | change

    response = api(actor).post("/api/v1/delegations/", body, format="json")

    assert response.status_code == status, response.content
    if field:
        assert field in response.json()
    else:
        assert response.json()["code"] == "not_above"
    assert not Delegation.objects.exists()
    assert not AuditRecord.objects.filter(action__startswith="delegation.").exists()


def test_delegations_cannot_be_chained(org, api):
    api("carol").post("/api/v1/delegations/", {"to": "bob", "decision_types": ["refund"], "reason": "Away"} | window())
    response = api("bob").post(
        "/api/v1/delegations/", {"to": "erin", "decision_types": ["refund"], "reason": "Me too"} | window()
    )

    assert response.status_code == 201
    stand_in = api("erin").get(limits_url("erin")).json()["stand_in"]
    # erin holds bob's own authority only, not carol's that bob holds.
    assert [(s["acting_for"], s["per_decision"]) for s in stand_in] == [("bob", "500.00")]


def _delegation(org, delegator, delegate, **kwargs):
    now = timezone.now()
    return delegation_create(
        delegator=delegator,
        delegate=delegate,
        decision_types=[org.refund],
        starts_at=kwargs.get("starts_at", now - timedelta(hours=1)),
        ends_at=kwargs.get("ends_at", now + timedelta(days=1)),
        reason="Away",
    )


def test_the_list_shows_given_held_and_those_below_me(org, api):
    given = _delegation(org, org.carol, org.hank)
    held = _delegation(org, org.dan, org.carol)
    below = _delegation(org, org.alice, org.erin)
    # One stand-in per type at a time: dan's second one is scheduled after the first.
    later = timezone.now() + timedelta(days=2)
    held_below = _delegation(org, org.dan, org.hank, starts_at=later, ends_at=later + timedelta(days=1))

    carol = {d["id"] for d in api("carol").get("/api/v1/delegations/").json()["results"]}
    bob = {d["id"] for d in api("bob").get("/api/v1/delegations/").json()["results"]}
    erin = {d["id"] for d in api("erin").get("/api/v1/delegations/").json()["results"]}

    assert carol == {given.pk, held.pk, below.pk, held_below.pk}
    assert bob == {below.pk}
    assert erin == {below.pk}


def test_the_list_stays_within_its_query_budget(org, api, django_assert_max_num_queries):
    for n, delegate in enumerate((org.erin, org.frank, org.gina)):
        starts = timezone.now() + timedelta(days=2 * n)  # one after the other: never two at once
        _delegation(org, org.alice, delegate, starts_at=starts, ends_at=starts + timedelta(days=1))
    client = api("carol")

    with django_assert_max_num_queries(8):
        response = client.get("/api/v1/delegations/")

    assert len(response.json()["results"]) == 3


@pytest.mark.parametrize("actor", ["bob", "carol"])
def test_the_delegator_or_someone_above_ends_it_early(org, api, actor):
    delegation = _delegation(org, org.bob, org.erin)

    response = api(actor).post(f"/api/v1/delegations/{delegation.pk}/end/", {"reason": "Back early"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "ended" and response.json()["ended_by"] == actor
    assert api("erin").get(limits_url("erin")).json()["stand_in"] == []
    assert AuditRecord.objects.filter(action="delegation.ended", actor=getattr(org, actor)).exists()


@pytest.mark.parametrize(
    ("actor", "status", "code"),
    [("erin", 403, "not_above"), ("alice", 404, "not_found"), ("hank", 404, "not_found")],
)
def test_the_stand_in_cannot_end_it_and_an_outsider_does_not_see_it(org, api, actor, status, code):
    delegation = _delegation(org, org.bob, org.erin)

    response = api(actor).post(f"/api/v1/delegations/{delegation.pk}/end/", {"reason": "Back early"}, format="json")

    assert response.status_code == status and response.json()["code"] == code
    delegation.refresh_from_db()
    assert delegation.ended_at is None


def test_ending_one_that_is_over_is_409(org, api):
    delegation = _delegation(org, org.bob, org.erin)
    client = api("bob")
    client.post(f"/api/v1/delegations/{delegation.pk}/end/")

    response = client.post(f"/api/v1/delegations/{delegation.pk}/end/")

    assert response.status_code == 409 and response.json()["code"] == "delegation_ended"


def test_ending_an_unknown_delegation_is_404(org, api):
    assert api("bob").post("/api/v1/delegations/999999/end/").status_code == 404


def test_a_delegation_ends_on_time_by_itself(org, api):
    now = timezone.now()
    _delegation(org, org.bob, org.erin, ends_at=now + timedelta(hours=2))

    with time_machine.travel(now + timedelta(hours=3)):
        listed = api("bob").get("/api/v1/delegations/").json()["results"]
        assert [d["state"] for d in listed] == ["ended"]
        assert api("erin").get(limits_url("erin")).json()["stand_in"] == []


# The historic question ---------------------------------------------------------------------------------


def test_what_could_alice_decide_at_moments_in_the_past_and_why(org, api, make_case):
    # Noon a week ago: every moment below falls well inside its day.
    start = (timezone.now() - timedelta(days=7)).replace(hour=12, minute=0, second=0, microsecond=0)
    with time_machine.travel(start, tick=False):
        api("bob").put(limits_url("alice", "refund"), RAISED | {"reason": "Promotion"}, format="json")
    with time_machine.travel(start + timedelta(days=1), tick=False):
        decision_submit(
            employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("250.00"), rationale="Sofa"
        )
    with time_machine.travel(start + timedelta(days=2), tick=False):
        lowered = RAISED | {"per_decision": "120.00", "reason": "Too many reversals"}
        api("carol").put(limits_url("alice", "refund"), lowered, format="json")
    with time_machine.travel(start + timedelta(days=4), tick=False):
        api("bob").delete(limits_url("alice", "refund") + "?reason=Back%20to%20standard")
    client = api("carol")

    def refund_at(moment) -> dict:
        response = client.get("/api/v1/employees/alice/authority/", {"at": moment.isoformat()})
        assert response.status_code == 200, response.content
        assert response.json()["username"] == "alice"
        return refund_of(response.json())

    before = refund_at(start - timedelta(hours=1))
    assert (before["per_decision"], before["source"]) == ("100.00", "role")
    promoted = refund_at(start + timedelta(days=1, hours=1))
    assert (promoted["per_decision"], promoted["source"], promoted["set_by"]) == ("300.00", "personal", "bob")
    assert promoted["reason"] == "Promotion" and promoted["since"] is not None
    assert promoted["used_that_day"] == "250.00" and promoted["used_that_month"] == "250.00"
    lowered_line = refund_at(start + timedelta(days=3))
    assert (lowered_line["per_decision"], lowered_line["set_by"]) == ("120.00", "carol")
    assert lowered_line["reason"] == "Too many reversals"
    assert refund_at(start + timedelta(days=5))["source"] == "role"


def test_the_historic_answer_names_authority_held_as_a_stand_in(org, api):
    _delegation(org, org.carol, org.bob)

    limits = api("bob").get("/api/v1/employees/bob/authority/").json()["limits"]

    borrowed = [line for line in limits if line["acting_for"] == "carol"]
    assert [(b["decision_type"], b["source"], b["per_decision"]) for b in borrowed] == [
        ("refund", "stand-in", "2000.00")
    ]


def test_without_at_it_answers_for_now(org, api):
    body = api("alice").get("/api/v1/employees/alice/authority/").json()

    assert abs(timezone.now() - timezone.datetime.fromisoformat(body["at"].replace("Z", "+00:00"))) < timedelta(
        minutes=1
    )
    assert refund_of(body)["per_decision"] == "100.00"


@pytest.mark.parametrize("at", ["2026-13-45T10:00:00", "last tuesday", "2026-11-17T14:05:00 01:00x"])
def test_a_bad_moment_is_400(org, api, at):
    response = api("alice").get("/api/v1/employees/alice/authority/", {"at": at})

    assert response.status_code == 400 and "at" in response.json()


def test_an_unencoded_offset_is_understood(org, api):
    response = api("alice").get("/api/v1/employees/alice/authority/?at=2026-11-17T14:05:00+01:00")

    assert response.status_code == 200
    assert response.json()["at"].startswith("2026-11-17T13:05:00")


@pytest.mark.parametrize(
    ("viewer", "status"), [("alice", 200), ("bob", 200), ("dan", 200), ("erin", 404), ("hank", 404)]
)
def test_the_history_is_for_the_employee_and_those_above(org, api, viewer, status):
    assert api(viewer).get("/api/v1/employees/alice/authority/").status_code == status


# Withdrawing an escalation ------------------------------------------------------------------------------


@pytest.fixture
def escalated(org, make_case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("150.00"), rationale="Two"
        )
    return decision.escalation


def test_alice_withdraws_her_escalation_and_bob_is_told(org, api, escalated):
    response = api("alice").post(
        f"/api/v1/escalations/{escalated.pk}/withdraw/", {"reason": "Customer changed their mind"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "withdrawn" and response.json()["decision_status"] == "withdrawn"
    assert Notification.objects.filter(recipient=org.bob, key=f"escalation:{escalated.pk}:withdrawn").exists()


@pytest.mark.parametrize("actor", ["bob", "carol"])
def test_only_the_requester_withdraws(org, api, escalated, actor):
    response = api(actor).post(f"/api/v1/escalations/{escalated.pk}/withdraw/")

    assert response.status_code == 403 and response.json()["code"] == "not_requester"
    escalated.refresh_from_db()
    assert escalated.status == Escalation.Status.ASSIGNED


def test_an_outsider_does_not_even_see_it(org, api, escalated):
    assert api("gina").post(f"/api/v1/escalations/{escalated.pk}/withdraw/").status_code == 404


def test_withdrawing_a_decided_escalation_is_409(org, api, escalated):
    api("bob").post(f"/api/v1/escalations/{escalated.pk}/approve/", {"note": "Fine"}, format="json")

    response = api("alice").post(f"/api/v1/escalations/{escalated.pk}/withdraw/")

    assert response.status_code == 409 and response.json()["code"] == "already_decided"
    assert Decision.objects.get(pk=escalated.decision_id).status == Decision.Status.APPROVED


def test_the_schema_documents_these_calls_and_their_refusals(tmp_path):
    path = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(path))
    paths = yaml.safe_load(path.read_text())["paths"]

    limit = paths["/api/v1/employees/{username}/limits/{decision_type}/"]
    assert {"200", "400", "403", "404"} <= set(limit["put"]["responses"])
    assert {"200", "400", "403", "404", "409"} <= set(limit["delete"]["responses"])
    assert "404" in paths["/api/v1/employees/{username}/limits/"]["get"]["responses"]
    assert {"200", "400", "404"} <= set(paths["/api/v1/employees/{username}/authority/"]["get"]["responses"])
    assert {"201", "400", "403"} <= set(paths["/api/v1/delegations/"]["post"]["responses"])
    assert "get" in paths["/api/v1/delegations/"]
    assert {"200", "403", "404", "409"} <= set(paths["/api/v1/delegations/{id}/end/"]["post"]["responses"])
    assert {"200", "403", "404", "409"} <= set(paths["/api/v1/escalations/{id}/withdraw/"]["post"]["responses"])


# Temporary limits through the API ---------------------------------------------------------------------


def _window_body(hours_from: float | None, hours_to: float | None) -> dict:
    now = timezone.now()
    body = dict(RAISED)
    if hours_from is not None:
        body["starts_at"] = (now + timedelta(hours=hours_from)).isoformat()
    if hours_to is not None:
        body["ends_at"] = (now + timedelta(hours=hours_to)).isoformat()
    return body


def test_a_start_without_an_end_is_400_and_an_overlap_409(org, api):
    client = api("bob")

    no_end = client.put(limits_url("alice", "refund"), _window_body(1, None), format="json")
    assert no_end.status_code == 400 and "ends_at" in no_end.json()
    assert client.put(limits_url("alice", "refund"), _window_body(1, 5), format="json").status_code == 200
    overlap = client.put(limits_url("alice", "refund"), _window_body(4, 8), format="json")
    assert overlap.status_code == 409 and overlap.json()["code"] == "limit_window_overlaps"
    assert AuthorityLimit.objects.filter(employee=org.alice).count() == 1


def test_the_limits_list_temporary_ones_and_a_standing_change_says_when_it_applies(org, api):
    client = api("bob")
    window = client.put(limits_url("alice", "refund"), _window_body(None, 2), format="json").json()

    standing = client.put(limits_url("alice", "refund"), RAISED | {"per_decision": "150.00"}, format="json")

    assert standing.status_code == 200
    assert standing.json()["overridden_until"] == window["ends_at"]
    body = client.get(limits_url("alice")).json()
    assert refund_of(body)["per_decision"] == "300.00"  # the window still applies
    assert [(w["id"], w["running"], w["per_decision"]) for w in body["temporary"]] == [(window["id"], True, "300.00")]


def test_a_temporary_limit_is_ended_early_through_the_api(org, api, make_case):
    window = api("bob").put(limits_url("alice", "refund"), _window_body(None, 5), format="json").json()
    end_url = limits_url("alice", "refund") + f"windows/{window['id']}/end/"

    assert api("hank").post(end_url, {"reason": "x"}, format="json").status_code == 404
    assert api("alice").post(end_url, {"reason": "x"}, format="json").json()["code"] == "own_limits"
    assert api("bob").post(end_url, {"reason": ""}, format="json").status_code == 400
    response = api("carol").post(end_url, {"reason": "Sale cut short"}, format="json")

    assert response.status_code == 200, response.content
    assert refund_of(response.json())["per_decision"] == "100.00" and response.json()["temporary"] == []
    assert AuditRecord.objects.get(action="limit.ended").actor == org.carol
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount=D("250.00"), rationale="After"
    )
    assert decision.status == Decision.Status.ESCALATED
    assert api("carol").post(end_url, {"reason": "again"}, format="json").status_code == 409
    wrong_type = limits_url("alice", "goodwill_credit") + f"windows/{window['id']}/end/"
    assert api("carol").post(wrong_type, {"reason": "x"}, format="json").status_code == 404


def test_clearing_with_only_a_temporary_limit_is_not_409(org, api):
    api("bob").put(limits_url("alice", "refund"), _window_body(None, 5), format="json")

    response = api("bob").delete(limits_url("alice", "refund") + "?reason=Back")

    assert response.status_code == 200
    assert refund_of(response.json())["source"] == "role"


# The historic question at the edges of time -------------------------------------------------------------


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_moment_outside_the_calendar_is_400_not_500(org, api, at):
    client = api("alice")

    for query in ({"at": at}, None):
        url = "/api/v1/employees/alice/authority/"
        response = client.get(url, query) if query else client.get(f"{url}?at={at}")  # encoded, then raw
        assert response.status_code == 400, response.content
        assert "at" in response.json()


def test_a_moment_ahead_is_answered_from_what_is_scheduled(org, api):
    api("bob").put(limits_url("alice", "refund"), _window_body(24, 48), format="json")
    ahead = (timezone.now() + timedelta(hours=30)).isoformat()

    body = api("alice").get("/api/v1/employees/alice/authority/", {"at": ahead}).json()

    assert body["as_scheduled"] is True
    assert (refund_of(body)["per_decision"], refund_of(body)["source"]) == ("300.00", "personal")
    now = api("alice").get("/api/v1/employees/alice/authority/").json()
    assert now["as_scheduled"] is False and refund_of(now)["per_decision"] == "100.00"


# Not a username at all ----------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["%00", "a%00b", "%E2%80%AE", "bob%20smith"])
def test_junk_in_a_username_is_404_before_any_query(org, api, username, django_assert_max_num_queries):
    client = api("carol")

    with django_assert_max_num_queries(4):  # the caller's token and employee; nothing with the junk
        assert client.get(f"/api/v1/employees/{username}/limits/").status_code == 404
    assert client.get(f"/api/v1/employees/{username}/authority/").status_code == 404
    assert client.put(f"/api/v1/employees/{username}/limits/refund/", RAISED, format="json").status_code == 404
    assert client.delete(f"/api/v1/employees/{username}/limits/refund/?reason=x").status_code == 404


# The decision keeps both snapshots ----------------------------------------------------------------------


def test_the_decision_shows_the_makers_and_the_approvers_limits(org, api, escalated):
    api("bob").post(f"/api/v1/escalations/{escalated.pk}/approve/", {"note": "Fine"}, format="json")

    body = api("alice").get(f"/api/v1/decisions/{escalated.decision_id}/").json()

    assert body["status"] == "approved" and body["approved_by"] == "bob"
    assert body["limits_snapshot"]["per_decision"] == "100.00"
    assert body["approval_snapshot"]["per_decision"] == "500.00"
    assert body["approval_snapshot"]["authority_of"] == "bob"
