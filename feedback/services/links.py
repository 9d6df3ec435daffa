"""The customer's link: signed with the survey's creation time, alive FEEDBACK_SURVEY_DAYS from the
survey's last news, opened without an account.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from empower.errors import DomainError, NotFound
from feedback import selectors
from feedback.models import Survey

TOKEN_SALT = "feedback.survey"


class LinkExpired(DomainError):
    status = 410
    code = "expired"


class _SurveySigner(signing.TimestampSigner):
    """Signs with the survey's creation time: every link to one survey is the same and expires with it."""

    def __init__(self, *, at: datetime | None = None):
        super().__init__(salt=TOKEN_SALT)
        self._at = at

    def timestamp(self) -> str:
        if self._at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._at.timestamp()))


def survey_token(*, survey: Survey) -> str:
    return _SurveySigner(at=survey.created_at).sign(str(survey.pk))


def survey_url(*, survey: Survey) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("feedback:survey", args=[survey_token(survey=survey)])


def survey_expires_at(*, survey: Survey) -> datetime:
    """A link lives FEEDBACK_SURVEY_DAYS from the survey's last news: sent, answered, a follow-up
    opened (a complaint) or replied to.

    Expiry stops late answers, not reading: a customer who answered on day 29 still reads the reply
    that came on day 31.
    """
    news = [survey.created_at, survey.answered_at or survey.created_at]
    for follow_up in survey.follow_ups.all():
        news += [follow_up.created_at, follow_up.replied_at or follow_up.created_at]
    last_news = max(news)
    return last_news + timedelta(days=settings.FEEDBACK_SURVEY_DAYS)


def survey_from_token(*, token: str) -> Survey:
    """The survey a customer's link opens. Tampered or unknown: 404; past its life: 410."""
    try:
        survey_id = int(_SurveySigner().unsign(token))
    except (signing.BadSignature, ValueError) as error:
        raise NotFound(_("This link is not valid."), code="unknown_link") from error
    survey = selectors.survey_for_customer(survey_id=survey_id)
    if survey is None:
        raise NotFound(_("This link is not valid."), code="unknown_link")
    if timezone.now() > survey_expires_at(survey=survey):
        raise LinkExpired(_("This link has expired."), code="expired")
    return survey
