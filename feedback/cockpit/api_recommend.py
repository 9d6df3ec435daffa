"""The cockpit's limit recommendations under /api/v1/insights/recommendations/: list, accept, dismiss, refresh.

Thin views: the rule and the actions live in `feedback.cockpit.recommendations`; accepting goes
through `delegation.services.limit_set`, so its refusals are a limit change's (403 `above_own_limit`, …).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from empower.api import EmployeeAPIView, error_responses
from empower.errors import NotAllowed
from empower.pagination import Pagination
from empower.serializers import page_of, text_input
from empower.services import enqueue
from feedback.cockpit.csv import CSVRenderer
from feedback.cockpit.recommendations import recommendation_accept, recommendation_dismiss, recommendations_for
from feedback.models import LimitRecommendation
from feedback.selectors import may_see_insights

REFRESH_TASK = "feedback.tasks.refresh_limit_recommendations"
CSV_PARAMETER = OpenApiParameter(
    "format", str, enum=["json", "csv"], description=_("`csv` answers the same rows as text/csv.")
)


class EvidenceSummarySerializer(serializers.Serializer):
    escalations = serializers.IntegerField(help_text=_("Escalations in the window that broke only this limit."))
    approved_as_asked = serializers.IntegerField()
    answered = serializers.IntegerField(help_text=_("Approved (as asked or lower) or rejected."))
    share = serializers.FloatField(help_text=_("approved_as_asked / answered, from 0 to 1."))
    days = serializers.IntegerField()


class RecommendationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    decision_type = serializers.CharField(source="decision_type.code")
    employee = serializers.CharField(source="employee.username", allow_null=True, default=None)
    role = serializers.CharField(source="role.code", allow_null=True, default=None)
    team = serializers.CharField(source="team.name", allow_null=True, default=None)
    manager = serializers.CharField(source="manager.username", help_text=_("Who received the proposal."))
    limit = serializers.CharField()
    current = serializers.DecimalField(max_digits=14, decimal_places=2)
    proposed = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = serializers.CharField()
    evidence = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(EvidenceSummarySerializer)
    def get_evidence(self, row: LimitRecommendation) -> dict:
        return EvidenceSummarySerializer(
            {
                "escalations": row.escalations,
                "approved_as_asked": row.approved_as_asked,
                "answered": row.answered,
                "share": round(row.share, 4),
                "days": row.days,
            }
        ).data


class ReasonSerializer(serializers.Serializer):
    # Required; blank or missing reaches the service, which words the refusal (400).
    reason = text_input(max_length=2000, allow_blank=True, allow_missing=True)


class AcceptSerializer(serializers.Serializer):
    note = serializers.CharField(
        allow_blank=True, required=False, default="", help_text=_("Added to the reason, which names the evidence.")
    )


class NewLimitSerializer(serializers.Serializer):
    employee = serializers.CharField(source="employee.username")
    decision_type = serializers.CharField(source="decision_type.code")
    per_decision = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    per_day = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    per_month = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    per_customer_month = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)
    reason = serializers.CharField()


def _ensure_manager(employee) -> None:
    if not may_see_insights(employee=employee):
        raise NotAllowed(_("Recommendations are for managers: people with a team below them."))


class RecommendationListView(EmployeeAPIView):
    """The open proposals the caller may act on (theirs and those of the managers below them), the
    strongest evidence first. Agents: 403."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        operation_id="insights_recommendations_list",
        tags=["insights"],
        parameters=[CSV_PARAMETER],
        responses={200: page_of(RecommendationSerializer, name="RecommendationPage"), **error_responses(403)},
    )
    def get(self, request: Request) -> Response:
        _ensure_manager(self.employee)
        rows = recommendations_for(employee=self.employee)
        if request.accepted_renderer.format == "csv":
            return Response(RecommendationSerializer(rows, many=True).data)
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(RecommendationSerializer(page, many=True).data)


class RecommendationAcceptView(EmployeeAPIView):
    """Accept a proposal with one call: the per-decision limit is raised through the granting rules
    (the same 403 codes as `PUT /employees/{username}/limits/{type}/`), audited with a reason that
    names the evidence, and the people concerned are told. 404: not one the caller may act on;
    409: already decided."""

    @extend_schema(
        operation_id="insights_recommendations_accept",
        tags=["insights"],
        request=AcceptSerializer,
        responses={
            200: inline_serializer(
                "RecommendationAccepted",
                {"recommendation": RecommendationSerializer(), "limits": NewLimitSerializer(many=True)},
            ),
            **error_responses(400, 404, 409),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = AcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row, limits = recommendation_accept(
            recommendation_id=pk, employee=self.employee, note=serializer.validated_data["note"]
        )
        return Response(
            {
                "recommendation": RecommendationSerializer(row).data,
                "limits": NewLimitSerializer(limits, many=True).data,
            }
        )


class RecommendationDismissView(EmployeeAPIView):
    """Dismiss a proposal with a reason (required: 400 without). It does not come back unless its
    evidence grows by half."""

    @extend_schema(
        operation_id="insights_recommendations_dismiss",
        tags=["insights"],
        request=ReasonSerializer,
        responses={200: RecommendationSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        serializer = ReasonSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = recommendation_dismiss(
            recommendation_id=pk, employee=self.employee, reason=serializer.validated_data["reason"]
        )
        return Response(RecommendationSerializer(row).data)


class RecommendationRefreshView(EmployeeAPIView):
    """Recompute the proposals now, in the background (a Celery task; the periodic one runs every six
    hours): 202. Managers only."""

    @extend_schema(
        operation_id="insights_recommendations_refresh",
        tags=["insights"],
        request=None,
        responses={
            202: OpenApiResponse(
                inline_serializer("RecommendationRefresh", {"detail": serializers.CharField()}),
                description=_("The recomputation is queued."),
            ),
            **error_responses(403),
        },
    )
    def post(self, request: Request) -> Response:
        _ensure_manager(self.employee)
        enqueue(REFRESH_TASK)
        return Response({"detail": str(_("Recomputing the recommendations."))}, status=status.HTTP_202_ACCEPTED)
