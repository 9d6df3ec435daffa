"""The authority API: what may I decide, decide, and answer escalations.

Thin views: validate the shape, narrow to what the caller may see (404 otherwise), call one
service, render. The rules (authority, caps, who may approve) live in `delegation.services`.
"""

import re
from datetime import UTC

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from delegation.models import CAPS, Decision, DecisionType, Delegation, Escalation, EscalationStep
from delegation.selectors import (
    authority_at,
    authority_of,
    decisions_for_case,
    decisions_visible_to,
    delegations_visible_to,
    employee_named,
    employee_visible_to,
    escalation_inbox,
    escalations_visible_to,
    running_windows,
    standing_limits,
    windows_of,
)
from delegation.serializers import (
    AuthorityAtSerializer,
    AuthoritySerializer,
    CaseDetailOutputSerializer,
    DecisionOutputSerializer,
    DecisionSubmitInputSerializer,
    DelegationInputSerializer,
    DelegationOutputSerializer,
    EmployeeAuthoritySerializer,
    EscalationApproveInputSerializer,
    EscalationDetailOutputSerializer,
    EscalationOutputSerializer,
    EscalationRejectInputSerializer,
    LimitInputSerializer,
    LimitOutputSerializer,
    ReasonInputSerializer,
)
from delegation.services import (
    decision_submit,
    delegation_create,
    delegation_end,
    escalation_answer_check,
    escalation_approve,
    escalation_reject,
    escalation_withdraw,
    limit_clear,
    limit_set,
    limit_window_end,
)
from empower.api import EmployeeAPIView, EmployeeMixin, error_responses
from empower.errors import InvalidInput, NotFound
from empower.models import Employee
from empower.selectors import cases_visible_to

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
        case.case_decisions = list(decisions_for_case(case=case))
        return Response(CaseDetailOutputSerializer(case).data)


def _decision_for_output(*, employee, decision_id: int) -> Decision | None:
    return (
        decisions_visible_to(employee=employee)
        .select_related("escalation__assigned_to__user")
        .filter(pk=decision_id)
        .first()
    )


class DecisionSubmitView(EmployeeAPIView):
    """Decide for the customer.

    Within the caller's authority it is approved at once; beyond it, it is escalated (with the limits
    it exceeded) to the nearest person above who can approve it. With an `Idempotency-Key`, a retry
    with the same body answers the first result again (201, the same body, header
    `Idempotent-Replayed: true`) and creates nothing; the same key with another body is refused (409).
    A case the caller may not act on, or that does not exist, is 404.
    """

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
        # Cases the caller may not see (or that do not exist) are one answer: 404, revealing nothing.
        case = cases_visible_to(employee=self.employee).filter(pk=data["case"]).first()
        if case is None:
            message = _("No such case, or not one you may act on.")
            raise NotFound(message, field_errors={"case": [message]})
        started = timezone.now()
        decision = decision_submit(
            employee=self.employee,
            case=case,
            decision_type=data["decision_type"],
            amount=data["amount"],
            rationale=data["rationale"],
            idempotency_key=key,
        )
        replayed = key is not None and decision.created_at < started
        # Read it back: with eager routing the escalation is already assigned once the service committed.
        decision = decisions_for_case(case=case).get(pk=decision.pk)
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
        escalation_reject(escalation_id=pk, approver=self.employee, note=serializer.validated_data["note"])
        escalation = _visible_escalation(employee=self.employee, escalation_id=pk)
        return Response(EscalationDetailOutputSerializer(escalation).data)


# --- Managers shape authority: limits, stand-ins, history --------------------------------------------


def _employee_named(username: str) -> Employee:
    employee = employee_named(username=username)
    if employee is None:
        raise NotFound(_("No such employee."))
    return employee


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

    Only someone above the employee in the chain of command may; nobody changes their own limits;
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
        employee = _employee_named(username)
        decision_type_ = _decision_type_coded(decision_type)
        serializer = LimitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        current = standing_limits(employee=employee, decision_type=decision_type_)
        limit = limit_set(
            granter=self.employee,
            employee=employee,
            decision_type=decision_type_,
            values={cap: data[cap] if cap in data else getattr(current, cap) for cap in CAPS},
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
            OpenApiParameter("reason", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False, description=_("Why."))
        ],
        responses={200: EmployeeAuthoritySerializer, **error_responses(400, 404, 409)},
    )
    def delete(self, request: Request, username: str, decision_type: str) -> Response:
        employee = _employee_named(username)
        decision_type_ = _decision_type_coded(decision_type)
        body = request.data if isinstance(request.data, dict) else {}
        reason = body.get("reason") or request.query_params.get("reason", "")
        limit_clear(granter=self.employee, employee=employee, decision_type=decision_type_, reason=str(reason))
        return Response(EmployeeAuthoritySerializer(_employee_authority(employee)).data)


def _parse_moment(raw: str | None, *, field: str):
    """An ISO 8601 moment; without an offset it is read in the organization's time zone. None: now.

    A moment that exists in no time zone we use (e.g. 0001-01-01T00:00:00+05:00, before year 1 in UTC)
    is bad input, not a server error.
    """
    if raw is None or not raw.strip():
        return timezone.now()
    raw = raw.strip()
    # An unencoded "+01:00" in a query string arrives as " 01:00".
    raw = re.sub(r" (\d{2}:?\d{2})$", r"+\1", raw)
    try:
        moment = parse_datetime(raw)
        if moment is not None:
            moment = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
            # Both conversions the answer needs (stored in UTC, shown in the organization's zone).
            moment.astimezone(UTC)
            timezone.localtime(moment)
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        message = _("Give a moment as an ISO 8601 date and time, e.g. 2026-11-17T14:05:00Z.")
        raise InvalidInput(message, field_errors={field: [message]})
    return moment


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
        at = _parse_moment(request.query_params.get("at"), field="at")
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
    above the employee, never their own (403). Not a temporary limit of this employee and type: 404;
    already over: 409. Answers with the limits that apply now.
    """

    @extend_schema(
        operation_id="employees_limits_window_end",
        tags=["authority"],
        request=ReasonInputSerializer,
        responses={200: EmployeeAuthoritySerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, username: str, decision_type: str, pk: int) -> Response:
        employee = _employee_named(username)
        decision_type_ = _decision_type_coded(decision_type)
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        limit_window_end(
            granter=self.employee,
            employee=employee,
            decision_type=decision_type_,
            window_id=pk,
            reason=serializer.validated_data["reason"],
        )
        return Response(EmployeeAuthoritySerializer(_employee_authority(employee)).data)


class DelegationListCreateView(EmployeeAPIView):
    """Stand-ins: the delegations the caller gave or holds, and those of everyone below them; or set one up."""

    @extend_schema(
        operation_id="delegations_list",
        tags=["delegations"],
        responses={200: DelegationOutputSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        delegations = delegations_visible_to(employee=self.employee)
        return Response(DelegationOutputSerializer(delegations, many=True).data)

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
        request=ReasonInputSerializer,
        responses={200: DelegationOutputSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        delegation = Delegation.objects.filter(pk=pk).first()
        if delegation is None:
            raise NotFound(_("No such delegation."))
        serializer = ReasonInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        delegation_end(delegation=delegation, actor=self.employee, reason=serializer.validated_data["reason"])
        delegation = delegations_visible_to(employee=self.employee).get(pk=pk)
        return Response(DelegationOutputSerializer(delegation).data)


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
