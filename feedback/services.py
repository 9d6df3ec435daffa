from django.conf import settings
from django.core import signing
from django.db import transaction
from django.dispatch import receiver
from django.urls import reverse

from empower.models import Case
from empower.services import case_resolved
from feedback.models import Survey

TOKEN_SALT = "feedback.survey"


def survey_token(*, survey: Survey) -> str:
    return signing.TimestampSigner(salt=TOKEN_SALT).sign(str(survey.pk))


def survey_url(*, survey: Survey) -> str:
    return settings.SITE_URL + reverse("feedback:survey", args=[survey_token(survey=survey)])


@transaction.atomic
def survey_request(*, case: Case) -> Survey:
    """Ask the customer of a resolved case how it went (once per case)."""
    survey, _ = Survey.objects.get_or_create(case=case)
    return survey


@receiver(case_resolved)
def _on_case_resolved(sender, case: Case, **kwargs) -> None:
    survey_request(case=case)
