"""The outbox: every e-mail to a person is queued once per event, sent by a worker exactly once,
retried, sent again by the periodic task until it gives up, and visible to operators."""

import smtplib
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from empower import services, tasks
from empower.models import OutgoingEmail
from empower.selectors import emails_by_key
from empower.services import (
    email_queue,
    email_queue_to_administrators,
    email_send,
    emails_retry,
    emails_send_again,
)

LATER = services.EMAIL_SEND_AGAIN_AFTER + timedelta(minutes=1)


@pytest.fixture
def smtp_down(smtp):
    """The mail server refuses every message while this fixture's `down` is True."""
    smtp.down = True
    return smtp


@pytest.fixture
def no_worker(monkeypatch):
    """Queued tasks go nowhere (a worker that has not run yet): the test sends by hand."""
    queued = []
    monkeypatch.setattr(tasks.send_email, "delay", queued.append)
    return queued


@pytest.fixture
def queue(django_capture_on_commit_callbacks):
    """Queue an e-mail and commit (the send task runs eagerly, as a worker would)."""

    def queue_and_commit(key="survey:12", to="jo@example.com", **fields):
        values = {"subject": "How did we do?", "body": "Tell us: http://x/f/abc/", "language": "is", **fields}
        with django_capture_on_commit_callbacks(execute=True):
            email = email_queue(key=key, to=to, **values)
        return OutgoingEmail.objects.get(pk=email.pk) if email else None

    return queue_and_commit


def test_an_event_queues_one_email_however_often_it_is_queued(db, queue, mailoutbox):
    first = queue()
    again = queue(subject="Something else")

    assert again is None
    assert OutgoingEmail.objects.count() == 1 and first.sent_at is not None
    [mail] = mailoutbox
    assert mail.to == ["jo@example.com"] and mail.subject == "How did we do?"
    assert mail.body == "Tell us: http://x/f/abc/" and first.language == "is"


def test_the_subject_is_one_header_safe_line_and_nobody_without_an_address_is_queued(db, queue, mailoutbox):
    email = queue(subject="Bob approved it.\nBut ask first.")
    assert email.subject == "Bob approved it."
    assert queue(key="survey:13", to="  ") is None
    assert not OutgoingEmail.objects.filter(key="survey:13").exists() and len(mailoutbox) == 1


def test_nothing_is_queued_when_the_transaction_rolls_back(db, no_worker):
    with pytest.raises(RuntimeError), services.transaction.atomic():
        email_queue(key="survey:12", to="jo@example.com", subject="Hi", body="Hi")
        raise RuntimeError("the survey was not kept")
    assert not OutgoingEmail.objects.exists() and no_worker == []


def test_an_email_delivered_twice_is_sent_once(db, queue, no_worker, mailoutbox):
    email = queue()
    assert no_worker == [email.pk]  # enqueued after commit, by id

    assert tasks.send_email(email.pk) is True
    assert tasks.send_email(email.pk) is False  # the broker redelivered it
    assert email_send(email_id=email.pk) is False
    assert len(mailoutbox) == 1
    email.refresh_from_db()
    assert email.sent_at is not None and email.attempts == 1 and email.claimed_at is None


def test_a_failed_send_keeps_it_unsent_with_the_error_and_the_periodic_task_sends_it_later(
    db, queue, smtp_down, mailoutbox
):
    email = queue()  # the task and its retries all fail

    assert email.sent_at is None and email.claimed_at is None
    assert email.attempts == 1 + tasks.send_email.max_retries
    assert email.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    with pytest.raises(smtplib.SMTPServerDisconnected):
        email_send(email_id=email.pk)  # raises, so the task retries

    smtp_down.down = False
    assert emails_send_again() == 0  # within the grace period the task's own retries act
    with time_machine.travel(timezone.now() + LATER):
        assert emails_send_again() == 1
        assert emails_send_again() == 0
    email.refresh_from_db()
    assert email.sent_at is not None and email.last_error == "" and len(mailoutbox) == 1


def test_the_periodic_task_gives_up_after_the_attempts_limit_and_after_send_until(db, queue, no_worker, mailoutbox):
    tried_enough = queue(key="a")
    OutgoingEmail.objects.filter(pk=tried_enough.pk).update(attempts=services.EMAIL_MAX_ATTEMPTS)
    short = queue(key="b", send_until=timezone.now() + timedelta(minutes=10))
    long = queue(key="c", send_until=timezone.now() + timedelta(days=30))
    no_worker.clear()

    with time_machine.travel(timezone.now() + LATER):
        assert emails_send_again() == 2
    assert set(no_worker) == {short.pk, long.pk}
    no_worker.clear()
    with time_machine.travel(timezone.now() + timedelta(days=3)):  # past the default two days, and b's own
        assert emails_send_again() == 1
    assert no_worker == [long.pk]
    assert mailoutbox == []


def test_a_claim_left_by_a_dead_worker_expires_and_is_taken_over(db, queue, no_worker, mailoutbox):
    email = queue()
    OutgoingEmail.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - timedelta(minutes=1), attempts=1)

    assert email_send(email_id=email.pk) is False  # someone is sending it right now
    with time_machine.travel(timezone.now() + LATER):
        assert emails_send_again() == 0

    with time_machine.travel(timezone.now() + LATER):
        stale = timezone.now() - services.EMAIL_CLAIM_EXPIRES - timedelta(seconds=1)
        OutgoingEmail.objects.filter(pk=email.pk).update(claimed_at=stale)
        assert emails_send_again() == 1
        assert email_send(email_id=email.pk) is True
    email.refresh_from_db()
    assert email.sent_at is not None and email.attempts == 2 and len(mailoutbox) == 1


def test_an_operator_sends_again_only_what_was_not_sent(db, queue, smtp_down, django_capture_on_commit_callbacks):
    failed = queue(key="survey:1", send_until=timezone.now() + timedelta(minutes=1))
    smtp_down.down = False
    sent = queue(key="survey:2")

    with django_capture_on_commit_callbacks(execute=True):
        assert emails_retry(keys=["survey:1", "survey:2", "survey:404"]) == 1
    failed.refresh_from_db()
    assert failed.sent_at is not None and failed.attempts == 1 and failed.last_error == ""
    assert failed.send_until > timezone.now() + timedelta(days=1)  # the periodic task would keep trying
    assert OutgoingEmail.objects.get(pk=sent.pk).attempts == 1
    assert set(emails_by_key(keys=["survey:1", "survey:3"])) == {"survey:1"}


def test_operators_filter_the_outbox_search_it_and_send_failed_mail_again(
    org, queue, smtp_down, client, mailoutbox, django_capture_on_commit_callbacks
):
    failed = queue(key="survey:1", to="jo@example.com")
    smtp_down.down = False
    sent = queue(key="reply:7", to="ann@example.com")
    waiting = OutgoingEmail.objects.create(
        key="survey:3", to="ivy@example.com", subject="s", body="b", send_until=timezone.now()
    )
    client.force_login(get_user_model().objects.get(username="admin"))
    changelist = reverse("admin:empower_outgoingemail_changelist")

    def listed(**params):
        return set(client.get(changelist, params).context["cl"].result_list)

    assert listed() == {failed, sent, waiting}
    assert listed(email="unsent") == {failed, waiting}
    assert listed(email="failed") == {failed}
    assert listed(email="sent") == {sent}
    assert listed(q="survey:1") == {failed} and listed(q="ann@") == {sent}
    page = client.get(changelist, {"email": "failed"}).content.decode()
    assert "SMTPServerDisconnected" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "send_again", "_selected_action": [failed.pk, sent.pk, waiting.pk]}, follow=True
        )
    assert "2 e-mails queued to be sent." in response.content.decode()
    assert sorted(m.to[0] for m in mailoutbox) == ["ann@example.com", "ivy@example.com", "jo@example.com"]
    assert listed(email="unsent") == set()


def test_only_operators_who_may_change_the_outbox_may_send_again(org, queue, smtp_down, client):
    failed = queue()
    clerk = get_user_model().objects.create_user("clerk", password="pw-clerk-123", is_staff=True)
    clerk.user_permissions.add(*_permissions("view_outgoingemail"))
    client.force_login(clerk)
    changelist = reverse("admin:empower_outgoingemail_changelist")

    response = client.get(changelist)
    assert response.status_code == 200 and "send_again" not in response.content.decode()
    client.post(changelist, {"action": "send_again", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.attempts == 1 + tasks.send_email.max_retries  # not reset: nothing was queued


def _permissions(*codenames):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label="empower", codename__in=codenames)


def test_administrators_get_one_email_each_once_per_event(
    org, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.ADMINS = [("Ops", "ops@example.com"), ("Night", "night@example.com")]
    with django_capture_on_commit_callbacks(execute=True):
        told = email_queue_to_administrators(key="escalation:5:unroutable:9", subject="Unroutable\n#5", body="Help")
        again = email_queue_to_administrators(key="escalation:5:unroutable:9", subject="Unroutable #5", body="Help")

    assert told == again == 2
    assert sorted(m.to[0] for m in mailoutbox) == ["night@example.com", "ops@example.com"]
    assert {m.subject for m in mailoutbox} == {f"{settings.EMAIL_SUBJECT_PREFIX}Unroutable"}
    assert set(OutgoingEmail.objects.values_list("key", flat=True)) == {
        "escalation:5:unroutable:9:ops@example.com",
        "escalation:5:unroutable:9:night@example.com",
    }
