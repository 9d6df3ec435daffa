"""The organization's REST API: tokens, who am I, cases. Thin views: validate, call a service or selector, render."""

import base64
import functools
import hashlib
import re

import django_filters
from axes.helpers import get_client_ip_address
from axes.utils import reset as axes_reset
from csp.decorators import csp_update
from django.contrib.auth import authenticate
from django.db.models import QuerySet
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import exceptions, generics, status
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from empower.errors import InvalidInput, NotAllowed
from empower.models import Case, Employee
from empower.selectors import cases_visible_to, employee_for_user
from empower.serializers import (
    CaseCreateInputSerializer,
    CaseOutputSerializer,
    ErrorSerializer,
    MeSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from empower.services import case_open

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


class EmployeeTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, loading the caller's employee record in the same query.

    With `employee_related` (set from the view's own): the caller's related rows it loads along. A
    hot call names only what it reads: every table joined costs PostgreSQL planning time on every
    request (the seven-table join planned in about ten times its execution time)."""

    employee_related: tuple[str, ...] = EMPLOYEE_RELATED

    def authenticate_credentials(self, key):
        model = self.get_model()
        related = ["user__employee", *(f"user__employee__{name}" for name in self.employee_related)]
        try:
            token = model.objects.select_related(*related).get(key=key)
        except model.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return (token.user, token)


class EmployeeMixin:
    """For calls made by an employee: `self.employee` is the caller, who is answered in their language.

    An account without an employee record (e.g. the administrator) is refused with 403, never a 500.
    """

    employee: Employee
    # The configured authentication, with tokens that bring the employee along.
    authentication_classes = [
        EmployeeTokenAuthentication if cls is TokenAuthentication else cls
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
        token, _created = Token.objects.get_or_create(user=user)
        return Response(TokenSerializer({"token": token.key}).data)


class MeView(EmployeeAPIView):
    """Who the caller is: username, role (code), team, manager (username or null) and language."""

    @extend_schema(operation_id="me_retrieve", tags=["me"], responses={200: MeSerializer, **error_responses()})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(self.employee).data)


class CaseFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Case.Status.choices)

    class Meta:
        model = Case
        fields = ["status"]


class CaseListCreateView(EmployeeMixin, generics.ListAPIView):
    """Cases: list the ones the caller may see, or open one."""

    serializer_class = CaseOutputSerializer
    filterset_class = CaseFilter

    def get_queryset(self) -> QuerySet[Case]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return Case.objects.none()
        return cases_visible_to(employee=self.employee).order_by("-created_at", "-id")

    @extend_schema(
        operation_id="cases_list",
        tags=["cases"],
        description=str(_("The cases the caller may see (their team's; a manager's, every team below them).")),
        responses={200: CaseOutputSerializer(many=True), **error_responses(400)},
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
