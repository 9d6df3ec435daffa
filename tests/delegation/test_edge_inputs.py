"""One parser per kind of input at the edges: the API and the pages answer the same bad input in the
same words (money through `delegation.services.validate_amount`, moments through `empower.fields`)."""

import re
from decimal import Decimal
from html import unescape

import pytest

from delegation.models import AuthorityLimit, Decision
from delegation.services import decision_submit, validate_amount
from empower.errors import InvalidInput
from empower.fields import MOMENT_INVALID

HX = {"HTTP_HX_REQUEST": "true"}
BAD_AMOUNTS = ["10.555", "-20", "abc", "0"]
RAISED = {
    "per_decision": "300.00",
    "per_day": "900.00",
    "per_month": "5000.00",
    "per_customer_month": "600.00",
    "reason": "Trusted with bigger refunds",
}


@pytest.fixture
def page(client):
    def as_(employee):
        client.force_login(employee.user)
        return client

    return as_


def parser_says(raw: str) -> str:
    with pytest.raises(InvalidInput) as refused:
        validate_amount(raw)
    return str(refused.value.message)


def field_error(response, field_id: str) -> str:
    """The error shown beside a page's field."""
    match = re.search(rf'<ul class="errorlist" id="{field_id}_error"><li>(.*?)</li>', response.content.decode())
    assert match, response.content.decode()[:2000]
    return unescape(match.group(1))


@pytest.fixture
def escalated(org, make_case, django_capture_on_commit_callbacks):
    """alice's refund of 150.00, beyond her authority, routed to bob."""
    with django_capture_on_commit_callbacks(execute=True):
        decision = decision_submit(
            employee=org.alice,
            case=make_case(org.alice),
            decision_type=org.refund,
            amount=Decimal("150.00"),
            rationale="Two kettles",
        )
    return decision.escalation


# Money -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_a_bad_decision_amount_reads_the_same_on_the_api_and_the_page(org, api, page, make_case, amount):
    case = make_case(org.alice)
    body = {"case": case.pk, "decision_type": "refund", "amount": amount, "rationale": "Kettle arrived broken"}

    from_api = api("alice").post("/api/v1/decisions/", body, format="json")
    from_page = page(org.alice).post(f"/cases/{case.pk}/", body, **HX)

    assert from_api.status_code == 400 and from_page.status_code == 400
    assert from_api.json()["amount"] == [parser_says(amount)]
    assert field_error(from_page, "id_amount") == parser_says(amount)
    assert not Decision.objects.exists()


def test_a_missing_decision_amount_says_what_an_amount_looks_like(org, api, make_case):
    body = {"case": make_case(org.alice).pk, "decision_type": "refund", "rationale": "x"}

    response = api("alice").post("/api/v1/decisions/", body, format="json")

    assert response.status_code == 400
    assert response.json()["amount"] == [parser_says("")]


@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_a_bad_approved_amount_reads_the_same_on_the_api_and_the_page(org, api, page, escalated, amount):
    body = {"amount": amount, "note": "Half now"}

    from_api = api("bob").post(f"/api/v1/escalations/{escalated.pk}/approve/", body, format="json")
    from_page = page(org.bob).post(f"/escalations/{escalated.pk}/approve/", body, **HX)

    assert from_api.status_code == 400 and from_page.status_code == 400
    assert from_api.json()["amount"] == [parser_says(amount)]
    assert field_error(from_page, f"approve-{escalated.pk}-amount") == parser_says(amount)
    escalated.refresh_from_db()
    assert escalated.status == "assigned"


def test_an_empty_approved_amount_approves_as_asked_on_both(org, api, escalated):
    response = api("bob").post(f"/api/v1/escalations/{escalated.pk}/approve/", {"amount": ""}, format="json")

    assert response.status_code == 200
    assert response.json()["final_amount"] == "150.00"


@pytest.mark.parametrize("cap", ["per_decision", "per_day", "per_month", "per_customer_month"])
@pytest.mark.parametrize("amount", ["10.555", "-20", "abc"])
def test_a_bad_limit_reads_the_same_on_the_api_and_the_page(org, api, page, cap, amount):
    body = RAISED | {cap: amount}

    from_api = api("bob").put("/api/v1/employees/alice/limits/refund/", body, format="json")
    from_page = page(org.bob).post("/authority/people/alice/refund/edit/", body, **HX)

    assert from_api.status_code == 400 and from_page.status_code == 400
    (message,) = from_api.json()[cap]
    assert field_error(from_page, f"limit-{org.alice.pk}-{cap}") == message
    assert not AuthorityLimit.objects.filter(employee=org.alice).exists()


def test_a_zero_limit_is_no_authority_on_both(org, api, page):
    body = RAISED | {"per_decision": "0"}

    assert api("bob").put("/api/v1/employees/alice/limits/refund/", body, format="json").status_code == 200
    assert page(org.bob).post("/authority/people/alice/refund/edit/", body, **HX).status_code == 200
    assert AuthorityLimit.objects.get(employee=org.alice).per_decision == Decimal("0.00")


# Moments -----------------------------------------------------------------------------------------


OUTSIDE = [
    "0001-01-01T00:00:00+05:00",  # before year 1 in UTC
    "9999-12-31T23:00:00-05:00",  # after year 9999 in UTC
    "2026-11-17T14:05:00+25:00",  # no such offset
    "2026-02-30T10:00",  # no such day
    "not a moment",
]


@pytest.mark.parametrize("moment", OUTSIDE)
def test_a_moment_outside_the_calendar_reads_the_same_on_the_api_and_the_history_page(org, api, page, moment):
    from_api = api("bob").get("/api/v1/employees/alice/authority/", {"at": moment})
    from_page = page(org.bob).get("/employees/alice/authority/", {"at": moment})

    assert from_api.status_code == 400 and from_page.status_code == 400
    assert from_api.json()["at"] == [str(MOMENT_INVALID)]
    assert field_error(from_page, "moment-at") == str(MOMENT_INVALID)


@pytest.mark.parametrize("moment", OUTSIDE)
def test_a_bad_window_reads_the_same_on_the_api_and_the_page(org, api, page, moment):
    body = RAISED | {"starts_at": moment, "ends_at": "2999-01-01T10:00"}

    from_api = api("bob").put("/api/v1/employees/alice/limits/refund/", body, format="json")
    from_page = page(org.bob).post("/authority/people/alice/refund/edit/", body, **HX)

    assert from_api.status_code == 400 and from_page.status_code == 400
    assert from_api.json()["starts_at"] == [str(MOMENT_INVALID)]
    assert field_error(from_page, f"limit-{org.alice.pk}-starts_at") == str(MOMENT_INVALID)
    assert not AuthorityLimit.objects.filter(employee=org.alice).exists()


def test_a_bad_stand_in_window_reads_the_same_on_the_api_and_the_page(org, api, page):
    body = {"to": "erin", "decision_types": ["refund"], "ends_at": OUTSIDE[0], "reason": "Holiday"}

    from_api = api("alice").post("/api/v1/delegations/", body, format="json")
    from_page = page(org.alice).post("/delegations/", body)

    assert from_api.status_code == 400 and from_page.status_code == 400
    assert from_api.json()["ends_at"] == [str(MOMENT_INVALID)]
    assert field_error(from_page, "id_ends_at") == str(MOMENT_INVALID)
