"""Finished edges: the customer's page (organization, thanks once, each deadline once), the demo's
examples, styled error pages (JSON under /api/), password reset, a `detail` on every 400, money and
dates in the reader's language."""

import os
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.formats import date_format

from delegation.models import Escalation
from empower.models import Case, OutgoingEmail
from empower.money import Money, format_money
from feedback.models import FollowUp, Survey


def text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# --- the customer's page ----------------------------------------------------------------------------


def test_the_survey_page_carries_the_organization_and_thanks_once(client, resolve, token, settings):
    settings.EMPOWER_ORGANIZATION_NAME = "Kettle & Co"
    survey = resolve()
    url = reverse("feedback:survey", args=[token(survey)])
    page = client.get(url).content.decode()
    assert "Kettle &amp; Co" in page and 'class="logo"' in page and "/static/feedback/logo.svg" in page
    assert "Thank you" not in page
    answered = text(client.post(url, {"csat": "2", "comment": "Still broken"}, follow=True))
    assert answered.count("Thank you") == 1
    follow_up = FollowUp.objects.get(survey=survey)
    due = date_format(follow_up.due_at, "DATETIME_FORMAT")
    assert answered.count(due) == 1  # the deadline, said once
    again = text(client.get(url))
    assert again.count("Thank you") == 1 and again.count(due) == 1


# --- the demo -------------------------------------------------------------------------------------------


def test_the_examples_fill_the_first_screen_once(org):
    before = Case.objects.count()
    for _ in range(2):  # idempotent
        call_command("seed_demo", password="x", with_examples=True, stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert Case.objects.count() == before + 5
    assert Case.objects.filter(status="open").count() >= 4
    waiting = Escalation.objects.get(status="assigned")
    assert waiting.assigned_to == org.bob and waiting.decision.amount == Decimal("150.00")
    survey = Survey.objects.get(case__customer__email="anna.jonsdottir@example.com")
    assert survey.csat == 2 and FollowUp.objects.filter(survey=survey, status="open").count() == 1


def test_plain_seed_demo_adds_no_cases(org):
    before = Case.objects.count()
    call_command("seed_demo", password="x", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert Case.objects.count() == before


# --- error pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_pages_get_styled_errors_and_the_api_json(client, org, settings, debug):
    settings.DEBUG = debug  # `make run` writes DEBUG=1: the same pages there (empower.middleware)
    page = client.get("/no-such-page/")
    assert page.status_code == 404 and "We could not find this page" in page.content.decode()
    assert "/static/css/empower.css" in page.content.decode()
    api = client.get("/api/v1/no-such-thing/")
    assert api.status_code == 404 and api["Content-Type"].startswith("application/json") and api.json()["detail"]
    polish = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="pl")  # in the reader's language
    assert '<html lang="pl">' in polish.content.decode()
    client.force_login(org.alice.user)
    refused = client.get("/authority/guidance/")
    assert refused.status_code == 403 and "This page is not for you" in refused.content.decode()
    missing = client.get("/cases/999999/")  # raised by the view (no such case)
    assert missing.status_code == 404 and "We could not find this page" in missing.content.decode()
    assert client.get("/authority/guidance").status_code == 301  # the slash is still added


def test_a_server_error_is_a_styled_page_without_the_database(rf):
    from empower.error_pages import server_error

    response = server_error(rf.get("/cases/1/"))
    assert response.status_code == 500 and "Something went wrong on our side" in response.content.decode()
    assert server_error(rf.get("/api/v1/cases/")).status_code == 500
    assert server_error(rf.get("/api/v1/cases/"))["Content-Type"] == "application/json"


# --- password reset -----------------------------------------------------------------------------------


def test_password_reset_sends_a_link_through_the_outbox_and_is_rate_limited(client, org, settings):
    settings.EMPOWER_PASSWORD_RESET_PER_HOUR = 2
    assert "Forgot your password?" in client.get("/accounts/login/").content.decode()
    response = client.post("/accounts/password-reset/", {"email": "alice@example.com"})
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/sent/"
    queued = OutgoingEmail.objects.get(key__startswith="password-reset:")
    assert queued.to == "alice@example.com"
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", queued.body).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "Kettle-2026!x", "new_password2": "Kettle-2026!x"})
    assert done.status_code == 302
    org.alice.user.refresh_from_db()
    assert org.alice.user.check_password("Kettle-2026!x")

    # Twice more from the same address: the third answer is a 429 page, and nothing more is queued.
    client.post("/accounts/password-reset/", {"email": "bob@example.com"})
    limited = client.post("/accounts/password-reset/", {"email": "carol@example.com"})
    assert limited.status_code == 429 and "Please slow down" in limited.content.decode()
    assert not OutgoingEmail.objects.filter(to="carol@example.com").exists()
    assert len(mail.outbox) >= 0  # sent by the worker, never in the request


# --- every 400 has a detail -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"case": 1, "decision_type": "refund", "amount": "abc", "rationale": "x"},
        {"case": 1, "decision_type": "refund", "amount": "10.00"},
        {},
    ],
)
def test_every_400_has_a_detail(api, org, make_case, body):
    case = make_case(org.alice)
    body = {**body, "case": case.pk} if body else body
    response = api("alice").post("/api/v1/decisions/", body, format="json")
    assert response.status_code == 400
    assert response.json()["detail"] and response.json()["code"]


# --- money and dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "€1,234.50"), ("pl", "1\u00a0234,50\u00a0€"), ("ru", "1\u00a0234,50\u00a0€"), ("is", "1.234,50\u00a0EUR")],
)
def test_money_is_written_for_the_reader(language, expected):
    assert format_money(Decimal("1234.5"), "EUR", language) == expected
    with translation.override(language):
        assert str(Money("1234.50", "EUR")) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "23 Nov 2026, 14:05"),
        ("is", "23.11.2026, 14:05"),
        ("zh-hans", "2026年11月23日 14:05"),
        ("ru", "23.11.2026, 14:05"),
        ("pl", "23.11.2026, 14:05"),
    ],
)
def test_one_date_style_per_language(language, expected):
    moment = datetime(2026, 11, 23, 14, 5, tzinfo=ZoneInfo("UTC"))
    with translation.override(language):
        assert date_format(moment, "SHORT_DATETIME_FORMAT") == expected
        assert date_format(moment, "DATETIME_FORMAT") == expected


def test_names_of_types_roles_and_teams_follow_the_language(org):
    with translation.override("pl"):
        assert (str(org.refund), str(org.alice.role), str(org.alice.team)) == (
            "Zwrot pieniędzy",
            "Agent",
            "Obsługa klienta",
        )
    with translation.override("zh-hans"):
        assert str(org.types["replacement"]) == "换货"
    org.refund.name_is = None
    org.refund.save()
    with translation.override("is"):
        assert org.refund.name == "Refund"  # English is the fallback


def test_a_deadline_in_a_notification_is_in_the_recipients_style(org):
    from empower.moments import LocalMoment
    from empower.services import lazy_message

    moment = datetime(2026, 11, 23, 14, 5, tzinfo=ZoneInfo("UTC"))
    message = lazy_message("Due by %(due)s.", due=LocalMoment(moment))
    with translation.override("is"):
        assert str(message) == "Due by 23.11.2026, 14:05."  # never an American date, never "p.m.."
    with translation.override("en"):
        assert str(message) == "Due by 23 Nov 2026, 14:05."


def test_seeding_with_another_language_active_finds_the_english_names(org):
    from empower.models import Role, Team

    before = (Team.objects.count(), Role.objects.count(), Case.objects.count())
    with translation.override("pl"):  # e.g. left active by a request in Polish
        call_command("seed_demo", password="x", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert (Team.objects.count(), Role.objects.count(), Case.objects.count()) == before
    assert Team.objects.get(pk=org.alice.team_id).name_en == "Customer Care"
