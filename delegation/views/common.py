"""What the authority pages share: their context, a decision type by code, a refusal page.

A refusal on a form is shown by `empower.forms.add_domain_error`, the one adapter every page uses."""

from datetime import datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.formats import date_format

from delegation.models import DecisionType


def page_context(request: HttpRequest) -> dict:
    """What every page here shows: the currency. (The stand-in banner comes with the header, from
    `header_counts`: loading it here too cost every page two more queries.)"""
    return {"currency": settings.EMPOWER_CURRENCY}


def decision_type_or_404(code: str) -> DecisionType:
    return get_object_or_404(DecisionType, code=code)


def moment_shown(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def render_refusal(request: HttpRequest, refusal: str, status: int) -> HttpResponse:
    if request.htmx:
        return render(request, "authority/matrix.html#refusal", {"refusal": refusal}, status=status)
    return render(request, "authority/refused.html", {"refusal": refusal, **page_context(request)}, status=status)
