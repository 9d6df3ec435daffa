"""The customer's page: no account, their language, plain forms, friendly answers to every mistake."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.models import FollowUp, Survey


def page_url(survey, token) -> str:
    return reverse("feedback:survey", args=[token(survey)])


def answer(client, url, **data):
    return client.post(url, {"csat": "4", "comment": "", **data})


def test_the_page_needs_no_account_and_shows_only_the_subject_and_first_name(client, resolve, token):
    survey = resolve(name="Jo Smith-Jones", subject="Kettle arrived broken")
    case = survey.case
    case.description = "Private notes about the customer"
    case.save()
    response = client.get(page_url(survey, token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Hello Jo, how did it go?" in html
    assert "Kettle arrived broken" in html
    for secret in ("Smith-Jones", case.customer.email, "Private notes", "Sent a new kettle", "alice", "Alice"):
        assert secret not in html
    # No scripts at all, no inline styles: the page works without JavaScript under the strict CSP.
    assert "<script" not in html and "style=" not in html
    assert re.search(r'<form method="post" action="[^"]+"', html)
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert 'name="robots" content="noindex' in html


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_page_speaks_the_customers_language_with_a_switcher(client, resolve, token, language):
    survey = resolve(language=language)
    url = page_url(survey, token)
    response = client.get(url)
    html = response.content.decode()
    assert f'<html lang="{language}"' in html
    assert response["Content-Language"] == language
    # Every language is offered, as plain links back to this page.
    for code, _name in settings.LANGUAGES:
        assert f'href="{url}?lang={code}"' in html
    assert re.search(rf'hreflang="{language}" aria-current="true"', html)


def test_the_switcher_overrides_the_customers_language_even_for_a_staff_session(client, resolve, token, org):
    survey = resolve(language="is")
    url = page_url(survey, token)
    assert client.get(url, {"lang": "ru"})["Content-Language"] == "ru"
    assert client.get(url, {"lang": "xx"})["Content-Language"] == "is"  # unknown: the customer's own
    client.force_login(org.alice.user)  # alice's own language does not leak into the customer's page
    assert client.get(url)["Content-Language"] == "is"


def test_answering_without_javascript_posts_redirects_and_thanks(resolve, token):
    survey = resolve(language="pl")
    url = page_url(survey, token)
    browser = Client(enforce_csrf_checks=True)
    browser.get(url)
    # The signed link is the only key: the page sets no cookie and the post needs no CSRF token.
    assert not browser.cookies
    response = browser.post(f"{url}?lang=pl", {"csat": "5", "nps": "10", "comment": "Great service"})
    assert response.status_code == 302
    assert response["Location"] == f"{url}?lang=pl&done=answered"
    survey.refresh_from_db()
    assert (survey.csat, survey.nps, survey.comment) == (5, 10, "Great service")
    page = browser.get(response["Location"]).content.decode()
    assert "Dziękujemy za odpowiedź." in page and "Great service" in page  # in the customer's language
    assert "5 na 5" in page and 'name="csat"' not in page  # the form is gone


def test_answering_twice_gets_a_friendly_409_and_changes_nothing(client, resolve, token):
    survey = resolve()
    url = page_url(survey, token)
    answer(client, url, csat="4", comment="Fine")
    response = answer(client, url, csat="1", comment="Actually terrible")
    assert response.status_code == 409
    assert "You had already answered this survey" in response.content.decode()
    survey.refresh_from_db()
    assert (survey.csat, survey.comment) == (4, "Fine")
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("csat", ["0", "6", "-1", "abc", "", "3.5"])
def test_an_out_of_range_score_gets_a_friendly_error_and_stores_nothing(client, resolve, token, csat):
    survey = resolve()
    response = answer(client, page_url(survey, token), csat=csat, comment="Kept after the error")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please choose how satisfied you are, from 1 to 5." in html
    assert 'role="alert"' in html and 'aria-invalid="true"' in html
    assert "Kept after the error" in html  # what they typed is not lost
    survey.refresh_from_db()
    assert survey.answered_at is None and survey.csat is None


def test_an_out_of_range_recommendation_is_refused(client, resolve, token):
    survey = resolve()
    response = answer(client, page_url(survey, token), nps="11")
    assert response.status_code == 400
    assert "Please choose a number from 0 to 10" in response.content.decode()
    assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_an_oversized_comment_is_refused_kindly(client, resolve, token):
    survey = resolve()
    response = answer(client, page_url(survey, token), comment="x" * 2001)
    assert response.status_code == 400
    assert "Please keep it to 2000 characters (this has 2001)." in response.content.decode()
    assert Survey.objects.get(pk=survey.pk).answered_at is None
    assert answer(client, page_url(survey, token), comment="x" * 2000).status_code == 302


def test_hostile_text_is_stored_as_text_and_shown_escaped(client, resolve, token):
    survey = resolve()
    url = page_url(survey, token)
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>\u202eevil'
    answer(client, url, csat="3", comment=hostile)
    survey.refresh_from_db()
    assert survey.comment == '<script>alert("x")</script><img src=x onerror=alert(1)>evil'  # bidi override gone
    html = client.get(url).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;evil" in html


def test_a_null_character_is_refused_not_a_server_error(client, resolve, token):
    survey = resolve()
    response = answer(client, page_url(survey, token), comment="bad\x00byte")
    assert response.status_code == 400
    assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_an_unknown_or_tampered_link_gets_a_friendly_404(client, resolve, token):
    survey = resolve()
    link = token(survey)
    for bad in (link[:-2] + "xx", "12:abc:def", "nonsense"):
        response = client.get(reverse("feedback:survey", args=[bad]))
        assert response.status_code == 404
        assert "We could not find this survey" in response.content.decode()
        response = client.post(reverse("feedback:survey", args=[bad]), {"csat": "1"})
        assert response.status_code == 404
    assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_an_expired_link_gets_a_friendly_410_and_stores_nothing(client, resolve, token):
    survey = resolve()
    url = page_url(survey, token)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = client.get(url)
        assert response.status_code == 410
        assert "This survey link has expired" in response.content.decode()
        assert answer(client, url, csat="1").status_code == 410
    assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_a_low_score_tells_the_customer_when_a_person_will_answer(client, resolve, token):
    survey = resolve()
    url = page_url(survey, token)
    response = answer(client, url, csat="1", comment="Still broken")
    page = client.get(response["Location"]).content.decode()
    assert "A person will look into it and answer you here and by e-mail." in page
    # The deadline is stated once, on the follow-up's card.
    assert page.count("will answer you here and by e-mail (by") == 1
    assert "Make a complaint" not in page  # already being followed up


def test_the_customer_can_complain_after_answering(client, resolve, token):
    survey = resolve()
    url = page_url(survey, token)
    complaint_url = reverse("feedback:survey-complaint", args=[token(survey)])
    # Not before answering.
    assert client.post(complaint_url, {"message": "Too early"}).status_code == 409
    answer(client, url, csat="4")
    assert "Make a complaint" in client.get(url).content.decode()
    assert client.post(complaint_url, {"message": "   "}).status_code == 400
    response = client.post(f"{complaint_url}?lang=ru", {"message": "The second kettle leaks too"})
    assert response.status_code == 302 and response["Location"].endswith("?lang=ru&done=complained")
    follow_up = FollowUp.objects.get(survey=survey)
    assert follow_up.reason == FollowUp.Reason.COMPLAINT
    assert follow_up.customer_message == "The second kettle leaks too"
    assert follow_up.assigned_to.username == "alice"
    # While it is open, a second complaint is refused kindly.
    response = client.post(complaint_url, {"message": "Again"})
    assert response.status_code == 409
    assert "We are already looking into this" in response.content.decode()
    assert FollowUp.objects.filter(survey=survey).count() == 1


def test_the_page_posts_are_throttled(client, resolve, token, monkeypatch):
    from rest_framework.throttling import AnonRateThrottle

    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    survey = resolve()
    url = page_url(survey, token)
    assert answer(client, url, csat="9").status_code == 400
    assert answer(client, url, csat="9").status_code == 400
    response = answer(client, url, csat="4")
    assert response.status_code == 429
    assert "Please wait a moment" in response.content.decode()
    assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_a_staff_session_without_a_csrf_token_can_still_answer_and_complain(resolve, token, org):
    survey = resolve()
    url = page_url(survey, token)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(org.bob.user)  # the customer's link opened in a staff browser: no token posted
    assert browser.post(url, {"csat": "4"}).status_code == 302
    complaint_url = reverse("feedback:survey-complaint", args=[token(survey)])
    assert browser.post(complaint_url, {"message": "The lid is loose"}).status_code == 302
    assert FollowUp.objects.filter(survey=survey, customer_message="The lid is loose").exists()


def test_an_oversized_post_gets_a_friendly_page_in_the_customers_language(client, resolve, token, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    survey = resolve(language="pl")
    url = page_url(survey, token)
    response = answer(client, url, comment="x" * 10_000)
    assert response.status_code == 413 and response["Content-Language"] == "pl"
    html = response.content.decode()
    assert 'role="alert"' in html and 'name="csat"' in html  # the form, to try again
    assert "Bad Request" not in html
    assert Survey.objects.get(pk=survey.pk).answered_at is None
    answer(client, url, csat="4")
    response = client.post(reverse("feedback:survey-complaint", args=[token(survey)]), {"message": "y" * 10_000})
    assert response.status_code == 413 and not FollowUp.objects.exists()


def test_too_many_fields_get_the_same_friendly_page(client, resolve, token, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    survey = resolve()
    response = client.post(page_url(survey, token), {f"f{n}": "x" for n in range(50)} | {"csat": "4"})
    assert response.status_code == 413
    assert "too long for us to read" in response.content.decode()
    assert Survey.objects.get(pk=survey.pk).answered_at is None


def test_elsewhere_a_body_too_large_gets_a_page_not_a_bare_400(client, org, resolve, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 5000
    client.force_login(org.alice.user)
    response = client.post(reverse("feedback:report-new"), {"would_have_done": "x" * 10_000})
    assert response.status_code == 400
    html = response.content.decode()
    assert "We could not read this request" in html and "Nothing was saved." in html
