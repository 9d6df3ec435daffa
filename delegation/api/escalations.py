"""Escalations: the approver's list, one escalation and its path, approve, reject, withdraw.

Who may answer is checked by the service (`escalation_answer_check`) before the body is read, so the
refusals come in one order: 404, 403, 409, then 400.
"""

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from delegation.models import Escalation, EscalationStep
from delegation.selectors import (
    escalation_inbox,
    escalations_visible_to,
)
from delegation.serializers import (
    EscalationApproveInputSerializer,
    EscalationDetailOutputSerializer,
    EscalationOutputSerializer,
    EscalationRejectInputSerializer,
    ReasonInputSerializer,
)
from delegation.services import (
    escalation_answer_check,
    escalation_approve,
    escalation_reject,
    escalation_withdraw,
)
from empower.api import EmployeeAPIView, EmployeeMixin, error_responses
from empower.errors import NotFound


def _escalations(qs: QuerySet[Escalation]) -> QuerySet[Escalation]:
    """What the escalation serializers read, in a constant number of queries."""
    return qs.select_related(
        "decision__decision_type", "decision__made_by__user", "assigned_to__user", "approver__user", "decided_by__user"
    )


def _visible_escalation(*, employee, escalation_id: int) -> Escalation:
    steps = EscalationStep.objects.select_related("assigned_to__user")
    escalation = (
        _escalations(escalations_visible_to(employee=employee))
        .prefetch_related(Prefetch("steps", queryset=steps))
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise NotFound(_("No such escalation, or not one you may see."))
    return escalation


class EscalationListView(EmployeeMixin, generics.ListAPIView):
    """The escalations assigned to the caller (as the approver, or as the approver's active stand-in) and
    those they answered: open ones first, the nearest deadline first."""

    serializer_class = EscalationOutputSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Escalation]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Escalation.objects.none()
        return _escalations(escalation_inbox(employee=self.employee))

    @extend_schema(
        operation_id="escalations_list",
        tags=["escalations"],
        responses={200: EscalationOutputSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class EscalationDetailView(EmployeeAPIView):
    """One escalation and its path; visible to the requester, the assignee, the approver's active stand-in
    and the people above them."""

    @extend_schema(
        operation_id="escalations_retrieve",
        tags=["escalations"],
        responses={200: EscalationDetailOutputSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        escalation = _visible_escalation(employee=self.employee, escalation_id=pk)
        return Response(EscalationDetailOutputSerializer(escalation).data)


class EscalationApproveView(EmployeeAPIView):
    """Approve, optionally a lower amount, with a note to the employee.

    Only the approver (or their active stand-in for this type) approves: anyone else 403, the requester
    always 403, whatever the body. Then: already decided 409; then the body (a higher amount than
    requested: 400). Approval uses the approver's own caps: where they no longer cover it, the
    escalation moves up a level (409). An escalation that does not exist: 404.
    """

    @extend_schema(
        operation_id="escalations_approve",
        tags=["escalations"],
        request=EscalationApproveInputSerializer,
        responses={200: EscalationDetailOutputSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        # Who may answer comes before what they sent (403 and 409 before 400).
        escalation_answer_check(escalation_id=pk, actor=self.employee)
        serializer = EscalationApproveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        escalation_approve(
            escalation_id=pk,
            approver=self.employee,
            note=serializer.validated_data["note"],
            amount=serializer.validated_data.get("amount"),
            share_as_guidance=serializer.validated_data["share_as_guidance"],
        )
        escalation = _visible_escalation(employee=self.employee, escalation_id=pk)
        return Response(EscalationDetailOutputSerializer(escalation).data)


class EscalationRejectView(EmployeeAPIView):
    """Reject, with a note to the employee (required). The same people may answer, in the same order of
    refusals, as for approval: 404, then 403, then 409, then 400 for a missing note."""

    @extend_schema(
        operation_id="escalations_reject",
        tags=["escalations"],
        request=EscalationRejectInputSerializer,
        responses={200: EscalationDetailOutputSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        escalation_answer_check(escalation_id=pk, actor=self.employee)
        serializer = EscalationRejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        escalation_reject(
            escalation_id=pk,
            approver=self.employee,
            note=serializer.validated_data["note"],
            share_as_guidance=serializer.validated_data["share_as_guidance"],
        )
        escalation = _visible_escalation(employee=self.employee, escalation_id=pk)
        return Response(EscalationDetailOutputSerializer(escalation).data)


class EscalationWithdrawView(EmployeeAPIView):
    """The requester takes back a pending escalation (the assignee is told). Anyone else: 403; decided: 409."""

    @extend_schema(
        operation_id="escalations_withdraw",
        tags=["escalations"],
        request=ReasonInputSerializer,
        responses={200: EscalationDetailOutputSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        _visible_escalation(employee=self.employee, escalation_id=pk)
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        escalation_withdraw(escalation_id=pk, employee=self.employee, reason=serializer.validated_data["reason"])
        escalation = _visible_escalation(employee=self.employee, escalation_id=pk)
        return Response(EscalationDetailOutputSerializer(escalation).data)
