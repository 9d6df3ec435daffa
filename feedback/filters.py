"""django-filter sets for feedback's list endpoints (and pages).

Every value is bounded to what the database can take, so a wrong one is a 400 on the API (and left
out on a page), never a server error: ids up to 2**63-1, scores in their range, dates that still
exist once converted to UTC.
"""

import django_filters
from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override

from empower.fields import MomentField
from feedback.models import FollowUp, FrictionReport, Survey

ID_MAX = 2**63 - 1  # the largest id a database column holds


class WholeNumberFilter(django_filters.NumberFilter):
    """A whole number from `min_value` to `max_value` (a row id by default: 1 to 2**63-1)."""

    field_class = forms.IntegerField

    def __init__(self, *args, min_value: int = 1, max_value: int = ID_MAX, **kwargs):
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)
        # The API's schema says the same bounds the filter checks.
        set_override(self, "field", {"type": "integer", "minimum": min_value, "maximum": max_value})

    def get_max_validator(self):
        return None  # the field's own max_value bounds it


class DateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 moment read by the one bounded parser (`empower.fields.MomentField`)."""

    field_class = MomentField


def csat_filter(**kwargs) -> WholeNumberFilter:
    return WholeNumberFilter(field_name="csat", min_value=1, max_value=5, **kwargs)


class SurveyFilter(django_filters.FilterSet):
    csat = csat_filter(help_text=_("Exactly this score."))
    csat_min = csat_filter(lookup_expr="gte")
    csat_max = csat_filter(lookup_expr="lte")
    answered = django_filters.BooleanFilter(field_name="answered_at", lookup_expr="isnull", exclude=True)
    answered_after = DateTimeFilter(field_name="answered_at", lookup_expr="gte")
    answered_before = DateTimeFilter(field_name="answered_at", lookup_expr="lt")
    complaint = django_filters.BooleanFilter(field_name="comment_is_complaint")
    handling = django_filters.ChoiceFilter(
        choices=[("first_contact", _("Settled at first contact")), ("escalated", _("Escalated"))],
        method="filter_handling",
    )
    team = WholeNumberFilter(field_name="team_id")
    case = WholeNumberFilter(field_name="case_id")
    resolved_by = django_filters.CharFilter(field_name="resolved_by__user__username", help_text=_("A username."))

    class Meta:
        model = Survey
        fields: list[str] = []

    def filter_handling(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(escalated=value == "escalated")


class FollowUpFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FollowUp.Status.choices)
    reason = django_filters.ChoiceFilter(choices=FollowUp.Reason.choices)
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    assigned_to = django_filters.CharFilter(field_name="assigned_to__user__username", help_text=_("A username."))
    resolver = django_filters.CharFilter(field_name="resolver__user__username", help_text=_("A username."))
    case = WholeNumberFilter(field_name="case_id")

    class Meta:
        model = FollowUp
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = {"status": FollowUp.Status.OPEN, "due_at__lte": timezone.now()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class FrictionReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FrictionReport.Status.choices)
    decision_type = django_filters.CharFilter(field_name="decision_type__code", help_text=_("A decision type code."))
    # Not `limit`: that is the page size of the feedback lists (`?limit=&offset=`).
    cap = django_filters.ChoiceFilter(field_name="limit", choices=FrictionReport.Limit.choices)
    team = WholeNumberFilter(field_name="team_id")
    reporter = django_filters.CharFilter(field_name="reporter__user__username", help_text=_("A username."))
    assigned_to = django_filters.CharFilter(field_name="assigned_to__user__username", help_text=_("A username."))
    case = WholeNumberFilter(field_name="case_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = FrictionReport
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = {"status": FrictionReport.Status.OPEN, "due_at__lte": timezone.now()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)
