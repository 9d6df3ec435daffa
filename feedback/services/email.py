"""Customers' e-mails of the feedback loop (the survey link, the reply to a follow-up), sent from a
worker: each send claims its row first, so it goes once, and releases the claim when it fails so the
periodic retry sends it later. Kept together here to move to one outbox later.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.utils import timezone, translation

from feedback.models import FollowUp, Survey
from feedback.services.links import survey_url

logger = logging.getLogger(__name__)


def _send(*, to: str, language: str, template: str, context: dict) -> None:
    with translation.override(language):
        subject = " ".join(render_to_string(f"feedback/email/{template}_subject.txt", context).split())
        body = render_to_string(f"feedback/email/{template}_body.txt", context)
    send_mail(subject=subject[:200], message=body, from_email=None, recipient_list=[to])


def send_survey_email(*, survey_id: int) -> bool:
    """E-mail the survey link in the customer's language; the row is claimed first so it goes once."""
    claimed = Survey.objects.filter(pk=survey_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    survey = Survey.objects.select_related("case__customer").get(pk=survey_id)
    customer = survey.case.customer
    context = {
        "first_name": customer.first_name,
        "subject": survey.case.subject,
        "url": survey_url(survey=survey),
        "days": settings.FEEDBACK_SURVEY_DAYS,
    }
    sent = False
    try:
        _send(to=customer.email, language=customer.language, template="survey", context=context)
        sent = True
    except OSError:
        logger.exception("Survey e-mail %s could not be sent", survey_id)
    finally:
        if not sent:  # also when a task's time limit interrupts: release the claim so a retry sends it
            Survey.objects.filter(pk=survey_id).update(emailed_at=None)
    return sent


def send_reply_email(*, follow_up_id: int) -> bool:
    """E-mail the reply to the customer in their language ("you said, we did"), once."""
    claimed = FollowUp.objects.filter(
        pk=follow_up_id, status=FollowUp.Status.DONE, reply_emailed_at__isnull=True
    ).update(reply_emailed_at=timezone.now())
    if not claimed:
        return False
    follow_up = FollowUp.objects.select_related("survey", "case__customer").get(pk=follow_up_id)
    customer = follow_up.case.customer
    context = {
        "first_name": customer.first_name,
        "subject": follow_up.case.subject,
        "reply": follow_up.reply,
        "url": survey_url(survey=follow_up.survey),
    }
    sent = False
    try:
        _send(to=customer.email, language=customer.language, template="reply", context=context)
        sent = True
    except OSError:
        logger.exception("Follow-up reply e-mail %s could not be sent", follow_up_id)
    finally:
        if not sent:  # release the claim: the periodic retry (or an operator) sends it later
            FollowUp.objects.filter(pk=follow_up_id).update(reply_emailed_at=None)
    return sent
