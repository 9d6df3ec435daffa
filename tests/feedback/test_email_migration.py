"""The customers' e-mails move into the outbox (feedback migration 0004) and back."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from empower.models import OutgoingEmail
from empower.services import emails_send_again
from feedback import services
from feedback.models import FollowUp, Survey

BEFORE = ("feedback", "0003_stand_ins")
AFTER = ("feedback", "0005_remove_customer_email_fields")


@pytest.fixture
def migrator(transactional_db):
    """Migrates to a given node; always back to the latest at the end."""

    def migrate(target):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate([target])
        return executor.loader.project_state(target).apps

    yield migrate
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_customer_emails_become_outbox_rows_and_back(org, make_case, migrator, settings, mailoutbox):
    settings.SITE_URL = "https://empower.example"
    old = migrator(BEFORE)
    OldSurvey, OldFollowUp = old.get_model("feedback", "Survey"), old.get_model("feedback", "FollowUp")
    now = timezone.now()

    def survey(language="en", *, created=now - timedelta(hours=2), **fields):
        case = make_case(org.alice, subject="Broken kettle")
        case.customer.language = language
        case.customer.save()
        return OldSurvey.objects.create(case_id=case.pk, resolved_by_id=org.alice.pk, created_at=created, **fields)

    def replied(survey, *, emailed_at=None):
        return OldFollowUp.objects.create(
            survey=survey,
            case_id=survey.case_id,
            reason="low_score",
            status="done",
            resolver_id=org.alice.pk,
            assigned_to_id=org.alice.pk,
            due_at=now + timedelta(hours=40),
            created_at=now - timedelta(hours=3),
            action_taken="Refunded in full",
            reply="We refunded you.",
            replied_by_id=org.alice.pk,
            replied_at=now - timedelta(hours=1),
            reply_emailed_at=emailed_at,
        )

    answered = {"answered_at": now - timedelta(hours=1), "csat": 1}
    sent = survey("pl", emailed_at=now - timedelta(hours=2), **answered)
    unsent = survey("is")
    answered_first = survey(**answered)  # answered before its e-mail went: it never goes
    dead = survey(created=now - timedelta(days=40))  # its link expired unsent
    reply_sent = replied(sent, emailed_at=now - timedelta(minutes=50))
    reply_unsent = replied(answered_first)
    OldFollowUp.objects.create(  # still open: nothing to e-mail
        survey=unsent, case_id=unsent.case_id, reason="complaint", resolver_id=org.alice.pk,
        assigned_to_id=org.alice.pk, due_at=now + timedelta(hours=40),
    )  # fmt: skip

    migrator(AFTER)

    emails = {email.key: email for email in OutgoingEmail.objects.filter(key__regex=r"^(survey|reply):")}
    assert set(emails) == {
        *(Survey.email_key_of(s.pk) for s in (sent, unsent, dead)),
        *(FollowUp.reply_email_key_of(f.pk) for f in (reply_sent, reply_unsent)),
    }
    went = emails[Survey.email_key_of(sent.pk)]
    assert went.sent_at == sent.emailed_at and went.language == "pl" and "Broken kettle" in went.subject
    waiting = emails[Survey.email_key_of(unsent.pk)]
    assert (
        waiting.sent_at is None
        and waiting.language == "is"
        and waiting.to == Survey.objects.get(pk=unsent.pk).case.customer.email
    )
    assert waiting.created_at == unsent.created_at and waiting.send_until == unsent.created_at + timedelta(days=30)
    # The link in it is the survey's own, and it opens the survey.
    link = re.search(r"https://empower\.example/feedback/(\S+)/", waiting.body)
    assert services.survey_from_token(token=link.group(1)).pk == unsent.pk
    assert link.group(0) == services.survey_url(survey=Survey.objects.get(pk=unsent.pk))
    assert emails[Survey.email_key_of(dead.pk)].send_until < now
    assert emails[FollowUp.reply_email_key_of(reply_sent.pk)].sent_at == reply_sent.reply_emailed_at
    reply = emails[FollowUp.reply_email_key_of(reply_unsent.pk)]
    assert reply.sent_at is None and "We refunded you." in reply.body and "Refunded in full" not in reply.body
    assert reply.send_until == reply_unsent.replied_at + timedelta(days=30)

    # The outbox's re-send sends what was waiting while its link works: not the dead one.
    assert emails_send_again() == 2
    assert sorted(m.to[0] for m in mailoutbox) == sorted([waiting.to, reply.to])

    # And back: the surveys and follow-ups get their e-mail times again.
    old = migrator(BEFORE)
    OldSurvey, OldFollowUp = old.get_model("feedback", "Survey"), old.get_model("feedback", "FollowUp")
    assert OldSurvey.objects.get(pk=sent.pk).emailed_at == sent.emailed_at
    assert OldSurvey.objects.get(pk=unsent.pk).emailed_at is not None  # sent just now
    assert OldSurvey.objects.get(pk=dead.pk).emailed_at is None
    assert OldFollowUp.objects.get(pk=reply_unsent.pk).reply_emailed_at is not None
    assert OldFollowUp.objects.get(pk=reply_sent.pk).reply_emailed_at == reply_sent.reply_emailed_at
    assert not OutgoingEmail.objects.filter(key__regex=r"^(survey|reply):").exists()
