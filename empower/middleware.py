from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import translation
from django.utils.cache import patch_cache_control

from empower.db_retry import RETRY_AFTER_SECONDS, DatabaseBusy, busy, is_retryable
from empower.error_pages import page_not_found
from empower.selectors import employee_for_user


class EmployeeLanguageMiddleware:
    """Attach `request.employee` and speak the employee's preferred language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.employee = employee_for_user(user=request.user)
        if request.employee and not request.COOKIES.get("django_language"):
            translation.activate(request.employee.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class PrivateResponsesMiddleware:
    """`Cache-Control: private, no-store` on every answer to someone logged in (a browser session or an
    API token): what a person sees behind login never lands in a shared or on-disk cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if "HTTP_AUTHORIZATION" in request.META or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_store=True)
        return response


class DatabaseBusyMiddleware:
    """Pages: a deadlock or serialization failure that reached the view (after the services' own
    retries) is a 503 with `Retry-After`, never a 500; nothing was changed. (The API answers the
    same in JSON through its exception handler.)"""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 503 and not response.has_header("Retry-After"):
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    def process_exception(self, request, exception):
        if not (isinstance(exception, DatabaseBusy) or is_retryable(exception)):
            return None
        message = str(busy().message)
        if request.path.startswith("/api/"):
            response = JsonResponse({"detail": message, "code": DatabaseBusy.code}, status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


class StyledNotFoundMiddleware:
    """With `DEBUG` on (`make run`), Django answers a 404 with its technical page (the routes it
    tried) instead of `handler404`: a person trying the product met an unstyled yellow page, and an
    API client got HTML instead of `{"detail", "code"}`. Here a 404 is the product's page (JSON under
    /api/) in both configurations. Only 404: an unhandled error (500) keeps Django's traceback page
    under `DEBUG`, which a developer needs. Last in `MIDDLEWARE`, so the page speaks the reader's
    language; without `DEBUG` it steps aside (`handler404` answers)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.DEBUG:
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404 as exception:
                return self._not_found(request, exception)
        return self.get_response(request)

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):  # raised by a view (`get_object_or_404`)
            return self._not_found(request, exception)
        return None

    @staticmethod
    def _not_found(request, exception) -> HttpResponse:
        return page_not_found(request, exception)  # the view `handler404` names
