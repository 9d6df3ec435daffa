from django.utils import translation
from django.utils.cache import patch_cache_control

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
