"""Deciding: what may I decide now, a case with its decisions, decide, and read a decision back.

Thin views: validate the shape, narrow to what the caller may see (404 otherwise), call one
service, render. The rules (authority, caps, idempotency) live in `delegation.services`.
"""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from delegation.models import Decision, Escalation
from delegation.selectors import (
    authority_of,
    decisions_for_case,
    decisions_visible_to,
    with_people,
)
from delegation.serializers import (
    AuthoritySerializer,
    CaseDetailOutputSerializer,
    DecisionOutputSerializer,
    DecisionSubmitInputSerializer,
)
from delegation.services import (
    decision_submit,
)
from empower.api import EmployeeAPIView, error_responses
from empower.errors import InvalidInput, NotAllowed, NotFound
from empower.selectors import case_of_id, cases_visible_to

IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_KEY_MAX = 200  # Decision.idempotency_key's length


class MyAuthorityView(EmployeeAPIView):
    """What the caller may decide right now, for every active decision type.

    The limits, and what is used and left today and this month; `stand_in` lists the authority the
    caller holds for someone away. Money is a string with two decimals; null is no limit.
    """

    @extend_schema(
        operation_id="me_authority_retrieve",
        tags=["me"],
        responses={200: AuthoritySerializer, **error_responses()},
    )
    def get(self, request: Request) -> Response:
        authority = authority_of(employee=self.employee)
        data = {"currency": settings.EMPOWER_CURRENCY, "lines": authority.lines, "borrowed": authority.borrowed}
        return Response(AuthoritySerializer(data).data)


class CaseDetailView(EmployeeAPIView):
    """A case the caller may see (their team's; a manager's, every team below them) with its decisions."""

    @extend_schema(
        operation_id="cases_retrieve",
        tags=["cases"],
        responses={200: CaseDetailOutputSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        case = cases_visible_to(employee=self.employee).filter(pk=pk).first()
        if case is None:
            raise NotFound(_("No such case, or not one you may see."))
        case.case_decisions = with_people(decisions_for_case(case=case))
        return Response(CaseDetailOutputSerializer(case).data)


def _decision_for_output(*, employee, decision_id: int) -> Decision | None:
    return (
        decisions_visible_to(employee=employee)
        .select_related("escalation__assigned_to__user")
        .filter(pk=decision_id)
        .first()
    )


def _escalation_for_output(*, escalation_id: int) -> Escalation:
    return Escalation.objects.select_related("assigned_to__user").get(pk=escalation_id)


class DecisionSubmitView(EmployeeAPIView):
    """Decide for the customer.

    Within the caller's authority it is approved at once; beyond it, it is escalated (with the limits
    it exceeded) to the nearest person above who can approve it. With an `Idempotency-Key`, a retry
    with the same body answers the first result again (201, the same body, header
    `Idempotent-Replayed: true`) and creates nothing; the same key with another body is refused (409).
    A case the caller may not act on, or that does not exist, is 404.
    """

    employee_related = ()  # deciding reads the caller's own row only (role and team by id)

    @extend_schema(
        operation_id="decisions_create",
        tags=["decisions"],
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description=str(_("Any unique string up to 200 characters; send the same one when retrying.")),
            ),
            OpenApiParameter(
                REPLAYED_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                response=[201],
                enum=["true"],
                description=str(_("Present when the answer is a replay of an earlier request with the same key.")),
            ),
        ],
        request=DecisionSubmitInputSerializer,
        responses={
            201: OpenApiResponse(
                DecisionOutputSerializer, description=str(_("Approved or escalated (also a replayed answer)."))
            ),
            **error_responses(400, 404, 409),
        },
    )
    def post(self, request: Request) -> Response:
        key = request.headers.get(IDEMPOTENCY_HEADER, "").strip() or None
        if key and len(key) > IDEMPOTENCY_KEY_MAX:
            message = _("Use an idempotency key of at most %(max)d characters.") % {"max": IDEMPOTENCY_KEY_MAX}
            raise InvalidInput(message, field_errors={IDEMPOTENCY_HEADER: [message]})
        serializer = DecisionSubmitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # Cases the caller may not act on (the service checks) or that do not exist are one answer:
        # 404, revealing nothing.
        message = _("No such case, or not one you may act on.")
        case = case_of_id(data["case"])
        if case is None:
            raise NotFound(message, field_errors={"case": [message]})
        started = timezone.now()
        try:
            decision = decision_submit(
                employee=self.employee,
                case=case,
                decision_type=data["decision_type"],
                amount=data["amount"],
                rationale=data["rationale"],
                story=data.get("story", ""),
                idempotency_key=key,
            )
        except NotAllowed as refusal:
            if refusal.code != "case_not_allowed":
                raise
            raise NotFound(message, field_errors={"case": [message]}) from None
        replayed = key is not None and decision.created_at < started
        # The service returned what the answer shows. Only an escalation may have moved since it
        # committed (routed already, with eager routing or a quick worker): read that one row again.
        if decision.status == Decision.Status.ESCALATED:
            decision.escalation = _escalation_for_output(escalation_id=decision.escalation.pk)
        headers = {"Location": reverse("api-decision-detail", kwargs={"pk": decision.pk})}
        if replayed:
            headers[REPLAYED_HEADER] = "true"
        return Response(DecisionOutputSerializer(decision).data, status=status.HTTP_201_CREATED, headers=headers)


class DecisionDetailView(EmployeeAPIView):
    """A decision on a case the caller may see."""

    @extend_schema(
        operation_id="decisions_retrieve",
        tags=["decisions"],
        responses={200: DecisionOutputSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        decision = _decision_for_output(employee=self.employee, decision_id=pk)
        if decision is None:
            raise NotFound(_("No such decision, or not one you may see."))
        return Response(DecisionOutputSerializer(decision).data)
