"""The API's one shape for lists: `{"count", "next", "previous", "results"}`, a page at a time.

The default for every list view (`REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]`); it lives in the
lowest app so every app may name it. `?page=2` for the next page, `?page_size=` from 1 to 500.

A page number or size that is not a whole number in range is a 400 naming the parameter (DRF would
answer 404 for the one and quietly use the default for the other); a page past the last is a 404.
`whole_number_param` is the one reader for such parameters (the feedback lists' `limit`/`offset` too).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination, PageNumberPagination

ID_MAX = 2**63 - 1


def whole_number_param(request, name: str, *, minimum: int, maximum: int = ID_MAX) -> int | None:
    """The query parameter `name` as a whole number from `minimum` to `maximum`; None when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= maximum:
        message = _("Enter a whole number from %(minimum)d to %(maximum)d.") % {"minimum": minimum, "maximum": maximum}
        raise ValidationError({name: [message]})
    return int(raw)


def _bounded(parameters: list[dict], bounds: dict[str, tuple[int, int]]) -> list[dict]:
    for parameter in parameters:
        if parameter["name"] in bounds:
            minimum, maximum = bounds[parameter["name"]]
            parameter["schema"] = {"type": "integer", "minimum": minimum, "maximum": maximum}
    return parameters


class Pagination(PageNumberPagination):
    # page_size is the REST framework's PAGE_SIZE setting.
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        size = whole_number_param(request, self.page_size_query_param, minimum=1, maximum=self.max_page_size)
        return self.page_size if size is None else size

    def get_page_number(self, request, paginator):
        whole_number_param(request, self.page_query_param, minimum=1)
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        bounds = {self.page_query_param: (1, ID_MAX), self.page_size_query_param: (1, self.max_page_size)}
        return _bounded(super().get_schema_operation_parameters(view), bounds)


class LimitOffsetBoundedPagination(LimitOffsetPagination):
    """`?limit=` (1 to 500) and `?offset=` (0 or more), checked as `Pagination` checks its parameters."""

    default_limit = 100
    max_limit = 500

    def get_limit(self, request):
        limit = whole_number_param(request, self.limit_query_param, minimum=1, maximum=self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request):
        return whole_number_param(request, self.offset_query_param, minimum=0) or 0

    def get_schema_operation_parameters(self, view):
        bounds = {self.limit_query_param: (1, self.max_limit), self.offset_query_param: (0, ID_MAX)}
        return _bounded(super().get_schema_operation_parameters(view), bounds)
