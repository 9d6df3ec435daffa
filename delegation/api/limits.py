"""Managers shape authority: an employee's limits (read, set, clear, end a temporary one) and what they
could decide at a moment.

Who may grant what (never one's own, never more than one holds) lives in `delegation.services`.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from delegation.models import CAPS, DecisionType
from delegation.selectors import (
    authority_at,
    authority_of,
    employee_visible_to,
    running_windows,
    windows_of,
)
from delegation.serializers import (
    AuthorityAtSerializer,
    EmployeeAuthoritySerializer,
    LimitInputSerializer,
    LimitOutputSerializer,
    RequiredReasonInputSerializer,
)
from delegation.services import (
    limit_clear,
    limit_set,
    limit_window_end,
)
from empower.api import EmployeeAPIView, error_responses
from empower.errors import NotFound
from empower.fields import parse_moment
from empower.models import Employee


def _decision_type_coded(code: str) -> DecisionType:
    decision_type = DecisionType.objects.filter(code=code).first()
    if decision_type is None:
        raise NotFound(_("No such decision type."))
    return decision_type


def _authority_seen_by(viewer: Employee, username: str) -> Employee:
    # The employee and the people above them see it; to anyone else it does not exist.
    employee = employee_visible_to(viewer=viewer, username=username)
    if employee is None:
        raise NotFound(_("No such employee, or not one whose authority you may see."))
    return employee


def _employee_authority(employee: Employee) -> dict:
    authority = authority_of(employee=employee)
    return {
        "username": employee.username,
        "currency": settings.EMPOWER_CURRENCY,
        "lines": authority.lines,
        "borrowed": authority.borrowed,
        "temporary": windows_of(employee=employee),
    }


class EmployeeLimitsView(EmployeeAPIView):
    """What an employee may decide now, for every active decision type, and where each limit comes from.

    `source` is "role" (their role's default), "personal" (set for them) or "none"; `stand_in` lists
    the authority they hold for someone away; `temporary` their temporary limits running or scheduled.
    Visible to the employee and the people above them (404 to anyone else). Money is a string with two
    decimals; null is no limit.
    """

    @extend_schema(
        operation_id="employees_limits_list",
        tags=["authority"],
        responses={200: EmployeeAuthoritySerializer, **error_responses(404)},
    )
    def get(self, request: Request, username: str) -> Response:
        employee = _authority_seen_by(self.employee, username)
        return Response(EmployeeAuthoritySerializer(_employee_authority(employee)).data)


class EmployeeLimitView(EmployeeAPIView):
    """Set (PUT) or clear (DELETE) an employee's personal limits for one decision type.

    Only someone above the employee in the chain of command may (anyone else is told there is no such
    employee, 404, as reads are); nobody changes their own limits;
    no cap above the granter's own, and "no limit" only from someone who has none (403, with a
    message per cap that is too high). A cap left out of a PUT stays as it is now (their standing
    personal limit, else their role's). A lowered limit judges the employee's very next decision.

    With `ends_at` (and optionally a later `starts_at`) the limit is temporary and goes back by itself; a
    start without an end is 400, a window overlapping another of the same type 409. Without dates it is
    the standing limit: saved while a temporary one runs, it applies once that ends (`overridden_until`).
    """

    @extend_schema(
        operation_id="employees_limits_update",
        tags=["authority"],
        request=LimitInputSerializer,
        responses={200: LimitOutputSerializer, **error_responses(400, 404)},
    )
    def put(self, request: Request, username: str, decision_type: str) -> Response:
        employee = _authority_seen_by(self.employee, username)  # outside their chain: 404, as reads
        decision_type_ = _decision_type_coded(decision_type)
        serializer = LimitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        limit = limit_set(
            granter=self.employee,
            employee=employee,
            decision_type=decision_type_,
            values={cap: data[cap] for cap in CAPS if cap in data},  # absent caps keep their value
            reason=data["reason"],
            starts_at=data.get("starts_at"),
            ends_at=data.get("ends_at"),
        )
        running = running_windows(employee_ids=[employee.pk], decision_type_ids=[decision_type_.pk])
        context = {"running_window": running.get((employee.pk, decision_type_.pk))}
        return Response(LimitOutputSerializer(limit, context=context).data)

    @extend_schema(
        operation_id="employees_limits_destroy",
        tags=["authority"],
        description=str(
            _(
                "Return the employee to their role's limits for this type: their standing personal limit is "
                "removed and their temporary ones end (one running stops now, scheduled ones are called off). "
                'A reason is required, as `?reason=` or in a JSON body `{"reason": "..."}`. Answers with the '
                "limits that apply now. No personal limit to clear: 409."
            )
        ),
        parameters=[
            # Required here, though a JSON body `{"reason"}` may carry it instead (OpenAPI cannot say "one of").
            OpenApiParameter(
                "reason",
                {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": r"\S"},
                OpenApiParameter.QUERY,
                required=True,
                description=_("Why."),
            )
        ],
        responses={200: EmployeeAuthoritySerializer, **error_responses(400, 404, 409)},
    )
    def delete(self, request: Request, username: str, decision_type: str) -> Response:
        employee = _authority_seen_by(self.employee, username)  # outside their chain: 404, as reads
        decision_type_ = _decision_type_coded(decision_type)
        body = request.data if isinstance(request.data, dict) else {}
        reason = body.get("reason") or request.query_params.get("reason", "")
        limit_clear(granter=self.employee, employee=employee, decision_type=decision_type_, reason=str(reason))
        return Response(EmployeeAuthoritySerializer(_employee_authority(employee)).data)


class EmployeeAuthorityAtView(EmployeeAPIView):
    """What an employee could decide at a moment, and why: the limits that applied, who set them,
    since when and the reason, what was used that day and month, and any authority held as a stand-in.

    Without `at`, now. A moment in the future is answered from what is scheduled now (standing limits,
    temporary limits and stand-ins already set up), marked `as_scheduled`; later changes may alter it.
    A moment out of range (e.g. year 1 with an offset): 400. Visible to the employee and the people
    above them (404 to anyone else).
    """

    @extend_schema(
        operation_id="employees_authority_retrieve",
        tags=["authority"],
        parameters=[
            OpenApiParameter(
                "at",
                OpenApiTypes.DATETIME,
                OpenApiParameter.QUERY,
                required=False,
                description=_("An ISO 8601 moment, e.g. 2026-11-17T14:05:00Z (default: now)."),
            )
        ],
        responses={200: AuthorityAtSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request, username: str) -> Response:
        employee = _authority_seen_by(self.employee, username)
        at = parse_moment(request.query_params.get("at"), field="at")
        data = {
            "username": employee.username,
            "at": at,
            "as_scheduled": at > timezone.now(),
            "currency": settings.EMPOWER_CURRENCY,
            "limits": authority_at(employee=employee, at=at),
        }
        return Response(AuthorityAtSerializer(data).data)


class LimitWindowEndView(EmployeeAPIView):
    """End one temporary limit now, with a reason (required): one running stops at once (the standing or
    role limits apply again), one scheduled is called off. The same people as for setting limits: someone
    above the employee, never their own (403), anyone else 404. Not a temporary limit of this employee and type: 404;
    already over: 409. Answers with the limits that apply now.
    """

    @extend_schema(
        operation_id="employees_limits_window_end",
        tags=["authority"],
        request=RequiredReasonInputSerializer,
        responses={200: EmployeeAuthoritySerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, username: str, decision_type: str, pk: int) -> Response:
        employee = _authority_seen_by(self.employee, username)  # outside their chain: 404, as reads
        decision_type_ = _decision_type_coded(decision_type)
        serializer = RequiredReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        limit_window_end(
            granter=self.employee,
            employee=employee,
            decision_type=decision_type_,
            window_id=pk,
            reason=serializer.validated_data["reason"],
        )
        return Response(EmployeeAuthoritySerializer(_employee_authority(employee)).data)
