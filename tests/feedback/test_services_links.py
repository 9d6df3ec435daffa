"""Survey links: signed, stable, single use, expiring, tamper-proof; e-mailed once in the customer's language."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from empower import tasks as empower_tasks
from empower.errors import Conflict, NotFound
from empower.models import OutgoingEmail
from feedback import services
from feedback.models import Survey
from feedback.services import email as feedback_email


def test_resolving_a_case_asks_the_customer_once_by_email_in_their_language(resolve, settings, email_of):
    settings.SITE_URL = "https://empower.example"
    survey = resolve(language="pl", name="Zofia Nowak", subject="Zepsuty czajnik")

    assert survey.team_id == survey.case.team_id and survey.resolved_by.username == "alice"
    email = email_of(survey)
    assert email.sent_at is not None and email.language == "pl"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [survey.case.customer.email]
    assert "Zepsuty czajnik" in message.subject and "How did it go" not in message.subject
    assert services.survey_url(survey=survey) in message.body
    assert services.survey_url(survey=survey).startswith("https://empower.example/feedback/")
    assert "Zofia" in message.body and "Nowak" not in message.body
    # A second attempt (a redelivered task, a retried hook) sends nothing: the outbox holds one per survey.
    assert empower_tasks.send_email(email.pk) is False
    assert services.survey_email_queue(survey=survey) is None
    assert services.survey_request(case=survey.case) == survey
    assert len(mail.outbox) == 1 and Survey.objects.count() == 1
    assert OutgoingEmail.objects.filter(key__startswith="survey:").count() == 1


def test_the_email_is_rendered_in_the_customers_language(resolve, monkeypatch):
    seen = []
    real_render = feedback_email._render

    def spy(**kwargs):
        from django.utils import translation

        seen.append(kwargs["language"])
        rendered = real_render(**kwargs)
        seen.append(translation.get_language())  # restored afterwards
        return rendered

    monkeypatch.setattr(feedback_email, "_render", spy)
    resolve(language="is")
    assert seen[0] == "is" and seen[1] != "is"


def test_a_failed_send_is_recorded_in_the_outbox_and_sent_again(resolve, smtp, email_of):
    smtp.down = True
    survey = resolve()
    email = email_of(survey)
    assert email.sent_at is None and "SMTPServerDisconnected" in email.last_error and len(mail.outbox) == 0
    assert email.claimed_at is None  # released, so it can be sent again
    smtp.down = False
    assert empower_tasks.send_email(email.pk) is True
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [survey.case.customer.email]


def test_the_token_is_signed_stable_and_opens_only_its_survey(resolve, token):
    first, second = resolve(), resolve()
    assert token(first) == token(first)  # the e-mailed link and the API's `feedback_url` are the same
    assert token(first) != token(second)
    assert services.survey_from_token(token=token(first)) == first
    assert services.survey_from_token(token=token(second)) == second


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # the signature
        lambda t: "9999" + t[t.index(":") :],  # another survey's id under this signature
        lambda t: t.split(":", 1)[1],  # the id dropped
        lambda t: "",
        lambda t: "not-a-token",
        lambda t: t + ":extra",
    ],
)
def test_a_tampered_token_is_not_found(resolve, token, tamper):
    survey = resolve()
    with pytest.raises(NotFound):
        services.survey_from_token(token=tamper(token(survey)))


def test_a_token_signed_with_another_salt_or_key_is_not_found(resolve):
    survey = resolve()
    other_salt = signing.TimestampSigner(salt="something.else").sign(str(survey.pk))
    with pytest.raises(NotFound):
        services.survey_from_token(token=other_salt)
    with override_settings(SECRET_KEY="another-secret-key-entirely-0123456789"):
        forged = signing.TimestampSigner(salt=services.TOKEN_SALT).sign(str(survey.pk))
    with pytest.raises(NotFound):
        services.survey_from_token(token=forged)


def test_a_valid_signature_for_a_deleted_survey_is_not_found(resolve, token):
    survey = resolve()
    link = token(survey)
    survey.delete()
    with pytest.raises(NotFound):
        services.survey_from_token(token=link)


def test_the_link_expires_after_30_days(resolve, token):
    survey = resolve()
    link = token(survey)
    with time_machine.travel(timezone.now() + timedelta(days=29, hours=23)):
        assert services.survey_from_token(token=link) == survey
    later = timezone.now() + timedelta(days=30, minutes=1)
    with time_machine.travel(later), pytest.raises(services.LinkExpired) as error:
        services.survey_from_token(token=link)
    assert error.value.status == 410


def test_an_answer_is_recorded_once(resolve):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=4, nps=9, comment="Quick and kind")
    with pytest.raises(Conflict):
        services.survey_answer(survey_id=survey.pk, csat=1, comment="Changed my mind")
    survey.refresh_from_db()
    assert (survey.csat, survey.nps, survey.comment) == (4, 9, "Quick and kind")
    assert survey.answered_at is not None


def _day(start, days: int):
    return time_machine.travel(start + timedelta(days=days), tick=False)


def test_a_reply_after_the_30_days_can_still_be_read_on_the_page_and_by_the_api(resolve, token, org, client):
    survey = resolve(org.alice)
    link, start = token(survey), survey.created_at
    with _day(start, 29):
        services.survey_answer(survey_id=survey.pk, csat=1, comment="Still broken")
    with _day(start, 31):
        follow_up = survey.follow_ups.get()
        services.follow_up_reply(
            follow_up_id=follow_up.pk, employee=org.alice, action_taken="Called", reply="A new kettle is on its way."
        )
    with _day(start, 40):
        assert services.survey_from_token(token=link) == survey
        page = client.get(reverse("feedback:survey", args=[link]))
        assert page.status_code == 200 and "A new kettle is on its way." in page.content.decode()
        shown = APIClient().get(f"/api/v1/feedback/{link}/")
        assert shown.status_code == 200
        assert shown.json()["follow_ups"][0]["reply"] == "A new kettle is on its way."


def test_the_link_expires_30_days_after_its_last_news(resolve, token, org):
    survey = resolve(org.alice)
    link, start = token(survey), survey.created_at
    with _day(start, 10):
        services.survey_answer(survey_id=survey.pk, csat=4)
        services.survey_complain(survey_id=survey.pk, message="The lid is loose")
    with _day(start, 39):  # 29 days after the answer: still open
        assert services.survey_from_token(token=link) == survey
    with _day(start, 45):
        follow_up = survey.follow_ups.get()
        services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply="Fixed")
    with time_machine.travel(start + timedelta(days=75, hours=-1), tick=False):
        assert services.survey_from_token(token=link) == survey
    with time_machine.travel(start + timedelta(days=75, minutes=1), tick=False), pytest.raises(services.LinkExpired):
        services.survey_from_token(token=link)


def test_a_complaint_flagged_late_keeps_the_link_open_until_it_is_answered(resolve, token, org):
    survey = resolve(org.alice)
    link, start = token(survey), survey.created_at
    with _day(start, 5):
        services.survey_answer(survey_id=survey.pk, csat=3, comment="The lid is loose, again")
    with _day(start, 34):
        services.survey_flag_complaint(survey_id=survey.pk, employee=org.alice)
    with _day(start, 50):
        assert services.survey_from_token(token=link) == survey


def test_an_answer_alone_keeps_the_link_30_days_from_the_answer(resolve, token):
    survey = resolve()
    link, start = token(survey), survey.created_at
    with _day(start, 29):
        services.survey_answer(survey_id=survey.pk, csat=5)
    with _day(start, 58):
        assert services.survey_from_token(token=link) == survey
    with _day(start, 60), pytest.raises(services.LinkExpired):
        services.survey_from_token(token=link)


def test_the_life_of_a_link_is_read_from_settings_at_each_call(resolve, token, settings, email_of):
    survey = resolve()
    settings.FEEDBACK_SURVEY_DAYS = 7
    assert services.survey_expires_at(survey=survey) == survey.created_at + timedelta(days=7)
    with _day(survey.created_at, 8), pytest.raises(services.LinkExpired):
        services.survey_from_token(token=token(survey))

    # A survey asked now says so in its e-mail, and the outbox tries it only while the link works.
    mail.outbox.clear()
    later = resolve()
    assert "works for 7 days" in mail.outbox[0].body
    assert email_of(later).send_until == services.survey_expires_at(survey=later)
    assert email_of(later).send_until == later.created_at + timedelta(days=7)


def test_the_survey_email_goes_from_a_worker_not_from_the_request(resolve, monkeypatch, email_of):
    queued = []
    monkeypatch.setattr(empower_tasks.send_email, "delay", queued.append)  # a worker that has not run yet

    survey = resolve()

    email = email_of(survey)
    assert queued == [email.pk] and len(mail.outbox) == 0 and email.sent_at is None
    assert empower_tasks.send_email(email.pk) is True  # the worker's turn
    assert len(mail.outbox) == 1
