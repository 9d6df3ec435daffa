"""The customers' e-mails go through the organization's outbox: a survey answered before its e-mail
went is not asked again; one already sent or being sent is left alone."""

from datetime import timedelta

import time_machine
from django.core import mail
from django.utils import timezone

from empower import services as empower_services
from empower import tasks as empower_tasks
from empower.models import OutgoingEmail
from feedback import services

RESEND_AFTER = empower_services.EMAIL_SEND_AGAIN_AFTER + timedelta(minutes=1)


def test_a_survey_answered_before_its_email_went_is_not_asked_again(resolve, monkeypatch, email_of):
    queued = []
    monkeypatch.setattr(empower_tasks.send_email, "delay", queued.append)  # the worker has not run yet
    survey = resolve()
    [email_id] = queued

    # The customer answers through the link they had already (the helpdesk showed it to them).
    services.survey_answer(survey_id=survey.pk, csat=5)

    assert email_of(survey) is None
    assert empower_tasks.send_email(email_id) is False  # the task, delivered late, finds nothing to send
    with time_machine.travel(timezone.now() + RESEND_AFTER):
        assert empower_tasks.send_unsent_emails_again() == 0
    assert mail.outbox == []
    survey.refresh_from_db()
    assert services.survey_email_queue(survey=survey) is None  # an answered survey asks nothing more


def test_a_survey_email_that_went_stays_on_record_when_the_customer_answers(resolve, email_of):
    survey = resolve()
    services.survey_answer(survey_id=survey.pk, csat=4)
    assert email_of(survey).sent_at is not None and len(mail.outbox) == 1


def test_a_survey_email_being_sent_right_now_is_not_withdrawn(resolve, monkeypatch, email_of):
    monkeypatch.setattr(empower_tasks.send_email, "delay", lambda *args: None)
    survey = resolve()
    OutgoingEmail.objects.filter(key=survey.email_key).update(claimed_at=timezone.now())  # a worker has it

    services.survey_answer(survey_id=survey.pk, csat=2)

    assert email_of(survey) is not None  # the worker marks it sent; nothing goes twice
    assert services.survey_email_cancel(survey=survey) is False


def test_a_reply_is_emailed_even_when_the_survey_email_never_went(resolve, org, smtp, email_of):
    smtp.down = True
    survey = resolve(org.alice)
    smtp.down = False
    services.survey_answer(survey_id=survey.pk, csat=1)  # through the link the helpdesk gave them
    follow_up = survey.follow_ups.get()
    services.follow_up_reply(follow_up_id=follow_up.pk, employee=org.alice, action_taken="x", reply="Refunded")

    assert email_of(survey) is None  # withdrawn: it would only ask again
    email = email_of(follow_up)
    assert email.to == survey.case.customer.email and "Refunded" in email.body
    assert services.survey_url(survey=survey) in email.body
