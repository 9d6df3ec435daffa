"""Small input and output serializers for feedback's API.

Input serializers only check shapes; the rules (ranges, who may act, once only) live in
`feedback.services`. The customer's serializer shows nothing beyond the case's subject and the
customer's first name.
"""

from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from delegation.models import DecisionType
from empower.models import Case, Employee, Role
from empower.pagination import ID_MAX
from empower.serializers import text_input
from feedback.models import COMMENT_MAX, REPLY_MAX, FollowUp, FrictionAnswer, FrictionReport, Survey
from feedback.selectors import DEFAULT_INSIGHT_PERIOD, INSIGHT_PERIODS
from feedback.services import survey_expires_at

# What feedback's services keep of a text (`feedback.services.common.clean_text` drops control and
# bidirectional-override characters): a required text must have one visible character beyond those.
SAYS_SOMETHING = RegexValidator(r"[^\s\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", message=_("Write something here."))


def username(source: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(source=f"{source}.user.username", help_text=_("A username."), **kwargs)


# --- resolving a case ---------------------------------------------------------------------------


class CaseResolveInputSerializer(serializers.Serializer):
    resolution_note = text_input(max_length=5000, allow_blank=True, help_text=_("How it was resolved."))


class CaseResolvedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    resolution_note = serializers.CharField()
    resolved_by = username("resolved_by")
    resolved_at = serializers.DateTimeField()
    feedback_url = serializers.URLField(help_text=_("The customer's public survey link (also e-mailed to them)."))


# --- the customer's side (public) ---------------------------------------------------------------


class SurveyAnswerInputSerializer(serializers.Serializer):
    csat = serializers.IntegerField(
        min_value=1, max_value=5, help_text=_("How satisfied: 1 (very bad) to 5 (very good).")
    )
    nps = serializers.IntegerField(
        min_value=0, max_value=10, required=False, allow_null=True, help_text=_("How likely to recommend us, 0-10.")
    )
    comment = serializers.CharField(max_length=COMMENT_MAX, required=False, allow_blank=True, default="")
    complaint = serializers.BooleanField(
        required=False, default=False, help_text=_("Treat the comment as a complaint: someone will answer it.")
    )


class ComplaintInputSerializer(serializers.Serializer):
    message = text_input(
        max_length=COMMENT_MAX, allow_blank=True, not_blank=SAYS_SOMETHING, help_text=_("What went wrong.")
    )


class PublicReplySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=FollowUp.Status.choices)
    your_complaint = serializers.CharField(source="customer_message")
    due_at = serializers.DateTimeField(help_text=_("When you will have an answer at the latest."))
    reply = serializers.CharField(help_text=_("What we did, once answered."))
    replied_at = serializers.DateTimeField(allow_null=True)


class PublicSurveySerializer(serializers.Serializer):
    """What the customer's link shows: the case's subject, their first name, their answer and our replies."""

    subject = serializers.CharField(source="case.subject")
    first_name = serializers.CharField(source="case.customer.first_name")
    answered = serializers.BooleanField(source="is_answered")
    answered_at = serializers.DateTimeField(allow_null=True)
    csat = serializers.IntegerField(allow_null=True)
    nps = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    expires_at = serializers.SerializerMethodField()
    follow_ups = PublicReplySerializer(many=True)

    @extend_schema_field(serializers.DateTimeField())
    def get_expires_at(self, survey: Survey):
        return serializers.DateTimeField().to_representation(survey_expires_at(survey=survey))


# --- staff side ---------------------------------------------------------------------------------


class DecisionBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    decision_type = serializers.CharField(source="decision_type.code")
    status = serializers.CharField()
    within_authority = serializers.BooleanField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    made_by = username("made_by")
    approved_by = username("approved_by", allow_null=True)


class CaseBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    subject = serializers.CharField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    team = serializers.CharField(source="team.name")


class SurveySerializer(serializers.Serializer):
    """An answer in its context: the case, its decisions, who resolved it and their team."""

    id = serializers.IntegerField()
    case = CaseBriefSerializer()
    team = serializers.CharField(source="team.name", allow_null=True)
    resolved_by = username("resolved_by", allow_null=True)
    handling = serializers.SerializerMethodField()
    decisions = DecisionBriefSerializer(source="case.decisions.all", many=True)
    created_at = serializers.DateTimeField()
    answered_at = serializers.DateTimeField(allow_null=True)
    csat = serializers.IntegerField(allow_null=True)
    nps = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    comment_is_complaint = serializers.BooleanField()

    @extend_schema_field(serializers.ChoiceField(choices=["first_contact", "escalated"]))
    def get_handling(self, survey: Survey) -> str:
        return "escalated" if survey.escalated else "first_contact"


class FollowUpSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = CaseBriefSerializer()
    survey = serializers.IntegerField(source="survey_id")
    csat = serializers.IntegerField(source="survey.csat", allow_null=True)
    comment = serializers.CharField(source="survey.comment")
    reason = serializers.ChoiceField(choices=FollowUp.Reason.choices)
    customer_message = serializers.CharField(help_text=_("The customer's complaint, when they raised one."))
    status = serializers.ChoiceField(choices=FollowUp.Status.choices)
    resolver = username("resolver")
    assigned_to = username("assigned_to")
    level = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    overdue = serializers.BooleanField(source="is_overdue")
    created_at = serializers.DateTimeField()
    action_taken = serializers.CharField()
    reply = serializers.CharField()
    replied_by = username("replied_by", allow_null=True)
    replied_at = serializers.DateTimeField(allow_null=True)


class FollowUpReplyInputSerializer(serializers.Serializer):
    action_taken = text_input(
        max_length=REPLY_MAX, allow_blank=True, not_blank=SAYS_SOMETHING, help_text=_("What was done (staff only).")
    )
    reply = text_input(
        max_length=REPLY_MAX, allow_blank=True, not_blank=SAYS_SOMETHING, help_text=_("The answer the customer sees.")
    )


class FrictionAnswerSerializer(serializers.Serializer):
    by = username("by")
    outcome = serializers.ChoiceField(choices=FrictionAnswer.Outcome.choices)
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class FrictionChangeSerializer(serializers.Serializer):
    kind = serializers.CharField(source="change_kind")
    text = serializers.CharField(source="change_text")
    decision_type = serializers.CharField(source="change_decision_type.code", allow_null=True, default=None)
    employee = serializers.CharField(source="change_employee.username", allow_null=True, default=None)
    role = serializers.CharField(source="change_role.code", allow_null=True, default=None)
    values = serializers.JSONField(source="change_values", help_text=_("The caps applied from the report."))
    record = serializers.IntegerField(
        source="change_record_id", allow_null=True, help_text=_("The audit record of the limit change that did it.")
    )
    done_at = serializers.DateTimeField(source="change_done_at", allow_null=True)
    done_by = serializers.CharField(source="change_done_by.username", allow_null=True, default=None)


class FrictionReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    case = CaseBriefSerializer()
    decision = serializers.IntegerField(source="decision_id", allow_null=True)
    decision_type = serializers.CharField(source="decision_type.code", allow_null=True)
    limit = serializers.CharField()
    rule_text = serializers.CharField()
    rule = serializers.CharField(source="rule_label")
    would_have_done = serializers.CharField()
    reporter = username("reporter")
    team = serializers.CharField(source="team.name")
    status = serializers.ChoiceField(choices=FrictionReport.Status.choices)
    assigned_to = username("assigned_to")
    level = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    overdue = serializers.BooleanField(source="is_overdue")
    seconds = serializers.IntegerField(source="seconds_count")
    answer = serializers.CharField()
    answered_by = username("answered_by", allow_null=True)
    answered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    change = serializers.SerializerMethodField(help_text=_("What changed (or was promised); null unless accepted."))
    promised_not_done = serializers.SerializerMethodField(
        help_text=_("Accepted, and no change done after EMPOWER_PROMISE_DAYS days.")
    )

    @extend_schema_field(FrictionChangeSerializer(allow_null=True))
    def get_change(self, report: FrictionReport) -> dict | None:
        return FrictionChangeSerializer(report).data if report.change_kind else None

    def get_promised_not_done(self, report: FrictionReport) -> bool:
        return report.is_promise_overdue()


class FrictionReportDetailSerializer(FrictionReportSerializer):
    answers = FrictionAnswerSerializer(many=True)
    seconded_by = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_seconded_by(self, report: FrictionReport) -> list[str]:
        return [s.employee.username for s in report.seconds.all()]


class FrictionReportInputSerializer(serializers.Serializer):
    case = serializers.IntegerField(min_value=1, max_value=ID_MAX, help_text=_("The case where the rule stopped you."))
    decision = serializers.IntegerField(
        min_value=1, max_value=ID_MAX, required=False, allow_null=True, help_text=_("A decision on that case.")
    )
    decision_type = serializers.SlugRelatedField(
        slug_field="code", queryset=DecisionType.objects.all(), required=False, allow_null=True
    )
    # Left out or null: no limit named (the rule in words instead). An empty string is no limit's name.
    limit = serializers.ChoiceField(choices=FrictionReport.Limit.choices, required=False, allow_null=True, default="")
    rule_text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    would_have_done = text_input(max_length=REPLY_MAX, allow_blank=True, not_blank=SAYS_SOMETHING)


class FrictionSecondInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class FrictionChangeInputSerializer(serializers.Serializer):
    """What changes ("you said, we did"): required to accept. A `limit` (of `change_employee`) or a
    `role_default` (of `change_role`) for `change_decision_type` (default: the report's) is applied now
    when any of `per_decision`, `per_day`, `per_month`, `per_customer_month` is given (through the
    granting rules: the same 403s as a limit change), or linked with `change_record` (the id of the
    audit record of a limit change made since the report was filed); with neither it is promised.
    `guidance` (for a decision type) and `policy` need `change_text`: the text is the change."""

    change = serializers.ChoiceField(choices=FrictionReport.Change.choices, required=False, default="")
    change_text = serializers.CharField(max_length=REPLY_MAX, required=False, allow_blank=True, default="")
    change_decision_type = serializers.SlugRelatedField(
        slug_field="code", queryset=DecisionType.objects.all(), required=False, allow_null=True
    )
    change_employee = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=150, help_text=_("Whose limit: a username.")
    )
    change_role = serializers.SlugRelatedField(
        slug_field="code", queryset=Role.objects.all(), required=False, allow_null=True
    )
    per_decision = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    per_day = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    per_month = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    per_customer_month = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    change_record = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=2**63 - 1)

    def validate_change_employee(self, value) -> Employee | None:
        if not value:
            return None
        employee = Employee.objects.select_related("user").filter(user__username=value).first()
        if employee is None:
            raise serializers.ValidationError(_("No such person."))
        return employee


class FrictionAnswerInputSerializer(FrictionChangeInputSerializer):
    outcome = serializers.ChoiceField(choices=FrictionAnswer.Outcome.choices)
    note = text_input(max_length=REPLY_MAX, allow_blank=True, not_blank=SAYS_SOMETHING)


# --- insights -----------------------------------------------------------------------------------


class HandlingRowSerializer(serializers.Serializer):
    team = serializers.CharField()
    answered = serializers.IntegerField()
    first_contact_count = serializers.IntegerField()
    first_contact_csat = serializers.FloatField(allow_null=True)
    escalated_count = serializers.IntegerField()
    escalated_csat = serializers.FloatField(allow_null=True)
    nps = serializers.IntegerField(allow_null=True, help_text=_("Net promoter score, -100 to 100."))


class FollowUpStatsSerializer(serializers.Serializer):
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    replied = serializers.IntegerField()
    replied_on_time = serializers.IntegerField()


class RuleCountSerializer(serializers.Serializer):
    decision_type = serializers.CharField(source="decision_type__name", allow_null=True)
    limit = serializers.CharField()
    reports = serializers.IntegerField()
    seconds = serializers.IntegerField()


class InsightsQuerySerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(INSIGHT_PERIODS), default=DEFAULT_INSIGHT_PERIOD)


class InsightsSerializer(serializers.Serializer):
    period = serializers.CharField(help_text=_("Days counted back (30, 90 or 365), or all."))
    since = serializers.DateTimeField(allow_null=True, help_text=_("The start of the period; null for all time."))
    teams = HandlingRowSerializer(many=True)
    total = HandlingRowSerializer()
    follow_ups = FollowUpStatsSerializer()
    rules = RuleCountSerializer(
        many=True, help_text=_("Open friction reports per rule (a decision type and limit; null: other rules).")
    )
