"""'You said, we did': accepting a friction report names the change; a limit is applied from the report
through the granting rules (or linked to the change that did it); the reporter and those who seconded
are told; a promise with no change after 14 days shows, and is counted, as not yet done."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from delegation.models import AuthorityLimit, Decision
from delegation.services import decision_submit, limit_set
from empower.errors import InvalidInput, NotAllowed
from empower.models import AuditRecord
from feedback import selectors, services
from feedback.models import FrictionReport
from feedback.services import ChangeInput


def test_accepting_without_naming_a_change_is_refused_and_changes_nothing(org, report):
    filed = report()
    with pytest.raises(InvalidInput) as refused:
        services.friction_report_answer(report_id=filed.pk, employee=org.bob, outcome="accept", note="Yes")
    assert "change" in refused.value.field_errors
    filed.refresh_from_db()
    assert filed.status == "open" and filed.answer == ""


def test_a_limit_change_applied_from_the_report_judges_alices_next_decision(org, report, make_case):
    filed = report()
    services.friction_report_second(report_id=filed.pk, employee=org.erin)
    change = ChangeInput(kind="limit", employee=org.alice, values={"per_decision": "150.00"}, text="Refunds to 150")
    services.friction_report_answer(
        report_id=filed.pk, employee=org.bob, outcome="accept", note="Agreed", change=change
    )
    filed.refresh_from_db()
    assert filed.status == "accepted"
    assert (filed.change_kind, filed.change_decision_type, filed.change_employee) == ("limit", org.refund, org.alice)
    assert filed.change_values == {"per_decision": "150.00"} and filed.change_done_by == org.bob
    limit = AuthorityLimit.objects.get(employee=org.alice, decision_type=org.refund, ends_at__isnull=True)
    assert limit.per_decision == Decimal("150.00") and limit.set_by == org.bob
    assert filed.change_record.target_id == str(limit.pk)
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount="140.00", rationale="Broken twice"
    )
    assert decision.status == Decision.Status.APPROVED
    for person in (org.alice, org.erin):
        assert person.notifications.filter(key=f"friction:{filed.pk}:changed").count() == 1
    assert not selectors.promises_overdue([org.alice.team_id], now=timezone.now() + timedelta(days=30)).exists()


def test_the_granting_rules_refuse_the_whole_answer(org, report):
    filed = report()
    # bob may refund 500.00 per decision: he cannot grant alice 900.00.
    change = ChangeInput(kind="limit", employee=org.alice, values={"per_decision": "900.00"})
    with pytest.raises(NotAllowed):
        services.friction_report_answer(
            report_id=filed.pk, employee=org.bob, outcome="accept", note="Yes", change=change
        )
    filed.refresh_from_db()
    assert filed.status == "open"
    assert not AuthorityLimit.objects.filter(employee=org.alice, decision_type=org.refund).exists()


def test_a_role_default_change_keeps_the_caps_not_named(org, report):
    filed = report()
    agent = org.alice.role
    change = ChangeInput(kind="role_default", role=agent, values={"per_decision": "120.00"})
    services.friction_report_answer(
        report_id=filed.pk, employee=org.carol, outcome="accept", note="All agents", change=change
    )
    limit = AuthorityLimit.objects.get(role=agent, decision_type=org.refund)
    assert (limit.per_decision, limit.per_day, limit.per_month) == (
        Decimal("120.00"),
        Decimal("300.00"),
        Decimal("2000.00"),
    )


def test_a_policy_is_done_when_written_and_needs_its_text(org, report):
    filed = report()
    with pytest.raises(InvalidInput) as refused:
        services.friction_report_answer(
            report_id=filed.pk, employee=org.bob, outcome="accept", note="Yes", change=ChangeInput(kind="policy")
        )
    assert "change_text" in refused.value.field_errors
    change = ChangeInput(kind="policy", text="Refunds for lost parcels no longer need a photo.")
    services.friction_report_answer(report_id=filed.pk, employee=org.bob, outcome="accept", note="Yes", change=change)
    filed.refresh_from_db()
    assert filed.change_done_at is not None and filed.change_text.startswith("Refunds for lost parcels")
    assert [r.pk for r in selectors.changed_because_you_told_us(employee=org.alice)] == [filed.pk]


def test_a_promise_not_kept_in_14_days_is_overdue_for_the_manager_and_above_and_counted(org, report):
    start = timezone.now()
    filed = report()
    change = ChangeInput(kind="limit", employee=org.alice, text="I will raise it after the sale")
    services.friction_report_answer(report_id=filed.pk, employee=org.bob, outcome="accept", note="Later", change=change)
    filed.refresh_from_db()
    assert filed.change_done_at is None
    team = [org.alice.team_id]
    with time_machine.travel(start + timedelta(days=13, hours=23)):
        assert not selectors.promises_overdue(team).exists()
        assert not filed.is_promise_overdue()
    with time_machine.travel(start + timedelta(days=14, minutes=5)):
        assert selectors.promises_overdue(team).count() == 1
        assert filed.is_promise_overdue()
        assert [r.pk for r in selectors.promises_overdue_for(employee=org.bob)] == [filed.pk]
        assert [r.pk for r in selectors.promises_overdue_for(employee=org.carol)] == [filed.pk]
        assert not selectors.promises_overdue_for(employee=org.hank).exists()
        assert not selectors.promises_overdue([org.gina.team_id]).exists()
        # Keeping it: linking the limit change that did it.
        limit_set(
            granter=org.bob, employee=org.alice, decision_type=org.refund, values={"per_decision": "130.00"}, reason="x"
        )
        record = AuditRecord.objects.filter(action__startswith="limit.").latest("id")
        with pytest.raises(NotAllowed):
            services.friction_report_change(
                report_id=filed.pk, employee=org.erin, change=ChangeInput(record_id=record.pk)
            )
        services.friction_report_change(report_id=filed.pk, employee=org.carol, change=ChangeInput(record_id=record.pk))
        assert not selectors.promises_overdue(team).exists()
    filed.refresh_from_db()
    assert filed.change_record == record and filed.change_done_by == org.carol
    assert org.alice.notifications.filter(key=f"friction:{filed.pk}:changed").exists()


def test_linking_a_change_of_another_limit_is_refused(org, report):
    filed = report()
    limit_set(
        granter=org.bob, employee=org.erin, decision_type=org.refund, values={"per_decision": "130.00"}, reason="x"
    )
    other = AuditRecord.objects.filter(action__startswith="limit.").latest("id")
    change = ChangeInput(kind="limit", employee=org.alice, record_id=other.pk)
    with pytest.raises(InvalidInput) as refused:
        services.friction_report_answer(report_id=filed.pk, employee=org.bob, outcome="accept", note="x", change=change)
    assert "change_record" in refused.value.field_errors


# --- the API ----------------------------------------------------------------------------------------


def test_api_accept_needs_a_change_and_shows_the_link(org, api, report):
    filed = report()
    url = f"/api/v1/friction-reports/{filed.pk}/answer/"
    response = api("bob").post(url, {"outcome": "accept", "note": "Yes"}, format="json")
    assert response.status_code == 400 and "change" in response.json()
    body = {
        "outcome": "accept",
        "note": "Yes",
        "change": "limit",
        "change_employee": "alice",
        "per_decision": "150.00",
        "change_text": "Refunds up to 150",
    }
    response = api("bob").post(url, body, format="json")
    assert response.status_code == 200, response.content
    change = response.json()["change"]
    assert change["kind"] == "limit" and change["employee"] == "alice" and change["decision_type"] == "refund"
    assert change["values"] == {"per_decision": "150.00"} and change["record"] is not None
    assert change["done_by"] == "bob" and response.json()["promised_not_done"] is False
    seen = api("alice").get(f"/api/v1/friction-reports/{filed.pk}/").json()
    assert seen["change"]["record"] == change["record"]
    lines = {line["decision_type"]: line for line in api("alice").get("/api/v1/me/authority/").json()["limits"]}
    assert lines["refund"]["per_decision"] == "150.00"


def test_api_explain_and_pass_up_still_need_no_change(org, api, report):
    filed = report()
    response = api("bob").post(
        f"/api/v1/friction-reports/{filed.pk}/answer/", {"outcome": "explain", "note": "Fraud risk"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "explained"
    assert response.json()["change"] is None


def test_api_records_a_promised_change_later(org, api, report):
    filed = report()
    api("bob").post(
        f"/api/v1/friction-reports/{filed.pk}/answer/",
        {"outcome": "accept", "note": "Soon", "change": "limit", "change_employee": "alice"},
        format="json",
    )
    url = f"/api/v1/friction-reports/{filed.pk}/change/"
    assert api("erin").post(url, {"per_decision": "120.00"}, format="json").status_code == 403
    assert api("bob").post(url, {}, format="json").status_code == 400
    response = api("bob").post(url, {"per_decision": "120.00"}, format="json")
    assert response.status_code == 200 and response.json()["change"]["done_by"] == "bob"
    assert api("bob").post(url, {"per_decision": "125.00"}, format="json").status_code == 409


def test_board_shows_the_history_and_the_overdue_promises(org, client, report):
    kept, promised = report(), report()
    services.friction_report_answer(
        report_id=kept.pk,
        employee=org.bob,
        outcome="accept",
        note="Yes",
        change=ChangeInput(kind="policy", text="No photo needed for lost parcels"),
    )
    services.friction_report_answer(
        report_id=promised.pk,
        employee=org.bob,
        outcome="accept",
        note="Soon",
        change=ChangeInput(kind="limit", employee=org.alice),
    )
    FrictionReport.objects.filter(pk=promised.pk).update(answered_at=timezone.now() - timedelta(days=15))
    client.force_login(org.bob.user)
    page = client.get("/feedback/reports/").content.decode()
    assert "Changed because you told us" in page and "No photo needed for lost parcels" in page
    assert "Promised, not yet done" in page and f"/feedback/reports/{promised.pk}/" in page
    client.force_login(org.alice.user)
    page = client.get("/feedback/reports/").content.decode()
    assert "No photo needed for lost parcels" in page
    assert 'id="promises"' not in page  # the manager and those above see the promises
