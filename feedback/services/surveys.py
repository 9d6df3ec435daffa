"""Asking the customer: the survey when a case is resolved, their answer, a complaint afterwards, and
staff reading a comment as a complaint. A low score or a complaint opens a follow-up.
"""

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from empower.errors import Conflict, InvalidInput
from empower.models import Case, Employee
from empower.services import audit, case_resolved
from feedback import selectors
from feedback.models import COMMENT_MAX, FollowUp, Survey
from feedback.services.common import _text
from feedback.services.email import survey_email_cancel, survey_email_queue
from feedback.services.follow_ups import _follow_up_open


@transaction.atomic
def survey_request(*, case: Case) -> Survey:
    """Ask the customer of a resolved case how it went: once per case, by an outbox e-mail that a
    worker sends after commit (never from the request)."""
    survey, created = Survey.objects.get_or_create(
        case=case, defaults={"team_id": case.team_id, "resolved_by_id": case.resolved_by_id}
    )
    if created:
        survey_email_queue(survey=survey)
    return survey


@receiver(case_resolved)
def _on_case_resolved(sender, case: Case, **kwargs) -> None:
    survey_request(case=case)


def survey_answer(*, survey_id: int, csat, nps=None, comment: str = "", comment_is_complaint: bool = False) -> Survey:
    """Record the customer's answer, once. A low score (CSAT 1-2) or a comment flagged as a complaint
    opens a follow-up for the employee who resolved the case. A survey e-mail still waiting to go is
    withdrawn: it would only ask again.
    """
    csat = _score(csat, field="csat", low=1, high=5, message=_("Choose a score from 1 to 5."))
    nps = None if nps in (None, "") else _score(nps, field="nps", low=0, high=10, message=_("Choose 0 to 10."))
    comment = _text(comment, field="comment", max_length=COMMENT_MAX)
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("case").get(pk=survey_id)
        if survey.is_answered:
            raise Conflict(_("You have already answered: thank you."), code="already_answered")
        survey.csat, survey.nps, survey.comment = csat, nps, comment
        survey.comment_is_complaint = bool(comment_is_complaint)
        survey.answered_at = timezone.now()
        survey.save(update_fields=["csat", "nps", "comment", "comment_is_complaint", "answered_at"])
        survey_email_cancel(survey=survey)
        audit(
            actor=None,
            action="survey.answered",
            target=survey,
            after={"csat": csat, "nps": nps, "complaint": survey.comment_is_complaint},
            subject=survey.resolved_by,
        )
        if survey.is_low_score:
            _follow_up_open(survey=survey, reason=FollowUp.Reason.LOW_SCORE)
        elif survey.comment_is_complaint:
            _follow_up_open(survey=survey, reason=FollowUp.Reason.FLAGGED_COMMENT)
    return survey


def _score(value, *, field: str, low: int, high: int, message) -> int:
    try:
        score = int(value)
        if isinstance(value, float | bool) or str(score) != str(value).strip():
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput(message, field_errors={field: [message]}) from None
    if not low <= score <= high:
        raise InvalidInput(message, field_errors={field: [message]})
    return score


def survey_complain(*, survey_id: int, message: str) -> FollowUp:
    """The customer, after answering, raises a complaint: a person must answer it by the deadline."""
    text = _text(
        message,
        field="message",
        max_length=COMMENT_MAX,
        required=True,
        required_message=_("Tell us what went wrong."),
    )
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("case").get(pk=survey_id)
        if refusal := selectors.complaint_refusal(survey=survey):
            raise refusal
        return _follow_up_open(survey=survey, reason=FollowUp.Reason.COMPLAINT, customer_message=text)


def survey_flag_complaint(*, survey_id: int, employee: Employee) -> FollowUp:
    """Staff read a comment as a complaint: it gets a follow-up like a low score does.

    Only those who may handle that follow-up flag it: the employee who resolved the case and anyone
    above them (a colleague could open work they may then not even see).
    """
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("case").get(pk=survey_id)
        if refusal := selectors.flag_complaint_refusal(employee=employee, survey=survey):
            raise refusal
        survey.comment_is_complaint = True
        survey.save(update_fields=["comment_is_complaint"])
        audit(
            actor=employee,
            action="survey.flagged_complaint",
            target=survey,
            before={"complaint": False},
            after={"complaint": True},
            subject=survey.resolved_by,
        )
        return _follow_up_open(survey=survey, reason=FollowUp.Reason.FLAGGED_COMMENT, actor=employee)
