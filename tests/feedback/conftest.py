"""Feedback fixtures: resolved cases with their surveys, tokens, the mail server, and a clean throttle
per test."""

import pytest
from django.core.cache import cache

from empower.models import OutgoingEmail
from empower.services import case_resolve
from feedback import services
from feedback.models import Survey
from feedback.services import survey_token


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The anonymous throttle counts in the cache: each test starts with a full budget."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def resolve(org, make_case, django_capture_on_commit_callbacks):
    """`resolve(employee=alice, language="is")` opens and resolves a case; returns its survey.

    The on-commit work (the survey e-mail) runs, as it would after a real request.
    """

    def resolve_case(employee=None, *, language: str = "en", name: str | None = None, subject: str = "Broken kettle"):
        employee = employee or org.alice
        case = make_case(employee, subject=subject)
        customer = case.customer
        customer.language = language
        if name is not None:
            customer.name = name
        customer.save()
        with django_capture_on_commit_callbacks(execute=True):
            case_resolve(employee=employee, case=case, resolution_note="Sent a new kettle")
        return Survey.objects.select_related("case__customer").get(case=case)

    return resolve_case


@pytest.fixture
def email_of():
    """`email_of(survey)` / `email_of(follow_up)`: the customer's e-mail in the outbox (None if none)."""

    def outbox_row(row) -> OutgoingEmail | None:
        key = row.email_key if isinstance(row, Survey) else row.reply_email_key
        return OutgoingEmail.objects.filter(key=key).first()

    return outbox_row


@pytest.fixture
def token():
    return lambda survey: survey_token(survey=survey)


@pytest.fixture
def report(org, make_case):
    """Alice reports that the refund per-decision limit stopped her on a case."""

    def file(reporter=None, **kwargs):
        reporter = reporter or org.alice
        case = kwargs.pop("case", None) or make_case(reporter)
        defaults = {"decision_type": org.refund, "limit": "per_decision", "would_have_done": "Refund 150 at once"}
        return services.friction_report_file(reporter=reporter, case=case, **(defaults | kwargs))

    return file
