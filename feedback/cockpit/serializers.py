"""The shapes of `/api/v1/insights/decisions/` for the OpenAPI document (rows are built by `tables`)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from feedback.cockpit.selectors import DEFAULT_PERIOD, PERIODS


class DecisionsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(PERIODS), default=DEFAULT_PERIOD)
    team = serializers.CharField(required=False, allow_blank=True)


class LimitsHitSerializer(serializers.Serializer):
    per_decision = serializers.IntegerField()
    per_day = serializers.IntegerField()
    per_month = serializers.IntegerField()
    per_customer_month = serializers.IntegerField()


def _seconds(help_text):
    return serializers.FloatField(allow_null=True, help_text=help_text)


class DecisionRowSerializer(serializers.Serializer):
    team = serializers.CharField(allow_null=True, help_text=_("The team's name; null in the total."))
    team_id = serializers.IntegerField(allow_null=True)
    decisions = serializers.IntegerField(help_text=_("Decisions made in the period by people of the team."))
    within_authority = serializers.IntegerField()
    escalated = serializers.IntegerField()
    at_edge_share = serializers.FloatField(
        allow_null=True, help_text=_("within_authority / decisions, 0 to 1 (null without decisions).")
    )
    escalation_rate = serializers.FloatField(allow_null=True, help_text=_("escalated / decisions."))
    limits_hit = LimitsHitSerializer(help_text=_("Escalations that broke each limit."))
    approved_as_asked = serializers.IntegerField()
    approved_lower = serializers.IntegerField()
    rejected = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    waiting = serializers.IntegerField()
    moved_up_overdue = serializers.IntegerField(help_text=_("Escalations that moved up a level for a deadline."))
    moved_up_capacity = serializers.IntegerField(
        help_text=_("Escalations that moved up because the approver's remaining authority no longer covered them.")
    )
    time_to_decision_p50 = _seconds(_("Median seconds from escalation to an approver's answer."))
    time_to_decision_p90 = _seconds(_("90th percentile of those seconds."))
    working_time_to_decision_p50 = _seconds(_("The median counted in working hours (in seconds)."))
    working_time_to_decision_p90 = _seconds(_("The 90th percentile in working hours (in seconds)."))
    amount_within_authority = serializers.DecimalField(max_digits=16, decimal_places=2)
    amount_approved_on_escalation = serializers.DecimalField(max_digits=16, decimal_places=2)
    overdue_now = serializers.IntegerField(help_text=_("Escalations waiting past their deadline now."))


class TypeRowSerializer(serializers.Serializer):
    decision_type = serializers.CharField()
    code = serializers.CharField()
    decisions = serializers.IntegerField()
    within_authority = serializers.IntegerField()
    escalated = serializers.IntegerField()
    escalation_rate = serializers.FloatField(allow_null=True)
    limits_hit = LimitsHitSerializer()


class WeekRowSerializer(serializers.Serializer):
    week = serializers.DateField(help_text=_("The Monday the week starts on."))
    decisions = serializers.IntegerField()
    within_authority = serializers.IntegerField()
    escalated = serializers.IntegerField()
    at_edge_share = serializers.FloatField(allow_null=True)


class DecisionsInsightsSerializer(serializers.Serializer):
    period = serializers.CharField()
    since = serializers.DateField(allow_null=True, help_text=_("The first day counted; null for all time."))
    as_of = serializers.DateTimeField(allow_null=True, help_text=_("When the summaries were last brought up to date."))
    teams = DecisionRowSerializer(many=True)
    total = DecisionRowSerializer()
    by_type = TypeRowSerializer(many=True)
    weeks = WeekRowSerializer(many=True)
