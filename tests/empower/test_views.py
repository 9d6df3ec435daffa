"""The organization's pages: logging in, the base page, opening and resolving cases, notifications."""

import re

import pytest
from django.contrib.auth import get_user_model

from empower.models import Case, Customer, Notification
from empower.services import notify
from tests.conftest import PASSWORD

STAFF_PAGES = ["/", "/cases/new/", "/escalations/", "/notifications/"]


@pytest.fixture
def login(client):
    def as_(employee):
        client.force_login(employee.user)
        return client

    return as_


def test_the_login_page_has_username_and_password(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body
    assert "<title>Log in · Empower</title>" in body


def test_alice_logs_in_and_lands_on_her_queue(client, org):
    response = client.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == "/"
    assert "Your team's cases" in response.content.decode()


def test_a_wrong_password_is_refused(client, org):
    response = client.post("/accounts/login/", {"username": "alice", "password": "nope"})

    assert response.status_code == 200
    assert 'class="alert alert-error"' in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_pages_need_a_login(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(f"/accounts/login/?next={url}")


@pytest.mark.parametrize("url", STAFF_PAGES)
def test_a_login_without_an_employee_gets_a_clear_page(client, org, url):
    client.force_login(get_user_model().objects.get(username="admin"))

    response = client.get(url)

    assert response.status_code == 403
    assert "Your login is not linked to an employee" in response.content.decode()


def test_the_header_has_navigation_counts_logout_and_languages(org, make_case, login):
    notify(recipient=org.alice, key="test:1", message="Bob approved your refund")
    notify(recipient=org.alice, key="test:2", message="Bob rejected your credit")

    body = login(org.alice).get("/").content.decode()

    assert re.search(
        r'id="nav-notifications"[^>]*hx-trigger="every 30s"[^>]*>Notifications <span class="badge">2<', body
    )
    # An agent with nothing to answer has no approver's inbox in the menu; her team lead has.
    assert 'id="nav-escalations"' not in body
    bob_page = login(org.bob).get("/").content.decode()
    assert re.search(r'id="nav-escalations"[^>]*>Escalations <span class="badge badge-zero">0<', bob_page)
    assert '<form class="inline-form" method="post" action="/accounts/logout/">' in body
    assert 'action="/i18n/setlang/"' in body
    for code in ("en", "is", "zh-hans", "ru", "pl"):
        assert f'<option value="{code}"' in body
    assert '<meta name="htmx-config"' in body and '"includeIndicatorStyles": false' in body
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"\w+\"\}'>", body)


def test_pages_carry_no_inline_script_or_style(org, make_case, login):
    """The Content Security Policy forbids both; every page must work without them."""
    case = make_case(org.alice)
    client = login(org.alice)

    for url in [*STAFF_PAGES, f"/cases/{case.pk}/"]:
        response = client.get(url)
        assert "script-src 'self'" in response["Content-Security-Policy"], url
        body = response.content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), url
        assert "<style" not in body and " style=" not in body, url
        assert re.search(r"<script src=\"/static/django_htmx/htmx-2(\.min)?\.js\"", body), url


def test_choosing_icelandic_translates_the_pages(org, login):
    client = login(org.alice)

    client.post("/i18n/setlang/", {"language": "is", "next": "/"})
    body = client.get("/").content.decode()

    assert '<html lang="is">' in body


def test_the_count_partial_counts_unread_notifications(org, login):
    notify(recipient=org.alice, key="test:1", message="Bob approved your refund")
    client = login(org.alice)

    response = client.get("/notifications/count/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    body = response.content.decode()
    assert re.search(r'<a id="nav-notifications"[^>]*>Notifications <span class="badge">1<', body)
    assert 'id="nav-escalations"' not in body  # an agent's header has no inbox to update
    approver = login(org.bob).get("/notifications/count/", HTTP_HX_REQUEST="true").content.decode()
    assert '<a id="nav-escalations" href="/escalations/" hx-swap-oob="true">' in approver


def test_the_count_partial_stops_polling_once_signed_out(client, db):
    assert client.get("/notifications/count/", HTTP_HX_REQUEST="true").status_code == 286


def test_notifications_list_and_mark_all_read(org, login):
    notify(recipient=org.alice, key="test:1", message="Bob approved your refund", url="/cases/1/")
    notify(recipient=org.bob, key="test:2", message="For Bob only")
    client = login(org.alice)

    body = client.get("/notifications/").content.decode()
    assert '<a href="/cases/1/">Bob approved your refund</a>' in body
    assert "For Bob only" not in body

    response = client.post("/notifications/read/")

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=org.alice, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=org.bob, read_at__isnull=True).exists()
    assert 'class="badge badge-zero">0<' in client.get("/").content.decode()


# Opening and resolving cases -----------------------------------------------------------------------


def test_alice_opens_a_case_for_a_new_customer(org, login):
    client = login(org.alice)
    assert 'name="customer_email"' in client.get("/cases/new/").content.decode()

    response = client.post(
        "/cases/new/",
        {
            "customer_name": "Jo Kettle",
            "customer_email": "Jo@Example.com",
            "customer_language": "pl",
            "subject": "Kettle leaks",
            "description": "Leaks from the base.",
        },
    )

    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    assert (case.subject, case.team, case.assigned_to, case.created_by) == (
        "Kettle leaks",
        org.alice.team,
        org.alice,
        org.alice,
    )
    assert (case.customer.name, case.customer.language) == ("Jo Kettle", "pl")


def test_opening_a_case_finds_the_customer_by_email(org, make_case, login):
    earlier = make_case(org.erin, email="jo@example.com")

    login(org.alice).post(
        "/cases/new/", {"customer_name": "Jo", "customer_email": "JO@example.com", "subject": "Again"}
    )

    assert Customer.objects.count() == 1
    assert Case.objects.exclude(pk=earlier.pk).get().customer == earlier.customer


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"customer_email": "not-an-email"}, "customer_email", "Enter a valid email address."),
        ({"subject": "  "}, "subject", "This field is required."),  # from case_open
        ({"customer_name": ""}, "customer_name", "This field is required."),
    ],
)
def test_bad_input_on_a_new_case_shows_errors_and_creates_nothing(org, login, data, field, message):
    body = {"customer_name": "Jo", "customer_email": "jo@example.com", "subject": "Kettle"} | data

    response = login(org.alice).post("/cases/new/", body)

    assert response.status_code == 400
    content = response.content.decode()
    assert f'id="id_{field}_error"' in content
    assert message in content
    assert not Case.objects.exists()


def test_alice_resolves_a_case(org, make_case, login):
    case = make_case(org.alice)
    client = login(org.alice)

    response = client.post(f"/cases/{case.pk}/resolve/", {"resolution_note": "Sent a new kettle"})

    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    case.refresh_from_db()
    assert (case.status, case.resolution_note, case.resolved_by) == ("resolved", "Sent a new kettle", org.alice)
    page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Sent a new kettle" in page
    assert 'id="decision-form"' not in page  # a resolved case takes no decisions


def test_resolving_without_a_note_shows_the_error_and_changes_nothing(org, make_case, login):
    case = make_case(org.alice)

    response = login(org.alice).post(f"/cases/{case.pk}/resolve/", {"resolution_note": " "})

    assert response.status_code == 400
    assert '<ul class="errorlist" id="id_resolution_note_error"><li>This field is required.</li>' in (
        response.content.decode()
    )
    case.refresh_from_db()
    assert case.status == "open"


def test_resolving_twice_is_a_conflict(org, make_case, login):
    case = make_case(org.alice)
    client = login(org.alice)
    client.post(f"/cases/{case.pk}/resolve/", {"resolution_note": "Done"})

    response = client.post(f"/cases/{case.pk}/resolve/", {"resolution_note": "Done again"})

    assert response.status_code == 409
    assert "This case is already resolved." in response.content.decode()
    case.refresh_from_db()
    assert case.resolution_note == "Done"


def test_another_teams_case_cannot_be_resolved(org, make_case, login):
    case = make_case(org.gina)

    response = login(org.alice).post(f"/cases/{case.pk}/resolve/", {"resolution_note": "Not mine"})

    assert response.status_code == 404
    case.refresh_from_db()
    assert case.status == "open"
