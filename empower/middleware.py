from django.http import HttpResponse, JsonResponse
from django.utils import translation
from django.utils.cache import patch_cache_control

from empower.db_retry import RETRY_AFTER_SECONDS, DatabaseBusy, busy, is_retryable
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
