from django.utils import translation

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
