"""The wow budget: a decision type like any other (caps, escalation, audit), but it needs its story."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from delegation.models import AuthorityLimit, Decision, DecisionType
from delegation.services import decision_submit
from empower.errors import InvalidInput
from empower.models import AuditRecord, Employee
from empower.services import case_open
from tests.helpers import at_once


@pytest.fixture
def wow(org):
    return org.types["wow"]


def test_seed_gives_each_role_the_contracts_wow_caps(org, wow):
    caps = {
        row.role.code: (row.per_decision, row.per_day, row.per_month, row.per_customer_month)
        for row in AuthorityLimit.objects.filter(decision_type=wow, role__isnull=False).select_related("role")
    }
    D = Decimal
    assert caps == {
        "agent": (D("50.00"), None, D("300.00"), D("100.00")),
        "team_lead": (D("200.00"), None, D("1500.00"), D("400.00")),
        "manager": (D("1000.00"), None, D("10000.00"), D("2000.00")),
        "director": (None, None, None, None),
    }


def test_seed_demo_twice_adds_no_second_wow_type_or_limit(org, wow, tmp_path):
    before = AuthorityLimit.objects.count()
    call_command("seed_demo", password="pw", stdout=open(tmp_path / "log", "w"))  # noqa: SIM115
    assert DecisionType.objects.filter(code="wow").count() == 1
    assert AuthorityLimit.objects.count() == before


@pytest.mark.parametrize("story", ["", "   \n ", None])
def test_a_wow_gesture_without_a_story_is_refused_and_changes_nothing(org, wow, make_case, story):
    case = make_case()
    with pytest.raises(InvalidInput) as refused:
        decision_submit(employee=org.alice, case=case, decision_type=wow, amount="30.00", rationale="Late", story=story)
    assert "story" in refused.value.field_errors
    assert not Decision.objects.filter(case=case).exists()


def test_a_wow_gesture_with_its_story_is_approved_within_the_budget_and_audited(org, wow, make_case):
    case = make_case()
    decision = decision_submit(
        employee=org.alice,
        case=case,
        decision_type=wow,
        amount="40.00",
        rationale="Birthday parcel lost",
        story="  Her daughter's birthday gift was lost; I sent flowers with the replacement.  ",
    )
    assert decision.status == Decision.Status.APPROVED
    decision.refresh_from_db()
    assert decision.story == "Her daughter's birthday gift was lost; I sent flowers with the replacement."
    assert AuditRecord.objects.filter(action="decision.approved", target_id=str(decision.pk)).exists()


def test_other_types_need_no_story(org, make_case):
    decision = decision_submit(
        employee=org.alice, case=make_case(), decision_type=org.refund, amount="10.00", rationale="Late"
    )
    assert decision.status == Decision.Status.APPROVED and decision.story == ""


def test_a_gesture_beyond_the_wow_caps_is_escalated_like_any_type(
    org, wow, make_case, django_capture_on_commit_callbacks
):
    case = make_case()
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice, case=case, decision_type=wow, amount="60.00", rationale="Big", story="Flowers"
        )
    assert decision.status == Decision.Status.ESCALATED
    assert decision.exceeded == ["per_decision"]
    decision.escalation.refresh_from_db()
    assert decision.escalation.assigned_to == org.bob  # bob's wow authority (200.00) covers it


def test_the_customer_cap_counts_every_gesture_for_that_customer(org, wow, make_case):
    first = make_case(email="same@example.com")
    second = make_case(email="same@example.com")
    for case in (first, second):
        decision_submit(employee=org.alice, case=case, decision_type=wow, amount="50.00", rationale="r", story="s")
    third = decision_submit(employee=org.erin, case=second, decision_type=wow, amount="0.01", rationale="r", story="s")
    assert third.exceeded == ["per_customer_month"]


# --- the API ------------------------------------------------------------------------------------


def test_api_refuses_a_wow_gesture_without_story_with_a_field_error(org, api, make_case):
    case = make_case()
    body = {"case": case.pk, "decision_type": "wow", "amount": "20.00", "rationale": "Lost parcel"}
    response = api("alice").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 400
    assert response.json()["story"] == ["Tell the story: what the customer needed and what you did."]
    assert not Decision.objects.filter(case=case).exists()
    response = api("alice").post("/api/v1/decisions/", {**body, "story": "Sent a handwritten card"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "approved" and response.json()["story"] == "Sent a handwritten card"


def test_me_authority_lists_the_wow_budget_like_any_type(org, api, wow, make_case):
    decision_submit(employee=org.alice, case=make_case(), decision_type=wow, amount="45.00", rationale="r", story="s")
    lines = {line["decision_type"]: line for line in api("alice").get("/api/v1/me/authority/").json()["limits"]}
    assert lines["wow"]["per_decision"] == "50.00"
    assert lines["wow"]["per_month"] == "300.00"
    assert lines["wow"]["used_this_month"] == "45.00"
    assert lines["wow"]["remaining_this_month"] == "255.00"
    assert lines["wow"]["per_customer_month"] == "100.00"


def test_case_page_shows_the_story_field_and_the_remaining_wow_budget(org, client, make_case, wow):
    case = make_case()
    decision_submit(
        employee=org.alice, case=case, decision_type=wow, amount="20.00", rationale="r", story="Sent a handwritten card"
    )
    client.force_login(org.alice.user)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert 'name="story"' in page and "Sent a handwritten card" in page
    assert 'id="wow-budget"' in page and "280.00" in page


def test_case_page_refuses_a_wow_gesture_without_story_on_the_field(org, client, make_case):
    case = make_case()
    client.force_login(org.alice.user)
    response = client.post(
        f"/cases/{case.pk}/", {"decision_type": "wow", "amount": "20.00", "rationale": "Late", "story": ""}
    )
    assert response.status_code == 400
    assert "Tell the story" in response.content.decode()
    assert not Decision.objects.filter(case=case).exists()


# --- under concurrency --------------------------------------------------------------------------

SUBMISSIONS = 12


@pytest.mark.django_db(transaction=True)
def test_twelve_simultaneous_gestures_against_the_monthly_wow_budget_approve_exactly_six(tmp_path):
    call_command("seed_demo", password="pw-wow", stdout=open(tmp_path / "seed.log", "w"))  # noqa: SIM115
    alice = Employee.objects.get(user__username="alice")
    wow = DecisionType.objects.get(code="wow")
    # alice's wow budget is 300.00 a month: 50.00 at a time fits exactly six times (one customer each).
    cases = [
        case_open(employee=alice, customer_name=f"W {i}", customer_email=f"w{i}@example.com", subject="Wow")
        for i in range(SUBMISSIONS)
    ]

    def submit(case):
        return decision_submit(
            employee=alice,
            case=case,
            decision_type=wow,
            amount=Decimal("50.00"),
            rationale="Went beyond",
            story="Flowers for a lost birthday parcel",
        ).status

    outcomes = at_once([lambda case=case: submit(case) for case in cases])

    assert outcomes.count(Decision.Status.APPROVED) == 6
    assert outcomes.count(Decision.Status.ESCALATED) == SUBMISSIONS - 6
    approved = Decision.objects.filter(decision_type=wow, status=Decision.Status.APPROVED, made_by=alice)
    assert sum(d.final_amount for d in approved) == Decimal("300.00")
