"""The API's one shape for lists: `{"count", "next", "previous", "results"}`, a page at a time.

The default for every list view (`REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]`); it lives in the
lowest app so every app may name it. `?page=2` for the next page, `?page_size=` up to 500.
"""

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    # page_size is the REST framework's PAGE_SIZE setting.
    page_size_query_param = "page_size"
    max_page_size = 500
