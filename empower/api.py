"""The organization's REST API: tokens, who am I, cases. Thin views: validate, call a service or selector, render."""

import base64
import functools
import hashlib
import re

from axes.helpers import get_client_ip_address
from axes.utils import reset as axes_reset
from csp.decorators import csp_update
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from empower.errors import InvalidInput, NotAllowed, NotFound
from empower.models import ApiToken, Case, Employee
from empower.selectors import CASE_SORTS, CASE_STATES, case_list, cases_visible_to, employee_for_user
from empower.serializers import (
    ApiTokenSerializer,
    CaseCreateInputSerializer,
    CaseListItemSerializer,
    CaseOutputSerializer,
    CaseReassignInputSerializer,
    CaseReopenInputSerializer,
    ErrorSerializer,
    MeSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from empower.services import case_open, case_reassign, case_reopen
from empower.tokens import ApiTokenAuthentication, api_token_issue, api_token_revoke, api_tokens_of

_ERROR_DESCRIPTIONS = {
    400: _("Invalid input: `detail`, `code` and a list of messages per invalid field. Nothing was changed."),
    401: _("No credentials, or invalid ones."),
    403: _("Not allowed (e.g. the account is not an employee, or a rule refuses it). Nothing was changed."),
    404: _("No such object, or not one the caller may see."),
    409: _("Conflicts with the current state (e.g. already decided). Nothing was changed."),
}


def error_responses(*codes: int, authenticated: bool = True) -> dict[int, OpenApiResponse]:
    """OpenAPI responses for refusals; 401 and 403 apply to every authenticated call."""
    codes = (*codes, 401, 403) if authenticated else codes
    return {
        code: OpenApiResponse(response=ErrorSerializer, description=str(_ERROR_DESCRIPTIONS[code]))
        for code in sorted(set(codes))
    }


# What an employee call reads of the caller by default (`employee_for_user` loads the same).
EMPLOYEE_RELATED = ("role", "team", "parent__user")


class EmployeeTokenAuthentication(ApiTokenAuthentication):
    """Token authentication (expiry and password checked in its one query), loading the caller's
    employee record in the same query.

    With `employee_related` (set from the view's own): the caller's related rows it loads along. A
    hot call names only what it reads: every table joined costs PostgreSQL planning time on every
    request (the seven-table join planned in about ten times its execution time)."""

    employee_related: tuple[str, ...] = EMPLOYEE_RELATED

    @property
    def related(self) -> tuple[str, ...]:
        return ("user__employee", *(f"user__employee__{name}" for name in self.employee_related))


class EmployeeMixin:
    """For calls made by an employee: `self.employee` is the caller, who is answered in their language.

    An account without an employee record (e.g. the administrator) is refused with 403, never a 500.
    """

    employee: Employee
    # The configured authentication, with tokens that bring the employee along.
    authentication_classes = [
        EmployeeTokenAuthentication if cls is ApiTokenAuthentication else cls
        for cls in api_settings.DEFAULT_AUTHENTICATION_CLASSES
    ]
    # The caller's related rows a token brings along; a hot call lists only what it reads.
    employee_related: tuple[str, ...] = EMPLOYEE_RELATED

    def get_authenticators(self):
        authenticators = super().get_authenticators()  # type: ignore[misc]
        for authenticator in authenticators:
            if isinstance(authenticator, EmployeeTokenAuthentication):
                authenticator.employee_related = self.employee_related
        return authenticators

    def initial(self, request: Request, *args, **kwargs) -> None:
        if request.query_params.get("format") == "":  # DRF would take it as none; no schema offers it
            message = _("A `format` the call does not answer in (`json`, or `csv` where offered).")
            raise InvalidInput(message, field_errors={"format": [message]})
        super().initial(request, *args, **kwargs)  # type: ignore[misc]  # authenticates and checks permissions
        # The middleware already loaded the employee for a browser session; a token brought it along.
        employee = getattr(request._request, "employee", None)
        if employee is None or employee.user_id != request.user.pk:
            user = request.user
            if user.is_authenticated and type(user).employee.is_cached(user):
                employee = getattr(user, "employee", None)  # None: loaded, and there is none
            else:
                employee = employee_for_user(user=user)
        if employee is None:
            raise NotAllowed(_("Only employees use this API; this account is not one."), code="not_an_employee")
        self.employee = employee
        if not request.COOKIES.get("django_language"):
            translation.activate(employee.language)
            request._request.LANGUAGE_CODE = translation.get_language()


class EmployeeAPIView(EmployeeMixin, APIView):
    pass


class AuthTokenView(APIView):
    """Trade a username and password for an API token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        auth=[],
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **error_responses(400, authenticated=False)},
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = authenticate(request._request, **serializer.validated_data)
        if user is None:
            raise InvalidInput(_("Unable to log in with the username and password given."), code="bad_credentials")
        # A good password starts login protection's count again, as a login on the page does.
        axes_reset(ip=get_client_ip_address(request._request), username=user.get_username())
        # A new token each time: each client holds its own, revoked on its own (GET /api/v1/me/tokens/).
        token, key = api_token_issue(user=user, name=request.headers.get("User-Agent", "")[:100])
        return Response(TokenSerializer({"token": key, "expires_at": token.expires_at}).data)


class MyTokensView(generics.ListAPIView):
    """The caller's API tokens that still work, newest first (never the keys). Any logged-in user."""

    serializer_class = ApiTokenSerializer
    filter_backends: list = []
    authentication_classes = EmployeeMixin.authentication_classes  # one token scheme in the schema

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return ApiToken.objects.none()
        return api_tokens_of(user=self.request.user)

    def get_serializer_context(self) -> dict:
        auth = getattr(self.request, "auth", None)
        return super().get_serializer_context() | {"current_token_id": getattr(auth, "pk", None)}

    @extend_schema(
        operation_id="me_tokens_list",
        tags=["auth"],
        responses={200: ApiTokenSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)


class MyTokenView(APIView):
    """Revoke one of the caller's tokens (it stops working at once); another person's: 404."""

    authentication_classes = EmployeeMixin.authentication_classes

    @extend_schema(operation_id="me_tokens_destroy", tags=["auth"], responses={204: None, **error_responses(404)})
    def delete(self, request: Request, pk: int) -> Response:
        api_token_revoke(user=request.user, token_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(EmployeeAPIView):
    """Who the caller is: username, role (code), team, manager (username or null) and language."""

    @extend_schema(operation_id="me_retrieve", tags=["me"], responses={200: MeSerializer, **error_responses()})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(self.employee).data)


class CaseListCreateView(EmployeeMixin, generics.ListAPIView):
    """Cases: list the ones the caller may see (filtered, searched, sorted: `case_list`), or open one."""

    serializer_class = CaseListItemSerializer
    filter_backends: list = []  # `case_list` filters, the same for the queue page and here

    def get_queryset(self) -> QuerySet[Case]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Case.objects.none()
        params = self.request.query_params
        state, sort = params.get("status", ""), params.get("sort", "")
        if "status" in params and state not in CASE_STATES:  # given, even empty: one of them
            message = _("Choose a status among: %(states)s.") % {"states": ", ".join(CASE_STATES)}
            raise InvalidInput(message, field_errors={"status": [message]})
        if "sort" in params and sort not in CASE_SORTS:
            message = _("Choose a sort among: %(sorts)s.") % {"sorts": ", ".join(CASE_SORTS)}
            raise InvalidInput(message, field_errors={"sort": [message]})
        return case_list(
            employee=self.employee,
            state=state,
            assigned_to=params.get("assigned_to", "").strip(),
            q=params.get("q", "")[:200],
            sort=sort,
        )

    @extend_schema(
        operation_id="cases_list",
        tags=["cases"],
        description=str(_("The cases the caller may see (their team's; a manager's, every team below them).")),
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=list(CASE_STATES),
                description=str(
                    _(
                        "open, resolved; waiting (an escalation waits), approved (an open case with an approved "
                        "decision), follow_up (a follow-up is open)."
                    )
                ),
            ),
            OpenApiParameter(
                "assigned_to", OpenApiTypes.STR, description=str(_("A username, or `me` for the caller."))
            ),
            OpenApiParameter(
                "q", OpenApiTypes.STR, description=str(_("Search in the customer's name and e-mail and the subject."))
            ),
            OpenApiParameter("sort", OpenApiTypes.STR, enum=list(CASE_SORTS)),
        ],
        responses={200: CaseListItemSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="cases_create",
        tags=["cases"],
        description=str(
            _("Open a case in the caller's team, assigned to the caller. The customer is found by e-mail, or created.")
        ),
        request=CaseCreateInputSerializer,
        responses={201: CaseOutputSerializer, **error_responses(400)},
    )
    def post(self, request: Request) -> Response:
        serializer = CaseCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = case_open(
            employee=self.employee,
            customer_name=data["customer"]["name"],
            customer_email=data["customer"]["email"],
            customer_language=data["customer"].get("language", ""),
            subject=data["subject"],
            description=data["description"],
        )
        location = reverse("api-case-detail", kwargs={"pk": case.pk})
        return Response(CaseOutputSerializer(case).data, status=status.HTTP_201_CREATED, headers={"Location": location})


def _visible_case(employee: Employee, pk: int) -> Case:
    case = cases_visible_to(employee=employee).filter(pk=pk).first()
    if case is None:
        raise NotFound(_("No such case, or not one you may see."))
    return case


class CaseReopenView(EmployeeAPIView):
    """Reopen a resolved case (its team or the people above them; others 404): decisions may be taken
    on it again. An open case: 409 (`case_open`). Audited; no second survey when it is resolved again."""

    @extend_schema(
        operation_id="cases_reopen",
        tags=["cases"],
        request=CaseReopenInputSerializer,
        responses={200: CaseOutputSerializer, **error_responses(400, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _visible_case(self.employee, pk)
        serializer = CaseReopenInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = case_reopen(employee=self.employee, case=case, reason=serializer.validated_data["reason"])
        return Response(CaseOutputSerializer(case).data)


class CaseReassignView(EmployeeAPIView):
    """Hand a case to a member of its team (audited; they are told). Someone outside the team: 400."""

    @extend_schema(
        operation_id="cases_reassign",
        tags=["cases"],
        request=CaseReassignInputSerializer,
        responses={200: CaseOutputSerializer, **error_responses(400, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _visible_case(self.employee, pk)
        serializer = CaseReassignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        username = serializer.validated_data["assigned_to"]
        assignee = Employee.objects.select_related("user").filter(user__username=username).first()
        if assignee is None:
            message = _("Choose someone of the case's team.")
            raise InvalidInput(message, code="not_in_team", field_errors={"assigned_to": [message]})
        case = case_reassign(
            employee=self.employee, case=case, assignee=assignee, reason=serializer.validated_data["reason"]
        )
        return Response(CaseOutputSerializer(case).data)


@functools.cache
def inline_style_hashes(template_name: str) -> list[str]:
    """CSP hashes of the inline <style> blocks of a template, so the page can keep `style-src 'self'`."""
    source = get_template(template_name).template.source
    return [
        f"'sha256-{base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()}'"
        for block in re.findall(r"<style>(.*?)</style>", source, flags=re.DOTALL)
    ]


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI from the sidecar (our own static files), under the strict CSP.

    Its page carries one inline <style> block: it is allowed by its hash, on this page only.
    Everything else (scripts, the UI itself, the schema) comes from 'self'.
    """

    def dispatch(self, request, *args, **kwargs):
        hashes = inline_style_hashes(self.template_name)
        return csp_update({"style-src": hashes})(super().dispatch)(request, *args, **kwargs)
