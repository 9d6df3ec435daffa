"""The root URLconf's error views: JSON under `/api/` (`detail` and `code`, as every API error), Django's
own pages elsewhere. Django calls these for what no view answered: an unknown route or a non-numeric
id (404), a request it refused before any view ran (400, e.g. a body above
`DATA_UPLOAD_MAX_MEMORY_SIZE`, which the API answers 413), and an unhandled server error (500)."""

from django.core.exceptions import RequestDataTooBig
from django.views import defaults

from empower.api_errors import BAD_REQUEST, FORBIDDEN, NOT_FOUND, SERVER_ERROR, TOO_LARGE, is_api, json_error


def bad_request(request, exception, template_name=defaults.ERROR_400_TEMPLATE_NAME):
    if is_api(request):
        return json_error(TOO_LARGE if isinstance(exception, RequestDataTooBig) else BAD_REQUEST)
    return defaults.bad_request(request, exception, template_name)


def permission_denied(request, exception, template_name=defaults.ERROR_403_TEMPLATE_NAME):
    if is_api(request):
        return json_error(FORBIDDEN)
    return defaults.permission_denied(request, exception, template_name)


def page_not_found(request, exception, template_name=defaults.ERROR_404_TEMPLATE_NAME):
    if is_api(request):
        return json_error(NOT_FOUND)
    return defaults.page_not_found(request, exception, template_name)


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    if is_api(request):
        return json_error(SERVER_ERROR)
    return defaults.server_error(request, template_name)
