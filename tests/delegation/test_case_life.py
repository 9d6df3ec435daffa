"""A case's life (issue 12): not resolved while an escalation waits, reopened, reassigned, filtered in
the queue and the API; the note rule when approving."""

from decimal import Decimal

import pytest

from delegation.models import Decision, Escalation
from delegation.services import decision_submit, escalation_approve
from empower.errors import Conflict, InvalidInput, NotAllowed
from empower.models import AuditRecord, Case, Notification
from empower.services import case_reassign, case_reopen, case_resolve
from feedback.models import Survey

D = Decimal


@pytest.fixture
def escalate(org, django_capture_on_commit_callbacks):
    """`escalate(case)`: alice asks for a 150.00 refund on it (beyond her 100.00), routed to bob."""

    def ask(case, amount="150.00"):
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=org.alice, case=case, decision_type=org.refund, amount=amount, rationale="Sofa torn"
            )
        return Escalation.objects.get(decision=decision)

    return ask


# --- resolving while an escalation waits ---------------------------------------------------------


def test_resolving_with_a_waiting_escalation_is_refused_and_changes_nothing(org, api, make_case, escalate):
    case = make_case(org.alice)
    escalation = escalate(case)
    assert escalation.status == Escalation.Status.ASSIGNED

    response = api("alice").post(f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "Done"}, format="json")

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "pending_escalations"
    assert "withdraw" in response.json()["detail"]
    case.refresh_from_db()
    assert case.status == Case.Status.OPEN and case.resolved_by is None
    assert not Survey.objects.filter(case=case).exists()  # no survey went out
    assert not AuditRecord.objects.filter(action="case.resolved", target_id=str(case.pk)).exists()


def test_a_routing_escalation_also_holds_the_case_open(org, make_case):
    case = make_case(org.alice)
    decision_submit(employee=org.alice, case=case, decision_type=org.refund, amount="150.00", rationale="Torn")
    assert Escalation.objects.get(decision__case=case).status == Escalation.Status.ROUTING  # not yet routed
    with pytest.raises(Conflict) as refused:
        case_resolve(employee=org.alice, case=case, resolution_note="Done")
    assert refused.value.code == "pending_escalations"


@pytest.mark.parametrize("answer", ["approve", "reject", "withdraw"])
def test_once_the_escalation_is_answered_or_withdrawn_the_case_resolves(org, api, make_case, escalate, answer):
    case = make_case(org.alice)
    escalation = escalate(case)
    if answer == "withdraw":
        response = api("alice").post(f"/api/v1/escalations/{escalation.pk}/withdraw/", {}, format="json")
    else:
        response = api("bob").post(f"/api/v1/escalations/{escalation.pk}/{answer}/", {"note": "OK"}, format="json")
    assert response.status_code == 200, response.content

    response = api("alice").post(f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "Done"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "resolved"


# --- reopening -------------------------------------------------------------------------------------


def test_the_team_reopens_a_resolved_case_and_may_decide_again(org, api, make_case):
    case = make_case(org.alice)
    case_resolve(employee=org.alice, case=case, resolution_note="Sent a new kettle")
    body = {"case": case.pk, "decision_type": "refund", "amount": "20.00", "rationale": "Late fee"}
    refused = api("alice").post("/api/v1/decisions/", body, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "case_resolved"

    response = api("erin").post(f"/api/v1/cases/{case.pk}/reopen/", {"reason": "Customer called back"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "open"
    record = AuditRecord.objects.get(action="case.reopened", target_id=str(case.pk))
    assert (
        record.actor == org.erin and record.before["status"] == "resolved" and record.reason == "Customer called back"
    )
    assert api("alice").post("/api/v1/decisions/", body, format="json").status_code == 201


def test_reopening_an_open_case_is_a_conflict(org, api, make_case):
    case = make_case(org.alice)
    response = api("alice").post(f"/api/v1/cases/{case.pk}/reopen/", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "case_open"


def test_above_the_team_may_reopen_another_team_may_not(org, api, make_case):
    case = make_case(org.alice)
    case_resolve(employee=org.alice, case=case, resolution_note="Done")
    assert api("gina").post(f"/api/v1/cases/{case.pk}/reopen/", {}, format="json").status_code == 404
    assert api("hank").post(f"/api/v1/cases/{case.pk}/reopen/", {}, format="json").status_code == 404
    case.refresh_from_db()
    assert case.status == Case.Status.RESOLVED
    assert api("carol").post(f"/api/v1/cases/{case.pk}/reopen/", {}, format="json").status_code == 200


def test_the_service_refuses_someone_outside_the_team(org, make_case):
    case = make_case(org.alice)
    case_resolve(employee=org.alice, case=case, resolution_note="Done")
    with pytest.raises(NotAllowed):
        case_reopen(employee=org.gina, case=case)


def test_resolved_again_after_reopening_sends_no_second_survey(org, make_case):
    case = make_case(org.alice)
    case_resolve(employee=org.alice, case=case, resolution_note="Done")
    case_reopen(employee=org.alice, case=case)
    case_resolve(employee=org.alice, case=Case.objects.get(pk=case.pk), resolution_note="Done again")
    assert Survey.objects.filter(case=case).count() == 1


# --- the note rule -------------------------------------------------------------------------------


def test_approving_less_than_asked_needs_a_note(org, api, make_case, escalate):
    escalation = escalate(make_case(org.alice))
    url = f"/api/v1/escalations/{escalation.pk}/approve/"

    response = api("bob").post(url, {"amount": "120.00", "note": "  "}, format="json")

    assert response.status_code == 400, response.content
    assert "note" in response.json() and response.json()["detail"]
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED

    response = api("bob").post(url, {"amount": "120.00", "note": "The receipt shows 120.00"}, format="json")
    assert response.status_code == 200, response.content
    assert Decision.objects.get(pk=escalation.decision_id).final_amount == D("120.00")


def test_approving_as_asked_may_go_without_a_note(org, api, make_case, escalate):
    escalation = escalate(make_case(org.alice))
    response = api("bob").post(f"/api/v1/escalations/{escalation.pk}/approve/", {}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"


def test_rejecting_needs_a_note(org, api, make_case, escalate):
    escalation = escalate(make_case(org.alice))
    response = api("bob").post(f"/api/v1/escalations/{escalation.pk}/reject/", {"note": ""}, format="json")
    assert response.status_code == 400 and "note" in response.json()
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.ASSIGNED


def test_the_note_rule_holds_in_the_service(org, make_case, escalate):
    escalation = escalate(make_case(org.alice))
    with pytest.raises(InvalidInput) as refused:
        escalation_approve(escalation_id=escalation.pk, approver=org.bob, amount="99.00", note="")
    assert refused.value.code == "note_required"


def test_the_requester_hears_the_granted_amount_first(org, make_case, escalate):
    escalation = escalate(make_case(org.alice))
    escalation_approve(escalation_id=escalation.pk, approver=org.bob, amount="120.00", note="Receipt says 120")
    message = Notification.objects.get(recipient=org.alice, key=f"escalation:{escalation.pk}:approved").message
    assert message.startswith("Bob approved €120.00 (you asked €150.00)")


# --- reassigning ---------------------------------------------------------------------------------


def test_a_case_is_handed_to_a_colleague_of_the_team(org, api, make_case):
    case = make_case(org.alice)
    response = api("alice").post(f"/api/v1/cases/{case.pk}/reassign/", {"assigned_to": "erin"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["assigned_to"] == "erin"
    record = AuditRecord.objects.get(action="case.reassigned", target_id=str(case.pk))
    assert record.actor == org.alice and record.after == {"assigned_to": org.erin.pk}
    assert Notification.objects.filter(recipient=org.erin, url=f"/cases/{case.pk}/").exists()


def test_a_case_is_not_handed_outside_its_team(org, api, make_case):
    case = make_case(org.alice)
    response = api("alice").post(f"/api/v1/cases/{case.pk}/reassign/", {"assigned_to": "gina"}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "not_in_team"
    response = api("alice").post(f"/api/v1/cases/{case.pk}/reassign/", {"assigned_to": "nobody"}, format="json")
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.assigned_to == org.alice
    with pytest.raises(InvalidInput):
        case_reassign(employee=org.alice, case=case, assignee=org.gina)


# --- the list: state, assignee, search, pages ----------------------------------------------------


def test_cases_are_filtered_by_state_assignee_and_search(org, api, make_case, escalate):
    waiting = make_case(org.alice, email="sam.waits@example.com", subject="Sofa torn")
    escalate(waiting)
    approved = make_case(org.alice, subject="Kettle broke")
    decision_submit(employee=org.alice, case=approved, decision_type=org.refund, amount="20.00", rationale="Kettle")
    resolved = make_case(org.erin, subject="Lamp flickers")
    case_resolve(employee=org.erin, case=resolved, resolution_note="New bulb")
    client = api("alice")

    def ids(**params) -> set[int]:
        response = client.get("/api/v1/cases/", params)
        assert response.status_code == 200, response.content
        assert set(response.json()) == {"count", "next", "previous", "results"}
        return {row["id"] for row in response.json()["results"]}

    assert ids(status="waiting") == {waiting.pk}
    assert ids(status="approved") == {approved.pk}
    assert ids(status="resolved") == {resolved.pk}
    assert {waiting.pk, approved.pk} <= ids(status="open") and resolved.pk not in ids(status="open")
    assert ids(assigned_to="erin") == {resolved.pk}
    assert ids(assigned_to="me") >= {waiting.pk, approved.pk} and resolved.pk not in ids(assigned_to="me")
    assert ids(q="SAM.WAITS") == {waiting.pk}  # the customer's e-mail, any case
    assert ids(q="lamp") == {resolved.pk}  # the subject
    assert ids(q=waiting.customer.name) == {waiting.pk}  # the customer's name
    row = next(r for r in client.get("/api/v1/cases/", {"status": "waiting"}).json()["results"])
    assert row["waiting"] is True and row["follow_up_open"] is False


def test_an_unknown_state_or_sort_is_a_400(org, api):
    assert api("alice").get("/api/v1/cases/", {"status": "lost"}).status_code == 400
    assert api("alice").get("/api/v1/cases/", {"sort": "price"}).status_code == 400


def test_the_list_costs_the_same_for_3_and_30_cases(org, api, make_case, django_assert_max_num_queries):
    client = api("alice")
    client.get("/api/v1/cases/")  # warm: token, caches
    for _n in range(3):
        make_case(org.alice)
    with django_assert_max_num_queries(8) as few:
        client.get("/api/v1/cases/")
    for _n in range(27):
        make_case(org.alice)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get("/api/v1/cases/")
