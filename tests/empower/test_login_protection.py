"""Guessing passwords: too many failures for one username from one address lock that pair out."""

import pytest
from rest_framework.test import APIClient

from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def three_tries(settings):
    settings.AXES_FAILURE_LIMIT = 3


def _token(username: str, password: str):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_the_api_locks_a_username_out_after_too_many_wrong_passwords(org):
    assert [_token("alice", "guess").status_code for _ in range(2)] == [400, 400]
    locked = _token("alice", "guess")

    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out" and "15 minutes" in locked.json()["detail"]
    # Locked out, even with the right password; somebody else is not.
    assert _token("alice", PASSWORD).status_code == 429
    assert _token("bob", PASSWORD).status_code == 200


def test_a_successful_login_starts_the_count_again(org):
    for _ in range(2):
        assert _token("alice", "guess").status_code == 400
    assert _token("alice", PASSWORD).status_code == 200
    for _ in range(2):
        assert _token("alice", "guess").status_code == 400
    assert _token("alice", PASSWORD).status_code == 200


def test_the_login_page_says_so_in_the_users_language(org, client):
    for _ in range(3):
        response = client.post(
            "/accounts/login/", {"username": "alice", "password": "guess"}, HTTP_ACCEPT_LANGUAGE="pl"
        )

    assert response.status_code == 429
    assert "Zbyt wiele nieudanych" in response.content.decode()
    assert client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}).status_code == 429
    assert "_auth_user_id" not in client.session
