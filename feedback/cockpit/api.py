"""`GET /api/v1/insights/decisions/?period=&team=` (and `&format=csv`): decisions at the edge."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from empower.api import EmployeeAPIView, error_responses
from feedback.cockpit import selectors, tables
from feedback.cockpit.csv import CSVRenderer
from feedback.cockpit.serializers import DecisionsInsightsSerializer, DecisionsQuerySerializer


class DecisionsInsightsView(EmployeeAPIView):
    """Decisions at the edge, per team the caller sees (team leads their team, managers the teams
    below them, directors all; anyone with nobody below them: 403), over the last 30, 90 or 365 days
    or all time: how many were settled by the person who took the case, which limits stopped
    people, what became of the escalations and how long approvers took. `?format=csv` answers the
    same rows (`teams`, then `total`) as CSV."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    def handle_exception(self, exc):
        # Under /api/ every refusal is JSON, also when CSV was asked for.
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return super().handle_exception(exc)

    @extend_schema(
        operation_id="insights_decisions",
        tags=["insights"],
        parameters=[
            OpenApiParameter(
                "period",
                str,
                enum=list(selectors.PERIODS),
                default=selectors.DEFAULT_PERIOD,
                description=_("Today and the 29, 89 or 364 days before it, or all time; anything else 400."),
            ),
            OpenApiParameter("team", str, description=_("One team, by id or name (one the caller sees; else 403).")),
            OpenApiParameter(
                "format", str, enum=["json", "csv"], description=_("csv: the rows as text/csv, formula-safe.")
            ),
        ],
        responses={
            (200, "application/json"): DecisionsInsightsSerializer,
            (200, "text/csv"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description=_("One line per team, then the total; the columns are the JSON row's fields."),
            ),
            **error_responses(400, 403),
        },
    )
    def get(self, request: Request) -> Response:
        query = DecisionsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        report = selectors.decisions_report(
            employee=self.employee, period=query.validated_data["period"], team=query.validated_data.get("team")
        )
        if request.accepted_renderer.format == "csv":
            response = Response(tables.teams_table(report))
            response["Content-Disposition"] = f'attachment; filename="decisions-{report.period}.csv"'
            return response
        return Response(
            {
                "period": report.period,
                "since": report.since,
                "as_of": report.as_of,
                "teams": [tables.decision_row(row) for row in report.teams],
                "total": tables.decision_row(report.total),
                "by_type": [
                    {
                        "decision_type": t.decision_type,
                        "code": t.code,
                        "decisions": t.decisions,
                        "within_authority": t.within_authority,
                        "escalated": t.escalated,
                        "escalation_rate": t.escalation_rate,
                        "limits_hit": t.limits,
                    }
                    for t in report.types
                ],
                "weeks": [
                    {
                        "week": w.week,
                        "decisions": w.decisions,
                        "within_authority": w.within_authority,
                        "escalated": w.escalated,
                        "at_edge_share": w.at_edge_share,
                    }
                    for w in report.weeks
                ],
            }
        )
