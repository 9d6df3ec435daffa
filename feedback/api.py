"""Feedback's API: resolving a case (which asks the customer), the customer's public survey calls,
and staff's surveys, follow-ups, friction reports and insights.

Thin views: validate the shape, narrow to what the caller may see (404 otherwise), call one service
or selector, render. The rules live in `feedback.services` (and `empower.services.case_resolve`).
"""

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from delegation.models import Decision
from delegation.serializers import DecisionOutputSerializer, DecisionSubmitInputSerializer
from empower.api import EmployeeAPIView, EmployeeMixin, error_responses
from empower.errors import InvalidInput, NotAllowed, NotFound
from empower.pagination import LimitOffsetBoundedPagination
from empower.selectors import cases_visible_to
from empower.serializers import ErrorSerializer
from empower.services import case_resolve
from feedback import selectors, services
from feedback.filters import FollowUpFilter, FrictionReportFilter, SurveyFilter
from feedback.models import FollowUp, FrictionReport, Survey
from feedback.serializers import (
    CaseResolvedSerializer,
    CaseResolveInputSerializer,
    ComplaintInputSerializer,
    FollowUpReplyInputSerializer,
    FollowUpSerializer,
    FrictionAnswerInputSerializer,
    FrictionChangeInputSerializer,
    FrictionReportDetailSerializer,
    FrictionReportInputSerializer,
    FrictionReportSerializer,
    FrictionSecondInputSerializer,
    InsightsQuerySerializer,
    InsightsSerializer,
    PublicSurveySerializer,
    SurveyAnswerInputSerializer,
    SurveySerializer,
)

_PUBLIC_ERRORS = {
    400: _("Invalid input (e.g. a score out of range): `detail`, `code` and messages per field. Nothing was stored."),
    404: _("Unknown or tampered link."),
    409: _("Already answered (or a follow-up is already open). Nothing was stored."),
    410: _("The link has expired."),
    429: _("Too many requests from this address; try again in a minute."),
}


def public_responses(*codes: int) -> dict[int, OpenApiResponse]:
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=str(_PUBLIC_ERRORS[code]))
        for code in sorted({404, 410, 429, *codes})
    }


class Pagination(LimitOffsetBoundedPagination):
    default_limit = 100
    max_limit = 500


# --- resolving a case ---------------------------------------------------------------------------


class CaseResolveView(EmployeeAPIView):
    """Resolve a case with a note. The customer is e-mailed a survey link, in their language, once;
    `feedback_url` is that link. A case the caller may not see: 404; already resolved: 409.
    """

    @extend_schema(
        operation_id="cases_resolve",
        tags=["cases"],
        request=CaseResolveInputSerializer,
        responses={200: CaseResolvedSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = cases_visible_to(employee=self.employee).filter(pk=pk).first()
        if case is None:
            raise NotFound(_("No such case, or not one you may see."))
        serializer = CaseResolveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = case_resolve(
            employee=self.employee, case=case, resolution_note=serializer.validated_data["resolution_note"]
        )
        survey = services.survey_request(case=case)  # made by the `case_resolved` receiver; this reads it
        case.feedback_url = services.survey_url(survey=survey)
        return Response(CaseResolvedSerializer(case).data)


# --- the customer's public calls -----------------------------------------------------------------


class PublicAPIView(APIView):
    """No account, no session (so no CSRF), throttled per address; the signed token is the only key."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]


class PublicSurveyView(PublicAPIView):
    """The customer's survey: `GET` shows it (subject, first name, the answer, our replies); `POST` answers it, once.

    A CSAT of 1-2, or `complaint: true`, opens a follow-up: a person answers by a deadline and the
    reply shows here and reaches the customer by e-mail.
    """

    @extend_schema(
        operation_id="feedback_survey_retrieve",
        tags=["feedback (public)"],
        auth=[],
        responses={200: PublicSurveySerializer, **public_responses()},
    )
    def get(self, request: Request, token: str) -> Response:
        survey = services.survey_from_token(token=token)
        return Response(PublicSurveySerializer(survey).data)

    @extend_schema(
        operation_id="feedback_survey_answer",
        tags=["feedback (public)"],
        auth=[],
        request=SurveyAnswerInputSerializer,
        responses={201: PublicSurveySerializer, **public_responses(400, 409)},
    )
    def post(self, request: Request, token: str) -> Response:
        survey = services.survey_from_token(token=token)
        serializer = SurveyAnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.survey_answer(
            survey_id=survey.pk,
            csat=data["csat"],
            nps=data.get("nps"),
            comment=data["comment"],
            comment_is_complaint=data["complaint"],
        )
        survey = services.survey_from_token(token=token)
        return Response(PublicSurveySerializer(survey).data, status=status.HTTP_201_CREATED)


class PublicComplaintView(PublicAPIView):
    """After answering, the customer raises a complaint; a person answers it by a deadline."""

    @extend_schema(
        operation_id="feedback_survey_complain",
        tags=["feedback (public)"],
        auth=[],
        request=ComplaintInputSerializer,
        responses={201: PublicSurveySerializer, **public_responses(400, 409)},
    )
    def post(self, request: Request, token: str) -> Response:
        survey = services.survey_from_token(token=token)
        serializer = ComplaintInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.survey_complain(survey_id=survey.pk, message=serializer.validated_data["message"])
        survey = services.survey_from_token(token=token)
        return Response(PublicSurveySerializer(survey).data, status=status.HTTP_201_CREATED)


# --- staff: surveys --------------------------------------------------------------------------------


class SurveyListView(EmployeeMixin, generics.ListAPIView):
    """Surveys of the cases the caller may see, with their context: decisions, resolver, team, and
    `handling` ("first_contact" when no decision went beyond the maker's authority, else "escalated").
    """

    serializer_class = SurveySerializer
    filterset_class = SurveyFilter
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[Survey]:
        if getattr(self, "swagger_fake_view", False):
            return Survey.objects.none()
        return selectors.surveys_visible_to(employee=self.employee).order_by("-created_at", "-id")

    @extend_schema(
        operation_id="surveys_list",
        tags=["feedback"],
        responses={200: SurveySerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


def _visible_survey(*, employee, survey_id: int) -> Survey:
    survey = selectors.surveys_visible_to(employee=employee).filter(pk=survey_id).first()
    if survey is None:
        raise NotFound(_("No such survey, or not one you may see."))
    return survey


class SurveyDetailView(EmployeeAPIView):
    @extend_schema(
        operation_id="surveys_retrieve", tags=["feedback"], responses={200: SurveySerializer, **error_responses(404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(SurveySerializer(_visible_survey(employee=self.employee, survey_id=pk)).data)


class SurveyFlagComplaintView(EmployeeAPIView):
    """Read a customer's comment as a complaint: it opens a follow-up like a low score does.

    Only the employee who resolved the case and those above them (who may handle the follow-up): 403
    for anyone else, and nothing is opened.
    """

    @extend_schema(
        operation_id="surveys_flag_complaint",
        tags=["feedback"],
        request=None,
        responses={201: FollowUpSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        survey = _visible_survey(employee=self.employee, survey_id=pk)
        follow_up = services.survey_flag_complaint(survey_id=survey.pk, employee=self.employee)
        return Response(
            FollowUpSerializer(_visible_follow_up(employee=self.employee, follow_up_id=follow_up.pk)).data,
            status=status.HTTP_201_CREATED,
        )


# --- staff: follow-ups ------------------------------------------------------------------------------


class FollowUpListView(EmployeeMixin, generics.ListAPIView):
    """The caller's follow-ups and those of everyone below them: open ones first, the nearest deadline first."""

    serializer_class = FollowUpSerializer
    filterset_class = FollowUpFilter
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[FollowUp]:
        if getattr(self, "swagger_fake_view", False):
            return FollowUp.objects.none()
        return selectors.follow_up_list(employee=self.employee)

    @extend_schema(
        operation_id="follow_ups_list",
        tags=["feedback"],
        responses={200: FollowUpSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


def _visible_follow_up(*, employee, follow_up_id: int) -> FollowUp:
    follow_up = selectors.follow_ups_visible_to(employee=employee).filter(pk=follow_up_id).first()
    if follow_up is None:
        raise NotFound(_("No such follow-up, or not one you may see."))
    return follow_up


class FollowUpDetailView(EmployeeAPIView):
    """Visible to the assignee, the employee who resolved the case, and everyone above them."""

    @extend_schema(
        operation_id="follow_ups_retrieve",
        tags=["feedback"],
        responses={200: FollowUpSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(FollowUpSerializer(_visible_follow_up(employee=self.employee, follow_up_id=pk)).data)


class FollowUpReplyView(EmployeeAPIView):
    """Record what was done and answer the customer (on their survey page and by e-mail). Once: 409 after."""

    @extend_schema(
        operation_id="follow_ups_reply",
        tags=["feedback"],
        request=FollowUpReplyInputSerializer,
        responses={200: FollowUpSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        _visible_follow_up(employee=self.employee, follow_up_id=pk)
        serializer = FollowUpReplyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.follow_up_reply(follow_up_id=pk, employee=self.employee, **serializer.validated_data)
        return Response(FollowUpSerializer(_visible_follow_up(employee=self.employee, follow_up_id=pk)).data)


class FollowUpRemedyInputSerializer(DecisionSubmitInputSerializer):
    case = None  # the follow-up's case


class FollowUpRemedyView(EmployeeAPIView):
    """Put it right for the customer: a decision on the follow-up's case (resolved or not), by whoever
    may reply to the open follow-up, under the same authority check, caps and escalation as any
    decision (`POST /decisions/`). 201 with the decision; no second survey goes out."""

    @extend_schema(
        operation_id="follow_ups_remedy",
        tags=["feedback"],
        request=FollowUpRemedyInputSerializer,
        responses={201: DecisionOutputSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        _visible_follow_up(employee=self.employee, follow_up_id=pk)
        serializer = FollowUpRemedyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decision = services.follow_up_remedy(follow_up_id=pk, employee=self.employee, **serializer.validated_data)
        decision = Decision.objects.select_related(
            "decision_type", "made_by__user", "approved_by__user", "escalation__assigned_to__user"
        ).get(pk=decision.pk)
        return Response(DecisionOutputSerializer(decision).data, status=status.HTTP_201_CREATED)


# --- staff: policy-friction reports ------------------------------------------------------------------


class FrictionReportListCreateView(EmployeeMixin, generics.ListAPIView):
    """`GET`: reports the caller may see (their own, their team's, and those of everyone below them),
    most seconded first. `POST`: "this rule stopped me from helping this customer".
    """

    serializer_class = FrictionReportSerializer
    filterset_class = FrictionReportFilter
    pagination_class = Pagination

    def get_queryset(self) -> QuerySet[FrictionReport]:
        if getattr(self, "swagger_fake_view", False):
            return FrictionReport.objects.none()
        return (
            selectors.reports_visible_to(employee=self.employee)
            .select_related(*selectors.REPORT_DETAIL_RELATED)
            .order_by("-seconds_count", "-created_at", "-id")
        )

    @extend_schema(
        operation_id="friction_reports_list",
        tags=["feedback"],
        responses={200: FrictionReportSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="friction_reports_create",
        tags=["feedback"],
        request=FrictionReportInputSerializer,
        responses={201: FrictionReportDetailSerializer, **error_responses(400, 404)},
    )
    def post(self, request: Request) -> Response:
        serializer = FrictionReportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = cases_visible_to(employee=self.employee).filter(pk=data["case"]).first()
        if case is None:
            message = _("No such case, or not one you may act on.")
            raise NotFound(message, field_errors={"case": [message]})
        decision = None
        if data.get("decision") is not None:
            decision = Decision.objects.filter(pk=data["decision"], case=case).select_related("decision_type").first()
            if decision is None:
                message = _("This decision is not on this case.")
                raise InvalidInput(message, field_errors={"decision": [message]})
        report = services.friction_report_file(
            reporter=self.employee,
            case=case,
            decision=decision,
            decision_type=data.get("decision_type"),
            limit=data["limit"] or "",
            rule_text=data["rule_text"],
            would_have_done=data["would_have_done"],
        )
        report = _visible_report(employee=self.employee, report_id=report.pk)
        location = reverse("api-friction-report-detail", kwargs={"pk": report.pk})
        return Response(
            FrictionReportDetailSerializer(report).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )


def _visible_report(*, employee, report_id: int) -> FrictionReport:
    report = selectors.report_detail(employee=employee, report_id=report_id)
    if report is None:
        raise NotFound(_("No such report, or not one you may see."))
    return report


class FrictionReportDetailView(EmployeeAPIView):
    """Visible to the reporter, everyone above them, and colleagues of the same team."""

    @extend_schema(
        operation_id="friction_reports_retrieve",
        tags=["feedback"],
        responses={200: FrictionReportDetailSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(FrictionReportDetailSerializer(_visible_report(employee=self.employee, report_id=pk)).data)


class FrictionReportSecondView(EmployeeAPIView):
    """A colleague of the same team seconds a report ("this stops me too"); once each, never one's own (403)."""

    @extend_schema(
        operation_id="friction_reports_second",
        tags=["feedback"],
        request=FrictionSecondInputSerializer,
        responses={201: FrictionReportDetailSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        _visible_report(employee=self.employee, report_id=pk)
        serializer = FrictionSecondInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.friction_report_second(report_id=pk, employee=self.employee, note=serializer.validated_data["note"])
        report = _visible_report(employee=self.employee, report_id=pk)
        return Response(FrictionReportDetailSerializer(report).data, status=status.HTTP_201_CREATED)


class FrictionReportAnswerView(EmployeeAPIView):
    """The manager answers: `accept` (say what changes), `explain`, or `pass_up` to their own manager.

    Only the assignee or someone above them (403 otherwise); already answered: 409.
    """

    @extend_schema(
        operation_id="friction_reports_answer",
        tags=["feedback"],
        request=FrictionAnswerInputSerializer,
        responses={200: FrictionReportDetailSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        _visible_report(employee=self.employee, report_id=pk)
        serializer = FrictionAnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.friction_report_answer(
            report_id=pk,
            employee=self.employee,
            outcome=data["outcome"],
            note=data["note"],
            change=services.ChangeInput.from_data(data),
        )
        return Response(FrictionReportDetailSerializer(_visible_report(employee=self.employee, report_id=pk)).data)


class FrictionReportChangeView(EmployeeAPIView):
    """Keep an accepted report's promise: apply the limit or role default it names (values, through the
    granting rules) or link the change that did it (`change_record`). Whoever accepted it or anyone above
    them (403 otherwise); nothing left to record: 409. The reporter and those who seconded are told.
    """

    @extend_schema(
        operation_id="friction_reports_change",
        tags=["feedback"],
        request=FrictionChangeInputSerializer,
        responses={200: FrictionReportDetailSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        _visible_report(employee=self.employee, report_id=pk)
        serializer = FrictionChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = services.ChangeInput.from_data(serializer.validated_data)
        services.friction_report_change(report_id=pk, employee=self.employee, change=change)
        return Response(FrictionReportDetailSerializer(_visible_report(employee=self.employee, report_id=pk)).data)


# --- insights -------------------------------------------------------------------------------------


class FeedbackInsightsView(EmployeeAPIView):
    """For managers (403 for anyone with nobody below them), as on the Insights page: CSAT per team below
    the caller over `period`, cases settled at first contact against escalated ones; how well
    follow-ups are closed; and the rules staff report most.
    """

    @extend_schema(
        operation_id="feedback_insights",
        tags=["feedback"],
        parameters=[
            OpenApiParameter(
                "period",
                str,
                enum=list(selectors.INSIGHT_PERIODS),
                default=selectors.DEFAULT_INSIGHT_PERIOD,
                description=_("The last 30, 90 or 365 days, or all time."),
            )
        ],
        responses={200: InsightsSerializer, **error_responses(400, 403)},
    )
    def get(self, request: Request) -> Response:
        if not selectors.may_see_insights(employee=self.employee):
            raise NotAllowed(_("Insights are for managers: people with a team below them."))
        query = InsightsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        insights = selectors.feedback_insights(employee=self.employee, period=query.validated_data["period"])
        return Response(InsightsSerializer(insights).data)
