"""The organization's REST API: tokens, who am I, cases and who may see them."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from empower.models import ApiToken, Case, Customer
from empower.services import case_resolve
from empower.tokens import token_digest
from tests.conftest import PASSWORD

NEW_CASE = {
    "customer": {"name": "Jo Customer", "email": "jo@example.com", "language": "pl"},
    "subject": "Kettle broke after a week",
    "description": "Wants a refund.",
}


# --- authentication ------------------------------------------------------------------------------


def test_a_token_for_good_credentials_authenticates_later_calls(org):
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert ApiToken.objects.get(user=org.alice.user).digest == token_digest(token)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").json()["username"] == "alice"
    # Asking again issues another token (each client revokes its own); the first still works.
    again = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert again.json()["token"] != token and ApiToken.objects.filter(user=org.alice.user).count() == 2
    assert client.get("/api/v1/me/").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"username": "alice", "password": "wrong"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "alice"},
        {},
    ],
)
def test_bad_credentials_get_400_and_no_token(org, body):
    response = APIClient().post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()


def test_an_inactive_user_gets_no_token(org):
    org.alice.user.is_active = False
    org.alice.user.save()
    response = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("path", ["/api/v1/me/", "/api/v1/me/authority/", "/api/v1/cases/", "/api/v1/escalations/"])
def test_no_credentials_get_401(org, path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_wrong_token_gets_401(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/me/").status_code == 401


def test_the_browser_session_works_too(org, client):
    client.force_login(org.bob.user)
    response = client.get("/api/v1/me/")
    assert response.status_code == 200 and response.json()["username"] == "bob"


# --- who am I -------------------------------------------------------------------------------------


def test_me_names_role_team_manager_and_language(org, api):
    response = api("alice").get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert {k: body[k] for k in ("username", "role", "team", "manager", "language")} == {
        "username": "alice",
        "role": "agent",
        "team": "Customer Care",
        "manager": "bob",
        "language": "en",
    }


def test_the_director_has_no_manager(org, api):
    body = api("dan").get("/api/v1/me/").json()
    assert body["role"] == "director" and body["team"] == "Operations" and body["manager"] is None


def test_an_account_without_an_employee_record_gets_a_clear_403(org, api):
    client = api("admin")  # the superuser has a login but is not an employee
    for path in ("/api/v1/me/", "/api/v1/me/authority/", "/api/v1/cases/", "/api/v1/escalations/"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert response.json()["code"] == "not_an_employee"
    response = client.post("/api/v1/cases/", NEW_CASE, format="json")
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_errors_speak_the_employees_language(org, api):
    org.alice.language = "pl"
    org.alice.save()
    response = api("alice").post("/api/v1/cases/", {}, format="json")
    assert response.status_code == 400
    assert response["Content-Language"] == "pl"
    assert response.json()["subject"] == ["To pole jest wymagane."]


# --- cases ----------------------------------------------------------------------------------------


def test_opening_a_case_assigns_it_to_the_creator_in_their_team(org, api):
    response = api("alice").post("/api/v1/cases/", NEW_CASE, format="json")
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get()
    assert body["id"] == case.pk and response["Location"] == f"/api/v1/cases/{case.pk}/"
    assert body["status"] == "open" and body["assigned_to"] == "alice" and body["team"] == "Customer Care"
    assert body["subject"] == "Kettle broke after a week"
    assert body["customer"] == {
        "id": case.customer_id,
        "name": "Jo Customer",
        "email": "jo@example.com",
        "language": "pl",
    }
    assert case.assigned_to == org.alice and case.created_by == org.alice and case.team.name == "Customer Care"


def test_the_customer_is_found_again_by_email_whatever_its_case(org, api):
    client = api("alice")
    first = client.post("/api/v1/cases/", NEW_CASE, format="json").json()
    again = NEW_CASE | {"customer": {"name": "Jo C.", "email": "  JO@Example.COM "}, "subject": "Second kettle"}
    second = client.post("/api/v1/cases/", again, format="json")
    assert second.status_code == 201
    assert second.json()["customer"]["id"] == first["customer"]["id"]
    assert Customer.objects.count() == 1 and Case.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer": {"name": "Jo", "email": "not-an-email"}, "subject": "x"}, "customer"),
        ({"customer": {"name": "Jo"}, "subject": "x"}, "customer"),
        ({"customer": {"email": "jo@example.com"}, "subject": "x"}, "customer"),
        ({"customer": {"name": "Jo", "email": "jo@example.com", "language": "xx"}, "subject": "x"}, "customer"),
        ({"customer": "jo@example.com", "subject": "x"}, "customer"),
        ({"customer": {"name": "Jo", "email": "jo@example.com"}}, "subject"),
        ({"customer": {"name": "Jo", "email": "jo@example.com"}, "subject": "   "}, "subject"),
        ({"customer": {"name": "Jo", "email": "jo@example.com"}, "subject": "x" * 201}, "subject"),
    ],
)
def test_bad_case_input_gets_400_with_field_errors_and_creates_nothing(org, api, body, field):
    response = api("alice").post("/api/v1/cases/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not Case.objects.exists() and not Customer.objects.exists()


def test_a_body_that_is_not_json_gets_400(org, api):
    response = api("alice").post("/api/v1/cases/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_reading_a_case_shows_it_with_its_decisions(org, api, make_case):
    case = make_case(org.alice, subject="Lost parcel")
    response = api("erin").get(f"/api/v1/cases/{case.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == case.pk and body["subject"] == "Lost parcel" and body["decisions"] == []
    assert body["assigned_to"] == "alice" and body["team"] == "Customer Care"


def test_staff_see_their_teams_cases_and_managers_every_team_below_them(org, api, make_case):
    care = make_case(org.alice, subject="Care case")
    returns = make_case(org.gina, subject="Returns case")
    # alice (Customer Care) cannot see a Returns case: it does not exist for her.
    assert api("alice").get(f"/api/v1/cases/{returns.pk}/").status_code == 404
    assert api("gina").get(f"/api/v1/cases/{care.pk}/").status_code == 404
    assert api("hank").get(f"/api/v1/cases/{care.pk}/").status_code == 404
    assert [c["id"] for c in api("alice").get("/api/v1/cases/").json()["results"]] == [care.pk]
    assert [c["id"] for c in api("gina").get("/api/v1/cases/").json()["results"]] == [returns.pk]
    # carol manages both teams; dan sits above everyone.
    for boss in ("carol", "dan"):
        client = api(boss)
        assert client.get(f"/api/v1/cases/{care.pk}/").status_code == 200
        assert client.get(f"/api/v1/cases/{returns.pk}/").status_code == 200
        assert {c["id"] for c in client.get("/api/v1/cases/").json()["results"]} == {care.pk, returns.pk}


def test_a_case_that_does_not_exist_is_404(org, api):
    client = api("alice")
    assert client.get("/api/v1/cases/999999/").status_code == 404
    assert client.get(f"/api/v1/cases/{2**70}/").status_code == 404


def test_cases_filter_by_status(org, api, make_case):
    open_case = make_case(org.alice, subject="Still open")
    done = make_case(org.alice, subject="Done")
    case_resolve(employee=org.alice, case=done, resolution_note="Replaced")
    client = api("alice")
    assert [c["id"] for c in client.get("/api/v1/cases/", {"status": "open"}).json()["results"]] == [open_case.pk]
    resolved = client.get("/api/v1/cases/", {"status": "resolved"}).json()["results"]
    assert [(c["id"], c["status"]) for c in resolved] == [(done.pk, "resolved")]
    assert [c["id"] for c in client.get("/api/v1/cases/").json()["results"]] == [done.pk, open_case.pk]  # newest first
    response = client.get("/api/v1/cases/", {"status": "lost"})
    assert response.status_code == 400 and "status" in response.json()


def test_the_case_list_costs_the_same_queries_however_many_cases(org, api, make_case, django_assert_max_num_queries):
    client = api("carol")
    for n in range(30):
        make_case(org.alice if n % 2 else org.gina, email=f"many{n}@example.com")
    with django_assert_max_num_queries(5):  # token, employee, visible teams, count, cases
        response = client.get("/api/v1/cases/")
    assert len(response.json()["results"]) == 30


def test_a_user_without_employee_record_cannot_get_one_by_token_trickery(db):
    user = get_user_model().objects.create_user("zed", password=PASSWORD)
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"username": "zed", "password": PASSWORD}, format="json").json()["token"]
    assert ApiToken.objects.get(user=user).digest == token_digest(token)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").status_code == 403
