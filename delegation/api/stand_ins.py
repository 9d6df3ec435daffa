"""Stand-ins: the delegations the caller gave, holds or sees below them; set one up; end one."""

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from delegation.models import Delegation
from delegation.selectors import (
    delegations_visible_to,
    employee_named,
)
from delegation.serializers import (
    DelegationInputSerializer,
    DelegationOutputSerializer,
    RequiredReasonInputSerializer,
)
from delegation.services import (
    delegation_create,
    delegation_end,
)
from empower.api import EmployeeAPIView, EmployeeMixin, error_responses
from empower.errors import InvalidInput, NotFound


class DelegationListCreateView(EmployeeMixin, generics.ListAPIView):
    """Stand-ins: the delegations the caller gave or holds, and those of everyone below them; or set one up."""

    serializer_class = DelegationOutputSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[Delegation]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Delegation.objects.none()
        return delegations_visible_to(employee=self.employee)

    @extend_schema(
        operation_id="delegations_list",
        tags=["delegations"],
        responses={200: DelegationOutputSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="delegations_create",
        tags=["delegations"],
        description=str(
            _(
                "Hand one's authority for some decision types to a stand-in for a period, with a reason. While it "
                "runs the stand-in holds the delegator's authority for those types (never more than the delegator "
                "holds at that moment) and receives the escalations that would go to the delegator. It cannot be "
                "passed on. With `from`, someone above the delegator sets it up for them (else 403). A bad window, "
                "no type, a type the delegator holds no authority for, or oneself as the stand-in: 400. A start in "
                "the past is taken as now (history is never rewritten). A window overlapping an active or scheduled "
                "delegation of the same type from the same person: 409, naming that stand-in."
            )
        ),
        request=DelegationInputSerializer,
        responses={201: DelegationOutputSerializer, **error_responses(400, 409)},
    )
    def post(self, request: Request) -> Response:
        serializer = DelegationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        delegate = employee_named(username=data["to"])
        if delegate is None:
            message = _("No such colleague.")
            raise InvalidInput(message, field_errors={"to": [message]})
        delegator = self.employee
        if data.get("from"):
            delegator = employee_named(username=data["from"])
            if delegator is None:
                message = _("No such employee.")
                raise InvalidInput(message, field_errors={"from": [message]})
        delegation = delegation_create(
            delegator=delegator,
            delegate=delegate,
            decision_types=data["decision_types"],
            starts_at=data.get("starts_at") or timezone.now(),
            ends_at=data["ends_at"],
            reason=data["reason"],
            created_by=self.employee,
        )
        delegation = delegations_visible_to(employee=self.employee).get(pk=delegation.pk)
        return Response(DelegationOutputSerializer(delegation).data, status=status.HTTP_201_CREATED)


class DelegationEndView(EmployeeAPIView):
    """End a delegation now. Only the delegator or someone above them (403); already over: 409."""

    @extend_schema(
        operation_id="delegations_end",
        tags=["delegations"],
        request=RequiredReasonInputSerializer,
        responses={200: DelegationOutputSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        delegation = delegations_visible_to(employee=self.employee).filter(pk=pk).first()
        if delegation is None:
            raise NotFound(_("No such delegation."))
        serializer = RequiredReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delegation_end(delegation=delegation, actor=self.employee, reason=serializer.validated_data["reason"])
        delegation = delegations_visible_to(employee=self.employee).get(pk=pk)
        return Response(DelegationOutputSerializer(delegation).data)
