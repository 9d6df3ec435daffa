"""The follow-up's remedy: a decision on the resolved case through the same authority check, caps and
escalation as any decision, by whoever may reply to the follow-up, without a second survey."""

from decimal import Decimal

import pytest

from delegation.models import Decision, Escalation
from empower.errors import NotAllowed
from empower.models import AuditRecord, Case
from feedback import services
from feedback.models import FollowUp, Survey


@pytest.fixture
def follow_up(resolve, org):
    """Alice resolved a case; the customer scored 1: a follow-up for alice."""
    survey = resolve(org.alice)
    services.survey_answer(survey_id=survey.pk, csat=1, comment="Still broken")
    return FollowUp.objects.select_related("case").get(survey=survey)


def remedy(client, follow_up, amount="40.00", rationale="Refund the delivery fee"):
    body = {"decision_type": "refund", "amount": amount, "rationale": rationale}
    return client.post(f"/api/v1/follow-ups/{follow_up.pk}/remedy/", body, format="json")


def test_the_handler_records_a_remedy_within_authority(org, api, follow_up, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = remedy(api("alice"), follow_up)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "approved" and body["within_authority"] is True and body["case"] == follow_up.case_id
    decision = Decision.objects.get(pk=body["id"])
    assert decision.final_amount == Decimal("40.00")
    case = Case.objects.get(pk=follow_up.case_id)
    assert case.status == Case.Status.RESOLVED  # still resolved
    assert Survey.objects.filter(case=case).count() == 1  # no second survey
    assert AuditRecord.objects.filter(action="follow_up.remedy", target_id=str(follow_up.pk)).exists()


def test_a_remedy_beyond_authority_is_escalated_as_any_decision(
    org, api, follow_up, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = remedy(api("alice"), follow_up, amount="150.00")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "escalated" and body["exceeded"] == ["per_decision"]
    assert Escalation.objects.get(decision_id=body["id"]).assigned_to == org.bob


def test_a_remedy_counts_on_the_customer_cap(org, api, follow_up, django_capture_on_commit_callbacks):
    client = api("alice")
    with django_capture_on_commit_callbacks(execute=True):
        assert remedy(client, follow_up, amount="100.00").json()["status"] == "approved"
        assert remedy(client, follow_up, amount="100.00", rationale="Again").json()["status"] == "approved"
        third = remedy(client, follow_up, amount="10.00", rationale="Once more").json()
    assert third["status"] == "escalated" and "per_customer_month" in third["exceeded"]


def test_only_who_may_reply_records_a_remedy(org, api, follow_up):
    assert remedy(api("erin"), follow_up).status_code in (403, 404)
    assert remedy(api("gina"), follow_up).status_code == 404
    assert not Decision.objects.filter(case_id=follow_up.case_id).exists()
    with pytest.raises(NotAllowed):
        services.follow_up_remedy(
            follow_up_id=follow_up.pk, employee=org.erin, decision_type=org.refund, amount="5.00", rationale="x"
        )


def test_no_remedy_on_a_closed_follow_up(org, api, follow_up):
    services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="Called", reply="Sorry")
    response = remedy(api("alice"), follow_up)
    assert response.status_code == 409
    assert not Decision.objects.filter(case_id=follow_up.case_id).exists()


def test_bad_input_is_a_400_and_changes_nothing(org, api, follow_up):
    assert remedy(api("alice"), follow_up, amount="-20").status_code == 400
    assert remedy(api("alice"), follow_up, rationale="").status_code == 400
    assert not Decision.objects.filter(case_id=follow_up.case_id).exists()
