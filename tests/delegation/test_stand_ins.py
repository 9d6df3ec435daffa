"""Stand-ins and escalations: who may answer, what happens when a stand-in's time ends, and the
rules for setting one up. Service, API and pages for each rule.

The usual shape: carol hands her refunds to bob; alice's 800.00 refund is beyond bob's own
authority (500.00) and within carol's (2000.00), so carol is its approver and bob, standing in
for her, holds it.
"""

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from delegation.models import Decision, DecisionType, Delegation, Escalation, EscalationStep
from delegation.selectors import authority_at, escalation_inbox, may_answer, timeline_with_stand_ins
from delegation.services import (
    authority_changes_announce,
    decision_submit,
    delegation_create,
    delegation_end,
    escalation_approve,
    escalation_reject,
)
from empower.errors import Conflict, InvalidInput, NotAllowed, NotFound
from empower.models import AuditRecord, Employee, Notification
from tests.helpers import at_once, postgresql_only, stand_in

D = Decimal
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def escalate(org, make_case, django_capture_on_commit_callbacks):
    """alice (by default) asks for a refund beyond her authority; routing runs on commit."""

    def submit(amount: str = "800.00", by: Employee | None = None) -> Escalation:
        by = by or org.alice
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=by, case=make_case(by), decision_type=org.refund, amount=D(amount), rationale="Sofa broke"
            )
        return Escalation.objects.select_related("approver__user", "assigned_to__user").get(decision=decision)

    return submit


@pytest.fixture
def login(client):
    def as_(employee: Employee):
        client.force_login(employee.user)
        return client

    return as_


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def approve_form_for(escalation: Escalation) -> str:
    return f'action="/escalations/{escalation.pk}/approve/"'


# 1. A stand-in's time ends: what they held goes back ----------------------------------------------


def test_ending_a_delegation_early_hands_its_open_escalations_back_to_the_delegator(org, escalate):
    delegation = stand_in(org, org.carol, org.bob)
    waiting = escalate()
    answered = escalate()
    escalation_approve(escalation_id=answered.pk, approver=org.bob, note="Fine")
    assert (waiting.approver, waiting.assigned_to) == (org.carol, org.bob)

    delegation_end(delegation=delegation, actor=org.carol, reason="Back early")

    waiting.refresh_from_db()
    assert waiting.status == Escalation.Status.ASSIGNED and waiting.assigned_to == org.carol
    step = waiting.steps.last()
    assert (step.reason, step.assigned_to) == (EscalationStep.Reason.STAND_IN_ENDED, org.carol)
    record = AuditRecord.objects.get(action="escalation.handed_back", target_id=str(waiting.pk))
    assert record.actor == org.carol and record.subject == org.alice
    assert (record.before, record.after) == ({"assigned_to": "bob"}, {"assigned_to": "carol"})
    told = Notification.objects.get(recipient=org.carol, key=f"escalation:{waiting.pk}:handed-back:{delegation.pk}")
    assert told.url == f"/escalations/{waiting.pk}/" and "waits for your answer" in told.message
    # What bob already answered stays as it was.
    answered.refresh_from_db()
    assert answered.status == Escalation.Status.APPROVED and answered.assigned_to == org.bob
    assert not AuditRecord.objects.filter(action="escalation.handed_back", target_id=str(answered.pk)).exists()
    # bob no longer answers for carol; carol does.
    with pytest.raises(NotAllowed):
        escalation_approve(escalation_id=waiting.pk, approver=org.bob)
    assert escalation_approve(escalation_id=waiting.pk, approver=org.carol).approved_by == org.carol


def test_a_delegation_that_ends_on_time_hands_back_once_however_often_the_task_runs(org, escalate):
    now = timezone.now()
    stand_in(org, org.carol, org.bob, ends=now + timedelta(hours=2))
    escalation = escalate()

    with time_machine.travel(now + timedelta(hours=3), tick=False):
        authority_changes_announce()
        authority_changes_announce()

    escalation.refresh_from_db()
    assert escalation.assigned_to == org.carol
    reasons = list(escalation.steps.values_list("reason", flat=True))
    assert reasons == [EscalationStep.Reason.STAND_IN, EscalationStep.Reason.STAND_IN_ENDED]
    assert AuditRecord.objects.filter(action="escalation.handed_back", target_id=str(escalation.pk)).count() == 1
    assert Notification.objects.filter(recipient=org.carol, key__contains=":handed-back:").count() == 1


def test_when_the_next_stand_in_is_already_on_duty_it_goes_to_them(org, escalate):
    now = timezone.now()
    stand_in(org, org.carol, org.bob, ends=now + timedelta(hours=2))
    stand_in(org, org.carol, org.hank, starts=now + timedelta(hours=2), ends=now + timedelta(days=1))
    escalation = escalate()
    assert escalation.assigned_to == org.bob

    with time_machine.travel(now + timedelta(hours=3), tick=False):
        authority_changes_announce()

    escalation.refresh_from_db()
    assert escalation.assigned_to == org.hank
    assert escalation.steps.last().reason == EscalationStep.Reason.STAND_IN
    assert Notification.objects.filter(recipient=org.hank, key__contains=":handed-back:").exists()


def test_ending_through_the_api_hands_back_and_the_former_stand_in_is_refused(org, api, escalate):
    delegation = stand_in(org, org.carol, org.bob)
    escalation = escalate()

    assert api("carol").post(f"/api/v1/delegations/{delegation.pk}/end/", {"reason": "Back"}).status_code == 200

    body = api("alice").get(f"/api/v1/escalations/{escalation.pk}/").json()
    assert body["assigned_to"] == "carol" and body["approver"] == "carol"
    assert [s["reason"] for s in body["steps"]] == ["stand_in", "stand_in_ended"]
    response = api("bob").post(f"/api/v1/escalations/{escalation.pk}/approve/", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "not_assignee"
    assert [e["id"] for e in api("carol").get("/api/v1/escalations/").json()["results"]] == [escalation.pk]


def test_ending_on_the_page_puts_the_answer_forms_back_in_the_delegators_inbox(org, login, escalate):
    delegation = stand_in(org, org.carol, org.bob)
    escalation = escalate()
    assert approve_form_for(escalation) in login(org.bob).get("/escalations/").content.decode()

    response = login(org.carol).post(f"/delegations/{delegation.pk}/end/", {"reason": "Back early"})

    assert response.status_code == 302
    assert approve_form_for(escalation) in login(org.carol).get("/escalations/").content.decode()
    bob = login(org.bob)
    assert approve_form_for(escalation) not in bob.get("/escalations/").content.decode()
    assert approve_form_for(escalation) not in bob.get(f"/escalations/{escalation.pk}/").content.decode()


# 2. Who may answer: the approver or their active stand-in, nobody through a chain ---------------------


def test_a_stand_in_of_the_stand_in_holds_nothing_of_the_approvers(org, api, escalate):
    stand_in(org, org.carol, org.bob)
    stand_in(org, org.bob, org.erin)  # bob's own authority only: not carol's that bob holds
    escalation = escalate()
    assert escalation.assigned_to == org.bob

    # erin may not even see it: as for anyone outside, there is no such escalation for her.
    with pytest.raises(NotFound) as refused:
        escalation_approve(escalation_id=escalation.pk, approver=org.erin, note="Chained")
    assert refused.value.code == "escalation_not_found"
    response = api("erin").post(f"/api/v1/escalations/{escalation.pk}/approve/", {"note": "x"}, format="json")
    assert response.status_code == 404
    assert escalation not in escalation_inbox(employee=org.erin)
    assert not may_answer(escalation=escalation, employee=org.erin)
    # The stand-in and the approver herself both may.
    assert may_answer(escalation=escalation, employee=org.bob)
    assert may_answer(escalation=escalation, employee=org.carol)
    assert Decision.objects.get(pk=escalation.decision_id).status == Decision.Status.ESCALATED


def test_a_stale_assignment_authorizes_nothing_once_the_window_has_closed(org, escalate):
    now = timezone.now()
    stand_in(org, org.carol, org.bob, ends=now + timedelta(hours=2))
    escalation = escalate()

    # The hand-back task has not run yet: the assignment still names bob, but his window is over.
    with time_machine.travel(now + timedelta(hours=3), tick=False):
        with pytest.raises(NotAllowed):
            escalation_reject(escalation_id=escalation.pk, approver=org.bob, note="Too late")
        assert not escalation_inbox(employee=org.bob).filter(status=Escalation.Status.ASSIGNED).exists()
        assert escalation_inbox(employee=org.carol).get().can_answer
        decision = escalation_approve(escalation_id=escalation.pk, approver=org.carol, note="Mine again")
    assert decision.approved_by == org.carol and decision.authority_of == org.carol


def test_the_requester_is_refused_even_when_standing_in_for_the_approver(org, api, escalate):
    escalation = escalate("150.00")  # bob's to answer
    stand_in(org, org.bob, org.alice)

    with pytest.raises(NotAllowed) as refused:
        escalation_approve(escalation_id=escalation.pk, approver=org.alice)
    assert refused.value.code == "own_decision"
    response = api("alice").post(f"/api/v1/escalations/{escalation.pk}/reject/", {}, format="json")
    assert response.status_code == 403 and response.json()["code"] == "own_decision"
    assert escalation not in escalation_inbox(employee=org.alice)


# 3. A stand-in who starts later sees and answers what waits, everywhere --------------------------------


def test_a_stand_in_who_starts_after_the_assignment_sees_and_answers_it_in_api_and_pages(org, api, login, escalate):
    escalation = escalate("150.00")
    assert escalation.assigned_to == org.bob
    stand_in(org, org.bob, org.erin)
    erin = api("erin")

    assert erin.get(f"/api/v1/escalations/{escalation.pk}/").status_code == 200
    assert [e["id"] for e in erin.get("/api/v1/escalations/").json()["results"]] == [escalation.pk]
    pages = login(org.erin)
    assert approve_form_for(escalation) in pages.get("/escalations/").content.decode()
    assert approve_form_for(escalation) in pages.get(f"/escalations/{escalation.pk}/").content.decode()
    # Above bob, carol sees it but it is not hers to answer; frank, not standing in, sees nothing.
    assert approve_form_for(escalation) not in login(org.carol).get(f"/escalations/{escalation.pk}/").content.decode()
    assert api("frank").get(f"/api/v1/escalations/{escalation.pk}/").status_code == 404

    response = erin.post(f"/api/v1/escalations/{escalation.pk}/approve/", {"note": "Covered"}, format="json")

    assert response.status_code == 200 and response.json()["decided_by"] == "erin"
    decision = Decision.objects.get(pk=escalation.decision_id)
    assert decision.approved_by == org.erin and decision.authority_of == org.bob


# 4. Refusals in the contract's order: 404, 403 (requester always), 409, then 400 -----------------------


@pytest.mark.parametrize(
    ("who", "action", "body", "status", "code"),
    [
        ("hank", "approve", {"amount": "abc"}, 404, "escalation_not_found"),
        ("hank", "reject", {}, 404, "escalation_not_found"),
        ("carol", "reject", {"note": ""}, 403, "not_assignee"),
        ("alice", "approve", {"amount": "-5"}, 403, "own_decision"),
        ("alice", "reject", {}, 403, "own_decision"),
        ("bob", "reject", {}, 400, None),
        ("bob", "approve", {"amount": "150.01"}, 400, None),
    ],
)
def test_who_may_answer_is_checked_before_the_body(org, api, escalate, who, action, body, status, code):
    escalation = escalate("150.00")

    response = api(who).post(f"/api/v1/escalations/{escalation.pk}/{action}/", body, format="json")

    assert response.status_code == status, response.content
    if code:
        assert response.json()["code"] == code
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED


def test_a_decided_escalation_is_409_before_the_body_and_403_to_others(org, api, escalate):
    escalation = escalate("150.00")
    bob = api("bob")
    assert bob.post(f"/api/v1/escalations/{escalation.pk}/reject/", {"note": "No"}, format="json").status_code == 200

    for action, body in (("approve", {"amount": "abc"}), ("reject", {})):
        again = bob.post(f"/api/v1/escalations/{escalation.pk}/{action}/", body, format="json")
        assert again.status_code == 409 and again.json()["code"] == "already_decided"
        assert (
            api("hank").post(f"/api/v1/escalations/{escalation.pk}/{action}/", body, format="json").status_code == 404
        )
        assert (
            api("alice").post(f"/api/v1/escalations/{escalation.pk}/{action}/", body, format="json").status_code == 403
        )
    assert bob.post("/api/v1/escalations/999999/reject/", {}, format="json").status_code == 404


@pytest.mark.parametrize("htmx", [True, False])
def test_the_pages_refuse_in_the_same_order(org, login, escalate, htmx):
    escalation = escalate("150.00")
    overlong = {"note": "x" * 5001}  # invalid for the form, but who may answer comes first
    headers = HX if htmx else {}

    outsider = login(org.hank).post(f"/escalations/{escalation.pk}/reject/", overlong, **headers)
    assert outsider.status_code == 404
    onlooker = login(org.carol).post(f"/escalations/{escalation.pk}/reject/", overlong, **headers)
    assert onlooker.status_code == 403 and "This escalation is assigned to someone else." in onlooker.content.decode()
    requester = login(org.alice).post(f"/escalations/{escalation.pk}/approve/", overlong, **headers)
    assert requester.status_code == 403 and "Nobody approves their own decision." in requester.content.decode()
    bob = login(org.bob)
    assert bob.post(f"/escalations/{escalation.pk}/reject/", overlong, **headers).status_code == 400
    bob.post(f"/escalations/{escalation.pk}/reject/", {"note": "No"}, **headers)
    decided = bob.post(f"/escalations/{escalation.pk}/approve/", overlong, **headers)
    assert decided.status_code == 409 and "This escalation is already rejected." in decided.content.decode()
    assert bob.post("/escalations/999999/approve/", overlong, **headers).status_code == 404


# 5. Setting one up: no rewritten history, one stand-in per type, only what one holds ---------------------


def test_a_start_in_the_past_is_clamped_to_now_so_history_is_not_rewritten(org, api):
    before = timezone.now()

    delegation = stand_in(org, org.carol, org.bob, starts=before - timedelta(days=1))

    assert before <= delegation.starts_at <= timezone.now()
    record = AuditRecord.objects.get(action="delegation.created", target_id=str(delegation.pk))
    assert datetime.fromisoformat(record.after["starts_at"]) == delegation.starts_at
    # An hour ago bob held nothing of carol's, and the history still says so.
    assert [line for line in authority_at(employee=org.bob, at=before - timedelta(hours=1)) if line.acting_for] == []
    body = {
        "to": "erin",
        "decision_types": ["refund"],
        "starts_at": (before - timedelta(hours=5)).isoformat(),
        "ends_at": (before + timedelta(days=1)).isoformat(),
        "reason": "Away",
    }
    response = api("bob").post("/api/v1/delegations/", body, format="json")
    assert response.status_code == 201 and response.json()["state"] == "active"
    assert datetime.fromisoformat(response.json()["starts_at"].replace("Z", "+00:00")) >= before


def test_an_overlapping_delegation_of_the_same_type_is_409_naming_the_stand_in(org, api, login):
    now = timezone.now()
    first = stand_in(org, org.carol, org.bob, ends=now + timedelta(days=2))

    with pytest.raises(Conflict) as refused:
        stand_in(org, org.carol, org.hank, starts=now + timedelta(days=1), ends=now + timedelta(days=3))
    assert refused.value.code == "delegation_overlaps" and "Bob already stands in for Carol" in refused.value.message
    body = {"to": "hank", "decision_types": ["goodwill_credit", "refund"], "reason": "Away"}
    body["ends_at"] = (now + timedelta(days=1)).isoformat()
    response = api("carol").post("/api/v1/delegations/", body, format="json")
    assert response.status_code == 409 and "Bob already stands in for Carol" in response.json()["detail"]
    page = login(org.carol).post(
        "/delegations/",
        {
            "to": "hank",
            "decision_types": ["refund"],
            "ends_at": (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "Away",
        },
    )
    assert page.status_code == 409 and "Bob already stands in for Carol" in text(page)
    assert list(Delegation.objects.all()) == [first]

    # Another type, a later window, or after ending the first early: all fine.
    stand_in(org, org.carol, org.hank, types=[org.goodwill])
    stand_in(org, org.carol, org.hank, starts=now + timedelta(days=2), ends=now + timedelta(days=3))
    delegation_end(delegation=first, actor=org.carol)
    stand_in(org, org.carol, org.dan, ends=now + timedelta(hours=5))
    assert Delegation.objects.count() == 4


def test_a_type_the_delegator_holds_no_authority_for_is_refused(org, api):
    DecisionType.objects.create(code="loyalty_points", name="Loyalty points")  # no limits for anyone
    body = {"to": "bob", "decision_types": ["refund", "loyalty_points"], "reason": "Away"}
    body["ends_at"] = (timezone.now() + timedelta(days=1)).isoformat()

    response = api("carol").post("/api/v1/delegations/", body, format="json")

    assert response.status_code == 400
    assert "Carol holds no authority for Loyalty points" in response.json()["decision_types"][0]
    assert not Delegation.objects.exists()
    with pytest.raises(InvalidInput):
        stand_in(org, org.carol, org.bob, types=[DecisionType.objects.get(code="loyalty_points")])


@postgresql_only("row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_simultaneous_set_ups_for_the_same_type_create_exactly_one(tmp_path):
    call_command("seed_demo", password="pw-stand-ins", stdout=open(tmp_path / "seed.log", "w"))  # noqa: SIM115
    people = {e.username: e for e in Employee.objects.select_related("user", "role")}
    refund = DecisionType.objects.get(code="refund")
    delegates = [people[name] for name in ("bob", "hank", "dan", "gina")]

    def set_up(delegate) -> str:
        now = timezone.now()
        try:
            delegation_create(
                delegator=people["carol"],
                delegate=delegate,
                decision_types=[refund],
                starts_at=now,
                ends_at=now + timedelta(days=1),
                reason="Holiday",
            )
        except Conflict:
            return "conflict"
        return "created"

    outcomes = at_once([lambda delegate=delegate: set_up(delegate) for delegate in delegates])

    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "created"]
    assert Delegation.objects.filter(delegator=people["carol"]).count() == 1


# 6. Everyone sees who holds it for whom ------------------------------------------------------------------


def test_the_case_and_escalation_pages_say_who_stands_in_for_whom(org, login, escalate):
    stand_in(org, org.carol, org.bob)
    escalation = escalate()

    case_page = text(login(org.alice).get(f"/cases/{escalation.decision.case_id}/"))
    assert "waiting for Bob (standing in for Carol)" in case_page
    detail = text(login(org.bob).get(f"/escalations/{escalation.pk}/"))
    assert "Assigned to Bob (standing in for Carol)" in detail
    assert "Bob (standing in for Carol)" in text(login(org.bob).get("/escalations/"))


def test_without_a_stand_in_the_pages_name_the_approver_alone(org, login, escalate):
    escalation = escalate("150.00")

    case_page = text(login(org.alice).get(f"/cases/{escalation.decision.case_id}/"))
    assert "waiting for Bob," in case_page and "standing in" not in case_page
    assert "Assigned to Bob Why it came to you" in text(login(org.bob).get(f"/escalations/{escalation.pk}/"))


# 7. A stand-in's own history shows what they hold ---------------------------------------------------------


def test_a_stand_ins_history_shows_the_delegations_they_hold(org, login):
    delegation = stand_in(org, org.carol, org.bob)
    record = AuditRecord.objects.get(action="delegation.created", target_id=str(delegation.pk))

    assert record in timeline_with_stand_ins(employee=org.bob)
    assert record in timeline_with_stand_ins(employee=org.carol)
    assert record not in timeline_with_stand_ins(employee=org.alice)
    page = login(org.bob).get("/employees/bob/authority/")
    assert page.status_code == 200 and f'id="record-{record.pk}"' in page.content.decode()
    assert "Stand-in set up" in text(page)
