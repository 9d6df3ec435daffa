"""Sessions and tokens: API tokens expire, are listed and revoked by their owner and by
administrators, and stop at once on deactivation or a password change; logging out revokes the
tokens of that browser's login. HSTS by default, /healthz/ over plain http with its backlog only for
monitoring, private no-store caching behind login, and `check --deploy` clean in production."""

import os
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from empower.models import ApiToken
from empower.tokens import api_token_issue
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]


def token_for(username: str) -> str:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def client_with(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


# Tokens ------------------------------------------------------------------------------------------------


def test_a_token_expires_after_the_configured_days(org, settings):
    assert settings.API_TOKEN_DAYS == 30
    issued = APIClient().post("/api/v1/auth/token/", {"username": "alice", "password": PASSWORD}, format="json")
    token = issued.json()["token"]
    expires_at = ApiToken.objects.get(user=org.alice.user).expires_at
    assert abs(expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert issued.json()["expires_at"]

    with time_machine.travel(timezone.now() + timedelta(days=29, hours=23), tick=False):
        assert client_with(token).get("/api/v1/me/").status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=30, minutes=1), tick=False):
        assert client_with(token).get("/api/v1/me/").status_code in (401, 403)
        assert client_with(token).post("/api/v1/decisions/", {}, format="json").status_code in (401, 403)


def test_the_lifetime_is_a_setting(org, settings):
    settings.API_TOKEN_DAYS = 2
    token = token_for("alice")
    with time_machine.travel(timezone.now() + timedelta(days=2, minutes=1), tick=False):
        assert client_with(token).get("/api/v1/me/").status_code in (401, 403)


def test_the_owner_lists_their_tokens_without_the_keys_and_revokes_one(org):
    first, second = token_for("alice"), token_for("alice")
    token_for("bob")

    listed = client_with(first).get("/api/v1/me/tokens/")

    assert listed.status_code == 200
    rows = listed.json()["results"]
    assert len(rows) == 2 and {r["prefix"] for r in rows} == {first[:8], second[:8]}
    assert first not in listed.content.decode() and second not in listed.content.decode()
    assert [r["current"] for r in rows if r["prefix"] == first[:8]] == [True]

    other = next(r for r in rows if r["prefix"] == second[:8])
    assert client_with(first).delete(f"/api/v1/me/tokens/{other['id']}/").status_code == 204
    assert client_with(second).get("/api/v1/me/").status_code in (401, 403)
    assert client_with(first).get("/api/v1/me/").status_code == 200


def test_someone_elses_token_cannot_be_revoked(org):
    alice = token_for("alice")
    token_for("bob")
    bobs = ApiToken.objects.get(user=org.bob.user)

    response = client_with(alice).delete(f"/api/v1/me/tokens/{bobs.pk}/")

    assert response.status_code == 404
    assert ApiToken.objects.filter(pk=bobs.pk).exists()


def test_only_a_digest_of_the_key_is_stored(org):
    token = token_for("alice")
    row = ApiToken.objects.get(user=org.alice.user)
    assert token not in (row.digest, row.prefix, row.password_stamp)


def test_a_deactivated_user_is_refused_at_once(org):
    token = token_for("alice")
    org.alice.user.is_active = False
    org.alice.user.save()
    assert client_with(token).get("/api/v1/me/").status_code in (401, 403)


def test_a_password_change_stops_every_token_at_once(org):
    token = token_for("alice")
    user = org.alice.user
    user.set_password("a-new-password-456")
    user.save()
    assert client_with(token).get("/api/v1/me/").status_code in (401, 403)
    assert not ApiToken.objects.filter(user=user).exists()


def test_a_password_hash_upgraded_at_login_keeps_the_tokens(org, settings):
    token = token_for("alice")
    # A stronger hasher first in the list: the next login re-hashes the same password.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher", *settings.PASSWORD_HASHERS]
    assert token_for("alice")
    user = type(org.alice.user).objects.get(pk=org.alice.user.pk)
    assert user.password.startswith("pbkdf2_sha1$")
    assert client_with(token).get("/api/v1/me/").status_code == 200


def test_a_password_changed_behind_the_apps_back_stops_tokens_too(org):
    token = token_for("alice")
    type(org.alice.user).objects.filter(pk=org.alice.user.pk).update(password="md5$x$changed")
    assert client_with(token).get("/api/v1/me/").status_code in (401, 403)


def test_administrators_see_and_revoke_tokens(org, client):
    token = token_for("alice")
    row = ApiToken.objects.get(user=org.alice.user)
    admin = type(org.alice.user).objects.get(username="admin")
    client.force_login(admin)

    listing = client.get("/admin/empower/apitoken/")
    assert listing.status_code == 200 and row.prefix in listing.content.decode()
    assert token not in listing.content.decode()
    response = client.post("/admin/empower/apitoken/", {"action": "revoke", "_selected_action": [row.pk]}, follow=True)

    assert response.status_code == 200
    assert not ApiToken.objects.filter(pk=row.pk).exists()
    assert client_with(token).get("/api/v1/me/").status_code in (401, 403)


def test_the_tokens_page_issues_lists_and_revokes(org, client):
    client.force_login(org.alice.user)

    issued = client.post("/account/tokens/", {"name": "My script"})
    assert issued.status_code == 201
    row = ApiToken.objects.get(user=org.alice.user)
    key = issued.context["new_key"]
    assert row.name == "My script" and key in issued.content.decode()
    assert client_with(key).get("/api/v1/me/").status_code == 200
    page = client.get("/account/tokens/").content.decode()
    assert row.prefix in page and key not in page

    assert client.post(f"/account/tokens/{row.pk}/revoke/").status_code == 302
    assert client_with(key).get("/api/v1/me/").status_code in (401, 403)
    other = api_token_issue(user=org.bob.user)[0]
    assert client.post(f"/account/tokens/{other.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=other.pk).exists()


def test_logging_out_revokes_the_tokens_of_that_login_only(org, client):
    kept = token_for("alice")  # from the API: not tied to any browser
    client.force_login(org.alice.user)
    tied = client.post("/account/tokens/", {"name": "Ends with login", "ends_with_login": "on"}).context["new_key"]
    free = client.post("/account/tokens/", {"name": "Stays"}).context["new_key"]
    elsewhere = APIClient()
    elsewhere.force_login(org.alice.user)
    elsewhere_tied = elsewhere.post("/account/tokens/", {"ends_with_login": "on"}).context["new_key"]

    assert client.post("/accounts/logout/").status_code == 302

    assert client_with(tied).get("/api/v1/me/").status_code in (401, 403)
    for token in (kept, free, elsewhere_tied):
        assert client_with(token).get("/api/v1/me/").status_code == 200


# Headers -----------------------------------------------------------------------------------------------


def test_pages_behind_login_and_api_answers_are_private_and_not_stored(org, client, make_case):
    client.force_login(org.alice.user)
    for url in ("/", "/escalations/", "/account/tokens/"):
        response = client.get(url)
        assert response.status_code == 200
        assert {"private", "no-store"} <= {p.strip() for p in response["Cache-Control"].split(",")}, url
    api = client_with(token_for("alice")).get("/api/v1/me/")
    assert "no-store" in api["Cache-Control"] and "private" in api["Cache-Control"]


def test_the_customers_survey_page_is_private_and_not_stored(org, client, make_case):
    case = make_case(org.alice)
    resolved = client_with(token_for("alice")).post(
        f"/api/v1/cases/{case.pk}/resolve/", {"resolution_note": "Refunded"}, format="json"
    )
    url = urlsplit(resolved.json()["feedback_url"]).path
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_healthz_is_not_redirected_to_https_and_tells_the_backlog_only_to_monitoring(org, client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.HEALTHZ_TOKEN = "monitor-secret"
    settings.HEALTHZ_ALLOWED_IPS = ["10.0.0.9"]

    assert client.get("/accounts/login/").status_code == 301
    bare = client.get("/healthz/")
    assert bare.status_code == 200 and bare.json() == {"database": "ok", "broker": "ok"}
    wrong = client.get("/healthz/", HTTP_AUTHORIZATION="Bearer not-it")
    assert wrong.json() == {"database": "ok", "broker": "ok"}
    monitored = client.get("/healthz/", HTTP_AUTHORIZATION="Bearer monitor-secret")
    assert "oldest_unrouted_seconds" in monitored.json() and "worker_last_seen_seconds" in monitored.json()
    allowed = client.get("/healthz/", REMOTE_ADDR="10.0.0.9")
    assert "oldest_unrouted_seconds" in allowed.json()


# Production settings -----------------------------------------------------------------------------------


def _production_env(**extra) -> dict:
    skip = ("SECURE_", "HSTS", "DJANGO_ALLOW_ASYNC_UNSAFE")  # the last is set for the browser tests only
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    return env | {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "empower.example.com",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        **extra,
    }


def _manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("extra", [{}, {"SECURE_HSTS_INCLUDE_SUBDOMAINS": "1", "SECURE_HSTS_PRELOAD": "1"}])
def test_check_deploy_with_production_settings_prints_no_warning(extra):
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=_production_env(**extra))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stdout + result.stderr and "no issues" in result.stdout


def test_hsts_is_on_by_default_without_debug_and_configurable():
    show = "from django.conf import settings as s; print(s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    default = _manage("shell", "-c", show, env=_production_env())
    assert default.stdout.split()[-2:] == ["31536000", "False"], default.stderr
    chosen = _manage("shell", "-c", show, env=_production_env(SECURE_HSTS_SECONDS="600"))
    assert chosen.stdout.split()[-2:] == ["600", "False"], chosen.stderr


def test_the_hsts_header_is_sent_over_https(org, client, settings):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    response = client.get("/accounts/login/", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000"
