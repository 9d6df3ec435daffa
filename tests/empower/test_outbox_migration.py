"""The notifications' e-mails move into the outbox (migration 0004) and back."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from empower.models import Notification, OutgoingEmail
from empower.services import emails_send_again

BEFORE = ("empower", "0003_outgoingemail_audit_once_key")


@pytest.fixture
def migrator(transactional_db):
    """Migrates the empower app to a given node; always back to the latest at the end."""

    def migrate(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([target])
        return executor.loader.project_state(target).apps

    yield migrate
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_notification_emails_become_outbox_rows(org, migrator, settings, mailoutbox):
    settings.SITE_URL = "https://empower.example"
    old = migrator(BEFORE).get_model("empower", "Notification")
    two_hours_ago = timezone.now() - timedelta(hours=2)

    def notification(recipient, key, **fields):
        made = old.objects.create(recipient_id=recipient.pk, key=key, message="Bob approved it.\nWell done.", **fields)
        old.objects.filter(pk=made.pk).update(created_at=two_hours_ago)
        return made.pk

    unsent = notification(org.alice, "unsent", url="/cases/7/", email_attempts=3, email_error="SMTPError: down")
    claimed = notification(org.erin, "claimed", email_claimed_at=timezone.now())
    sent_at = timezone.now() - timedelta(hours=1)
    sent = notification(org.frank, "sent", emailed_at=sent_at, email_attempts=1)
    org.gina.user.email = ""
    org.gina.user.save()
    no_address = notification(org.gina, "no-address")

    migrator(("empower", "0005_remove_notification_email_fields"))

    emails = {email.key: email for email in OutgoingEmail.objects.all()}
    assert set(emails) == {Notification.email_key_of(pk) for pk in (unsent, claimed, sent)}
    waiting = emails[Notification.email_key_of(unsent)]
    assert waiting.to == "alice@example.com" and waiting.language == org.alice.language
    assert waiting.subject == "Bob approved it."
    assert waiting.body == "Bob approved it.\nWell done.\n\nhttps://empower.example/cases/7/"
    assert waiting.sent_at is None and waiting.attempts == 3 and waiting.last_error == "SMTPError: down"
    assert waiting.created_at == two_hours_ago and waiting.send_until == two_hours_ago + timedelta(days=2)
    assert emails[Notification.email_key_of(claimed)].claimed_at is not None
    went = emails[Notification.email_key_of(sent)]
    assert went.sent_at == sent_at and went.attempts == 1
    assert Notification.objects.filter(pk=no_address).exists()

    # The periodic re-send sends what was unsent (the claimed one once its claim expires).
    assert emails_send_again() == 1
    assert [m.to for m in mailoutbox] == [["alice@example.com"]]

    # And back: the notifications get their e-mail state again.
    old = migrator(BEFORE).get_model("empower", "Notification")
    assert old.objects.get(pk=sent).emailed_at == sent_at
    assert old.objects.get(pk=unsent).emailed_at is not None and old.objects.get(pk=unsent).email_attempts == 4
    assert old.objects.get(pk=claimed).emailed_at is None
    assert not OutgoingEmail.objects.exists()
