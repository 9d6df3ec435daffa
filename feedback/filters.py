"""django-filter sets for feedback's list endpoints (and pages)."""

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import FollowUp, FrictionReport, Survey


class SurveyFilter(django_filters.FilterSet):
    csat = django_filters.NumberFilter(field_name="csat", help_text=_("Exactly this score."))
    csat_min = django_filters.NumberFilter(field_name="csat", lookup_expr="gte")
    csat_max = django_filters.NumberFilter(field_name="csat", lookup_expr="lte")
    answered = django_filters.BooleanFilter(field_name="answered_at", lookup_expr="isnull", exclude=True)
    answered_after = django_filters.IsoDateTimeFilter(field_name="answered_at", lookup_expr="gte")
    answered_before = django_filters.IsoDateTimeFilter(field_name="answered_at", lookup_expr="lt")
    complaint = django_filters.BooleanFilter(field_name="comment_is_complaint")
    handling = django_filters.ChoiceFilter(
        choices=[("first_contact", _("Settled at first contact")), ("escalated", _("Escalated"))],
        method="filter_handling",
    )
    team = django_filters.NumberFilter(field_name="team_id")
    case = django_filters.NumberFilter(field_name="case_id")
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
    case = django_filters.NumberFilter(field_name="case_id")

    class Meta:
        model = FollowUp
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = {"status": FollowUp.Status.OPEN, "due_at__lte": timezone.now()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)


class FrictionReportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=FrictionReport.Status.choices)
    decision_type = django_filters.CharFilter(field_name="decision_type__code", help_text=_("A decision type code."))
    limit = django_filters.ChoiceFilter(choices=FrictionReport.Limit.choices)
    team = django_filters.NumberFilter(field_name="team_id")
    reporter = django_filters.CharFilter(field_name="reporter__user__username", help_text=_("A username."))
    assigned_to = django_filters.CharFilter(field_name="assigned_to__user__username", help_text=_("A username."))
    case = django_filters.NumberFilter(field_name="case_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue")

    class Meta:
        model = FrictionReport
        fields: list[str] = []

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = {"status": FrictionReport.Status.OPEN, "due_at__lte": timezone.now()}
        return queryset.filter(**overdue) if value else queryset.exclude(**overdue)
