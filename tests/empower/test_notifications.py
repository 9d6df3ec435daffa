"""Notification e-mails reach people exactly once: queued in the outbox with the notification, sent
by a worker after commit, retried when sending fails, sent again by a periodic task when the task
was lost, never twice. (The outbox itself: test_outbox.py.)"""

import runpy
import smtplib
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

import config.settings as settings_module
from empower import services, tasks
from empower.models import Notification, OutgoingEmail
from empower.services import email_subject, notify
from empower.tasks import send_email, send_unsent_emails_again

RESEND_AFTER = services.EMAIL_SEND_AGAIN_AFTER + timedelta(minutes=1)


@pytest.fixture
def smtp(monkeypatch):
    """Controls the SMTP server: `smtp.fail_next(n)` makes the next n sends fail, `smtp.down()` all."""

    class Smtp:
        failures = 0
        calls = 0

        def fail_next(self, count: int) -> None:
            self.failures = count

        def down(self) -> None:
            self.failures = 10**6

        def up(self) -> None:
            self.failures = 0

    server = Smtp()
    real_send = services.send_mail

    def send_mail(**kwargs):
        server.calls += 1
        if server.failures:
            server.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return real_send(**kwargs)

    monkeypatch.setattr(services, "send_mail", send_mail)
    return server


def email_of(notification: Notification) -> OutgoingEmail:
    return OutgoingEmail.objects.get(key=notification.email_key)


@pytest.fixture
def notify_now(django_capture_on_commit_callbacks):
    """Notify, and run what happens after commit (the e-mail task, eager in tests)."""

    def notify_and_commit(recipient, key="event:1", message="Bob approved your refund.", url="/cases/1/"):
        with django_capture_on_commit_callbacks(execute=True):
            notification = notify(recipient=recipient, key=key, message=message, url=url)
        notification.refresh_from_db()
        return notification

    return notify_and_commit


@pytest.mark.parametrize(
    ("message", "subject"),
    [
        ("Bob approved your refund. Fine,\nbut ask first next time.", "Bob approved your refund. Fine,"),
        ("\n\n  Rejected:\tnot  policy \r\nmore", "Rejected: not policy"),
        ("x" * 100, "x" * 77 + "…"),
    ],
)
def test_an_email_subject_is_one_short_line(message, subject):
    assert email_subject(message) == subject


def test_a_multi_line_note_approves_and_the_requester_is_emailed_the_note_with_a_link(
    transactional_db, org, make_case, api, mailoutbox
):
    case = make_case()
    submitted = api("alice").post(
        "/api/v1/decisions/",
        {"case": case.pk, "decision_type": "refund", "amount": "150.00", "rationale": "Broken"},
        format="json",
    )
    escalation_id = submitted.json()["escalation"]["id"]
    mailoutbox.clear()

    note = "Fine this time.\nNext time ask the customer for a photo first."
    response = api("bob").post(f"/api/v1/escalations/{escalation_id}/approve/", {"note": note}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    [email] = mailoutbox
    assert email.to == ["alice@example.com"]
    assert "\n" not in email.subject and email.subject.startswith("Bob approved €150.00 for your Refund")
    assert note in email.body
    assert f"http://127.0.0.1:8000/cases/{case.pk}/" in email.body
    notification = Notification.objects.get(recipient=org.alice, key=f"escalation:{escalation_id}:approved")
    assert email_of(notification).sent_at is not None
    assert email_of(notification).language == org.alice.language


def test_a_failed_send_is_retried_and_goes_out_exactly_once(org, smtp, notify_now, mailoutbox):
    smtp.fail_next(1)
    email = email_of(notify_now(org.bob))

    assert smtp.calls == 2 and len(mailoutbox) == 1  # failed, then the task's retry sent it
    assert email.sent_at is not None and email.attempts == 2
    assert email.claimed_at is None and email.last_error == ""
    # Delivered again (e.g. by the broker after a lost ack): nothing more is sent.
    assert send_email(email.pk) is False
    assert len(mailoutbox) == 1


def test_an_email_that_keeps_failing_is_sent_again_later_exactly_once(org, smtp, notify_now, mailoutbox):
    smtp.down()
    email = email_of(notify_now(org.bob))

    assert mailoutbox == [] and email.sent_at is None
    assert email.claimed_at is None  # released, so it can be sent again
    assert "SMTPServerDisconnected" in email.last_error
    assert email.attempts == 1 + tasks.send_email.max_retries

    smtp.up()
    assert send_unsent_emails_again() == 0  # within the grace period the task's own retries act
    with time_machine.travel(timezone.now() + RESEND_AFTER):
        assert send_unsent_emails_again() == 1
        assert send_unsent_emails_again() == 0
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["bob@example.com"]


def test_an_email_whose_task_was_lost_is_sent_by_the_periodic_task(org, notify_now, monkeypatch, mailoutbox, caplog):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_email, "delay", broker_down)
    notification = notify_now(org.bob)  # the notification and its e-mail are written; enqueuing fails quietly
    assert email_of(notification).sent_at is None and "a periodic task will pick it up" in caplog.text

    monkeypatch.undo()
    with time_machine.travel(timezone.now() + RESEND_AFTER):
        assert send_unsent_emails_again() == 1
    assert len(mailoutbox) == 1


def test_a_claim_left_by_a_worker_that_died_mid_send_expires(org, monkeypatch, mailoutbox):
    monkeypatch.setattr(tasks.send_email, "delay", lambda *args: None)  # no worker
    email = email_of(notify(recipient=org.bob, key="event:1", message="Hello", url=""))
    OutgoingEmail.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - timedelta(minutes=1))

    assert send_email(email.pk) is False  # someone is sending it right now
    with time_machine.travel(timezone.now() + RESEND_AFTER):
        assert send_unsent_emails_again() == 0
    OutgoingEmail.objects.filter(pk=email.pk).update(claimed_at=timezone.now() - timedelta(minutes=11))
    assert send_email(email.pk) is True
    assert len(mailoutbox) == 1


def test_nobody_without_an_address_is_emailed(org, notify_now, mailoutbox):
    get_user_model().objects.filter(pk=org.bob.user_id).update(email="")
    org.bob.user.refresh_from_db()
    notification = notify_now(org.bob)
    with time_machine.travel(timezone.now() + RESEND_AFTER):
        assert send_unsent_emails_again() == 0
    assert mailoutbox == [] and not OutgoingEmail.objects.filter(key=notification.email_key).exists()
    assert notification.message == "Bob approved your refund."  # told in the app all the same


def test_operators_find_failed_emails_and_send_them_again(
    org, smtp, notify_now, client, mailoutbox, django_capture_on_commit_callbacks
):
    sent = notify_now(org.carol, key="event:sent")
    smtp.down()
    failed = notify_now(org.bob, key="event:failed")
    smtp.up()
    client.force_login(get_user_model().objects.get(username="admin"))
    changelist = reverse("admin:empower_notification_changelist")

    listed = client.get(changelist, {"email": "failed"}).context["cl"].result_list
    assert list(listed) == [failed]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            changelist, {"action": "send_email_again", "_selected_action": [failed.pk, sent.pk]}, follow=True
        )

    assert "1 e-mail queued to be sent." in response.content.decode()
    assert [m.to for m in mailoutbox] == [["carol@example.com"], ["bob@example.com"]]
    assert email_of(failed).sent_at is not None and email_of(failed).attempts == 1
    assert list(client.get(changelist, {"email": "unsent"}).context["cl"].result_list) == []
    sent_list = client.get(changelist, {"email": "sent"})
    assert set(sent_list.context["cl"].result_list) == {sent, failed}
    # Each notification links to its outbox e-mail.
    assert reverse("admin:empower_outgoingemail_change", args=[email_of(sent).pk]) in sent_list.content.decode()


def _settings_with(monkeypatch, **env) -> dict:
    """Load config/settings.py afresh with these environment variables."""
    for name, value in env.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    return runpy.run_path(str(Path(settings_module.__file__)))


def test_email_backend_from_the_environment_overrides_the_one_email_url_names(monkeypatch):
    smtp_url = "smtp+tls://user:secret@mail.example.com:587"
    loaded = _settings_with(monkeypatch, EMAIL_URL=smtp_url, EMAIL_BACKEND=None, EMAIL_TIMEOUT=None)
    assert loaded["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert loaded["EMAIL_TIMEOUT"] == 10  # SMTP never waits forever

    locmem = "django.core.mail.backends.locmem.EmailBackend"
    loaded = _settings_with(monkeypatch, EMAIL_URL=smtp_url, EMAIL_BACKEND=locmem, EMAIL_TIMEOUT="3")
    assert loaded["EMAIL_BACKEND"] == locmem
    assert loaded["EMAIL_HOST"] == "mail.example.com" and loaded["EMAIL_TIMEOUT"] == 3


def test_a_redis_broker_gives_up_within_half_a_second(monkeypatch):
    loaded = _settings_with(monkeypatch, CELERY_BROKER_URL="redis://127.0.0.1:6379/0")
    options = loaded["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert options["socket_connect_timeout"] <= 0.5 and options["socket_timeout"] <= 0.5
    assert options["max_retries"] == 0 and loaded["CELERY_TASK_PUBLISH_RETRY"] is False
