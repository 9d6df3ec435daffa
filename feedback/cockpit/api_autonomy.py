"""Earned autonomy and what-if under /api/v1/: an employee's track record, and a proposed limit replayed.

Thin views over `feedback.cockpit.track_record` and `feedback.cockpit.what_if`.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from delegation.models import CAPS, DecisionType
from delegation.selectors import employee_named, employee_visible_to
from delegation.services import validate_amount
from empower.api import EmployeeAPIView, error_responses
from empower.errors import InvalidInput, NotAllowed, NotFound
from empower.models import Role
from empower.selectors import teams_named
from feedback.cockpit.api_recommend import CSV_PARAMETER
from feedback.cockpit.csv import CSVRenderer
from feedback.cockpit.track_record import period_start, track_record
from feedback.cockpit.what_if import DEFAULT_DAYS, MAX_DAYS, what_if, what_if_scope
from feedback.selectors import DEFAULT_INSIGHT_PERIOD, INSIGHT_PERIODS, may_see_insights

MONEY = {"max_digits": 14, "decimal_places": 2}


class PeriodSerializer(serializers.Serializer):
    period = serializers.ChoiceField(choices=list(INSIGHT_PERIODS), default=DEFAULT_INSIGHT_PERIOD)


class TrackRecordSerializer(serializers.Serializer):
    username = serializers.CharField()
    period = serializers.CharField()
    decisions = serializers.IntegerField()
    within_authority = serializers.IntegerField()
    escalated = serializers.IntegerField()
    approved_as_asked = serializers.IntegerField()
    approved_lower = serializers.IntegerField()
    rejected = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    waiting = serializers.IntegerField()
    reversed_later = serializers.IntegerField(
        help_text=_("Decisions corrected later: the case drew a follow-up, then a later decision on it.")
    )
    csat_average = serializers.FloatField(allow_null=True, help_text=_("On the cases they resolved; null: no answers."))
    csat_answers = serializers.IntegerField()
    follow_ups = serializers.IntegerField(help_text=_("Follow-ups opened on the cases they resolved."))


class TrackRecordView(EmployeeAPIView):
    """An employee's track record over `period` (30, 90, 365 days or all; default 90): the employee
    themselves and the people above them; anyone else 404."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        operation_id="employees_track_record",
        tags=["insights"],
        parameters=[
            OpenApiParameter("period", str, enum=list(INSIGHT_PERIODS), default=DEFAULT_INSIGHT_PERIOD),
            CSV_PARAMETER,
        ],
        responses={200: TrackRecordSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request, username: str) -> Response:
        employee = employee_visible_to(viewer=self.employee, username=username)
        if employee is None:
            raise NotFound(_("No such employee, or not one whose record you may see."))
        query = PeriodSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        period = query.validated_data["period"]
        record = track_record(employee=employee, since=period_start(period))
        data = TrackRecordSerializer({**record.__dict__, "period": period}).data
        return Response([data] if request.accepted_renderer.format == "csv" else data)


class WhatIfInputSerializer(serializers.Serializer):
    decision_type = serializers.SlugRelatedField(slug_field="code", queryset=DecisionType.objects.all())
    employee = serializers.CharField(required=False, help_text=_("A username; or give `role`."))
    role = serializers.SlugRelatedField(slug_field="code", queryset=Role.objects.all(), required=False)
    team = serializers.CharField(required=False, help_text=_("A team's name, to narrow `role` to one team."))
    per_decision = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    per_day = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    per_month = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    per_customer_month = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    days = serializers.IntegerField(required=False, default=DEFAULT_DAYS, min_value=1, max_value=MAX_DAYS)


class ChangedSerializer(serializers.Serializer):
    decision = serializers.IntegerField()
    before = serializers.CharField(help_text=_("`within_authority` or `escalated`: as it was."))
    after = serializers.CharField(help_text=_("`within_authority` or `escalated`: under the proposal."))


@extend_schema_field(ChangedSerializer(many=True))
class ChangedListField(serializers.Field):
    """`changed` as the replay wrote it (plain dicts of the shape above): up to 5,000 of them, which a
    nested serializer took a third of a second to copy field by field."""

    def to_representation(self, value: list[dict]) -> list[dict]:
        return value


class WhatIfSerializer(serializers.Serializer):
    decisions = serializers.IntegerField()
    escalated_before = serializers.IntegerField()
    escalated_after = serializers.IntegerField()
    escalations_avoided = serializers.IntegerField()
    newly_escalated = serializers.IntegerField()
    amount_moved_to_edge = serializers.DecimalField(**MONEY)
    amount_moved_up = serializers.DecimalField(**MONEY, help_text=_("Amounts of the decisions newly escalated."))
    approver_hours_saved = serializers.FloatField(
        help_text=_("Measured hours from escalation to answer of the escalations avoided.")
    )
    rejected_or_cut_now_at_edge = serializers.IntegerField()
    amount_at_risk = serializers.DecimalField(
        **MONEY, help_text=_("What approvers refused of those: asked minus approved.")
    )
    people = serializers.IntegerField()
    days = serializers.IntegerField()
    changed_total = serializers.IntegerField()
    changed = ChangedListField()


def proposed_values(data: dict) -> dict:
    """The caps given: an amount (zero allowed), or null/"" for no limit; caps not given are left out."""
    proposed, errors = {}, {}
    for cap in CAPS:
        if cap not in data:
            continue
        raw = data[cap]
        if raw in (None, ""):
            proposed[cap] = None
            continue
        try:
            proposed[cap] = validate_amount(raw, field=cap, allow_zero=True)
        except InvalidInput as invalid:
            errors |= invalid.field_errors
    if errors:
        raise InvalidInput(_("Some limits are not valid amounts."), field_errors=errors)
    return proposed


class WhatIfView(EmployeeAPIView):
    """What the last `days` (default 90) would have looked like under proposed limits: every past
    decision of the type by one person (`employee`) or a role (`role`, optionally in one `team`)
    below the caller, replayed in order against the proposed limits with the caps recomputed.
    Limits not given stay as each person's are now; null is "no limit". Managers only (403)."""

    @extend_schema(
        operation_id="insights_what_if",
        tags=["insights"],
        request=WhatIfInputSerializer,
        responses={200: WhatIfSerializer, **error_responses(400, 404)},
    )
    def post(self, request: Request) -> Response:
        if not may_see_insights(employee=self.employee):
            raise NotAllowed(_("What-if is for managers: people with a team below them."))
        serializer = WhatIfInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        employee = team = None
        if data.get("employee"):
            employee = employee_named(username=data["employee"])
            if employee is None:
                raise NotFound(_("No such employee."))
        if data.get("team"):
            team = teams_named(data["team"]).first()
            if team is None:
                message = _("No such team.")
                raise InvalidInput(message, field_errors={"team": [message]})
        scope = what_if_scope(
            viewer=self.employee,
            decision_type=data["decision_type"],
            employee=employee,
            role=data.get("role"),
            team=team,
            proposed=proposed_values({cap: data[cap] for cap in CAPS if cap in data}),
            days=data["days"],
        )
        return Response(WhatIfSerializer(what_if(scope=scope)).data)
