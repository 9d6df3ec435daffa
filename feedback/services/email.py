"""Customers' e-mails of the feedback loop (the survey link, the reply to a follow-up): rendered here in
the customer's language, then queued in the organization's one outbox (`empower.services.email_queue`),
which sends each from a worker after commit, exactly once, and retries what failed while the link in
it still works.
"""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from empower.models import OutgoingEmail
from empower.services import email_cancel, email_queue
from feedback.models import FollowUp, Survey
from feedback.services.links import survey_expires_at, survey_url


def _render(*, language: str, template: str, context: dict) -> tuple[str, str]:
    """Subject and body of `feedback/email/<template>_subject.txt|_body.txt` in `language` (the
    caller's own language is restored afterwards)."""
    with translation.override(language):
        subject = render_to_string(f"feedback/email/{template}_subject.txt", context)
        body = render_to_string(f"feedback/email/{template}_body.txt", context)
    return subject, body


def survey_email_queue(*, survey: Survey) -> OutgoingEmail | None:
    """Queue the survey link for the customer, once per survey; the outbox tries it until the link
    expires. An answered survey asks nothing more: no e-mail. Call it in the survey's transaction."""
    if survey.is_answered:
        return None
    customer = survey.case.customer
    context = {
        "first_name": customer.first_name,
        "subject": survey.case.subject,
        "url": survey_url(survey=survey),
        "days": settings.FEEDBACK_SURVEY_DAYS,
    }
    subject, body = _render(language=customer.language, template="survey", context=context)
    return email_queue(
        key=survey.email_key,
        to=customer.email,
        subject=subject,
        body=body,
        language=customer.language,
        send_until=survey_expires_at(survey=survey),
    )


def survey_email_cancel(*, survey: Survey) -> bool:
    """The customer answered before their survey e-mail went (another copy of the link, a retry still
    waiting): it would only ask again, so it does not go. True when one was withdrawn."""
    return email_cancel(key=survey.email_key)


def reply_email_queue(*, follow_up: FollowUp) -> OutgoingEmail | None:
    """Queue the reply to the customer ("you said, we did"), once per follow-up, tried until the link
    in it expires. Call it in the reply's transaction."""
    survey = follow_up.survey
    customer = follow_up.case.customer
    context = {
        "first_name": customer.first_name,
        "subject": follow_up.case.subject,
        "reply": follow_up.reply,
        "url": survey_url(survey=survey),
    }
    subject, body = _render(language=customer.language, template="reply", context=context)
    return email_queue(
        key=follow_up.reply_email_key,
        to=customer.email,
        subject=subject,
        body=body,
        language=customer.language,
        send_until=survey_expires_at(survey=survey),
    )
