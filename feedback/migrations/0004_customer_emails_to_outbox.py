"""Carry the customers' e-mails into the organization's outbox: the survey e-mail keyed "survey:<id>",
the reply e-mail keyed "reply:<follow-up id>".

Sent ones become sent rows (at `emailed_at` / `reply_emailed_at`), so the admin still shows that they
went. Unsent ones become unsent rows that the outbox's periodic re-send sends while the link in them
still works, as feedback's own re-send did: a survey until FEEDBACK_SURVEY_DAYS after it was created,
a reply until FEEDBACK_SURVEY_DAYS after it was given. A survey answered before its e-mail went gets
no row: it would only ask again (the old re-send skipped it too). Subject and body are rendered as
the worker rendered them at send time, in the customer's language, with the same signed link.

Backwards, `emailed_at` and `reply_emailed_at` are set from the rows' `sent_at` and the rows go.
"""

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.db import migrations
from django.template.loader import render_to_string
from django.utils import translation

SURVEY = "survey:"
REPLY = "reply:"
SUBJECT_MAX = 78
BATCH = 1000
TOKEN_SALT = "feedback.survey"


class _SurveySigner(signing.TimestampSigner):
    # A frozen copy of `feedback.services.links` (a migration must not change when the service does):
    # the link is signed with the survey's creation time.
    def __init__(self, *, at):
        super().__init__(salt=TOKEN_SALT)
        self._at = at

    def timestamp(self) -> str:
        return signing.b62_encode(int(self._at.timestamp()))


def _url(survey) -> str:
    token = _SurveySigner(at=survey.created_at).sign(str(survey.pk))
    return f"{settings.SITE_URL.rstrip('/')}/feedback/{token}/"  # the contract's fixed address


def _first_name(customer) -> str:
    return customer.name.split()[0] if customer.name.strip() else ""


def _subject(text: str) -> str:
    # A frozen copy of `empower.services.email_subject`.
    first = next((line for line in str(text).splitlines() if line.strip()), "")
    subject = " ".join(first.split())
    if len(subject) > SUBJECT_MAX:
        subject = subject[: SUBJECT_MAX - 1].rstrip() + "…"
    return subject


def _render(language: str, template: str, context: dict) -> tuple[str, str]:
    with translation.override(language):
        subject = render_to_string(f"feedback/email/{template}_subject.txt", context)
        body = render_to_string(f"feedback/email/{template}_body.txt", context)
    return _subject(subject), body


def customer_emails_to_outbox(apps, schema_editor):
    # Queued when the survey was made (or the reply given), not now: auto_now_add is turned off on
    # the historical model while this runs, so the re-send's grace period counts from then.
    created_at = apps.get_model("empower", "OutgoingEmail")._meta.get_field("created_at")
    created_at.auto_now_add = False
    try:
        _copy_surveys(apps)
        _copy_replies(apps)
    finally:
        created_at.auto_now_add = True


def _email(apps, *, key, created_at, customer, template, context, sent_at):
    OutgoingEmail = apps.get_model("empower", "OutgoingEmail")
    subject, body = _render(customer.language, template, context)
    return OutgoingEmail(
        key=key,
        created_at=created_at,
        to=customer.email,
        subject=subject,
        body=body,
        language=customer.language,
        send_until=created_at + timedelta(days=settings.FEEDBACK_SURVEY_DAYS),
        sent_at=sent_at,
        attempts=1 if sent_at else 0,
    )


def _save(apps, rows: list) -> list:
    apps.get_model("empower", "OutgoingEmail").objects.bulk_create(rows, ignore_conflicts=True)
    return []


def _copy_surveys(apps) -> None:
    Survey = apps.get_model("feedback", "Survey")
    surveys = Survey.objects.exclude(emailed_at__isnull=True, answered_at__isnull=False).exclude(case__customer__email="")
    rows = []
    for survey in surveys.select_related("case__customer").order_by("pk").iterator(chunk_size=BATCH):
        customer = survey.case.customer
        context = {
            "first_name": _first_name(customer),
            "subject": survey.case.subject,
            "url": _url(survey),
            "days": settings.FEEDBACK_SURVEY_DAYS,
        }
        rows.append(
            _email(
                apps,
                key=f"{SURVEY}{survey.pk}",
                created_at=survey.created_at,
                customer=customer,
                template="survey",
                context=context,
                sent_at=survey.emailed_at,
            )
        )
        if len(rows) >= BATCH:
            rows = _save(apps, rows)
    _save(apps, rows)


def _copy_replies(apps) -> None:
    FollowUp = apps.get_model("feedback", "FollowUp")
    replies = FollowUp.objects.filter(status="done", replied_at__isnull=False).exclude(case__customer__email="")
    rows = []
    for follow_up in replies.select_related("survey", "case__customer").order_by("pk").iterator(chunk_size=BATCH):
        customer = follow_up.case.customer
        context = {
            "first_name": _first_name(customer),
            "subject": follow_up.case.subject,
            "reply": follow_up.reply,
            "url": _url(follow_up.survey),
        }
        rows.append(
            _email(
                apps,
                key=f"{REPLY}{follow_up.pk}",
                created_at=follow_up.replied_at,
                customer=customer,
                template="reply",
                context=context,
                sent_at=follow_up.reply_emailed_at,
            )
        )
        if len(rows) >= BATCH:
            rows = _save(apps, rows)
    _save(apps, rows)


def outbox_to_customer_emails(apps, schema_editor):
    OutgoingEmail = apps.get_model("empower", "OutgoingEmail")
    Survey = apps.get_model("feedback", "Survey")
    FollowUp = apps.get_model("feedback", "FollowUp")
    for prefix, model, field in ((SURVEY, Survey, "emailed_at"), (REPLY, FollowUp, "reply_emailed_at")):
        emails = OutgoingEmail.objects.filter(key__startswith=prefix)
        for key, sent_at in emails.filter(sent_at__isnull=False).values_list("key", "sent_at").iterator(BATCH):
            model.objects.filter(pk=int(key.removeprefix(prefix))).update(**{field: sent_at})
        emails.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("empower", "0003_outgoingemail_audit_once_key"),
        ("feedback", "0003_stand_ins"),
    ]

    operations = [
        migrations.RunPython(customer_emails_to_outbox, outbox_to_customer_emails),
    ]
