"""Carry the notifications' e-mails into the outbox, keyed "notification:<id>".

Unsent ones (to recipients with an address) become unsent outbox rows with their attempts, last
error and claim, so the periodic re-send sends them as before (until two days after their
notification, as before); sent ones become sent rows, so the admin still shows that they went.
Subject and body are rendered as the worker used to at send time: the message's first line, and
the message with its link on SITE_URL.
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations

PREFIX = "notification:"
GIVE_UP_AFTER = timedelta(days=2)  # the re-send's window for notification e-mails when this ran
SUBJECT_MAX = 78
BATCH = 1000


def _subject(text: str) -> str:
    # A frozen copy of `services.email_subject` (a migration must not change when the service does).
    first = next((line for line in str(text).splitlines() if line.strip()), "")
    subject = " ".join(first.split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    return subject


def notification_emails_to_outbox(apps, schema_editor):
    # Queued when its notification was written (the re-send's grace period counts from then), not
    # now: auto_now_add is turned off on the historical model while this runs.
    created_at = apps.get_model("empower", "OutgoingEmail")._meta.get_field("created_at")
    created_at.auto_now_add = False
    try:
        _copy(apps)
    finally:
        created_at.auto_now_add = True


def _copy(apps) -> None:
    Notification = apps.get_model("empower", "Notification")
    OutgoingEmail = apps.get_model("empower", "OutgoingEmail")
    site = getattr(settings, "SITE_URL", "")
    # Every e-mail sent, and every one still to send: not those never meant to go (no address).
    emails = Notification.objects.exclude(emailed_at__isnull=True, recipient__user__email="")
    rows = []
    for notification in emails.select_related("recipient__user").order_by("pk").iterator(chunk_size=BATCH):
        link = f"{site}{notification.url}" if notification.url else ""
        rows.append(
            OutgoingEmail(
                key=f"{PREFIX}{notification.pk}",
                created_at=notification.created_at,
                to=notification.recipient.user.email,
                subject=_subject(notification.message),
                body=f"{notification.message}\n\n{link}".strip(),
                language=notification.recipient.language,
                send_until=notification.created_at + GIVE_UP_AFTER,
                claimed_at=notification.email_claimed_at,
                sent_at=notification.emailed_at,
                attempts=notification.email_attempts,
                last_error=notification.email_error,
            )
        )
        if len(rows) >= BATCH:
            OutgoingEmail.objects.bulk_create(rows, ignore_conflicts=True)
            rows = []
    OutgoingEmail.objects.bulk_create(rows, ignore_conflicts=True)


def outbox_to_notification_emails(apps, schema_editor):
    Notification = apps.get_model("empower", "Notification")
    OutgoingEmail = apps.get_model("empower", "OutgoingEmail")
    emails = OutgoingEmail.objects.filter(key__startswith=PREFIX).order_by("pk")
    for email in emails.iterator(chunk_size=BATCH):
        Notification.objects.filter(pk=int(email.key.removeprefix(PREFIX))).update(
            emailed_at=email.sent_at,
            email_claimed_at=email.claimed_at,
            email_attempts=email.attempts,
            email_error=email.last_error,
        )
    emails.delete()


class Migration(migrations.Migration):

    dependencies = [
        ('empower', '0003_outgoingemail_audit_once_key'),
    ]

    operations = [
        migrations.RunPython(notification_emails_to_outbox, outbox_to_notification_emails),
    ]
