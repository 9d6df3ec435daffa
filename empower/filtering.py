"""The API's filter backend: django-filter's, refusing a filter given empty.

django-filter reads `?status=` (present, but empty) as "no filter", so `?status=` and
`?case=&overdue=` were answered as if absent, although "" is none of the values the schema lists for a
choice, a number, a moment or a yes/no. Refused (400, naming the parameter) instead, so the API says
what it does and does what its schema says. Text filters (a username, a search) may be empty. A yes/no
filter takes `true` or `false` only (django-filter would read "null" or "maybe" as no filter).
"""

import django_filters
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError

EMPTY_FILTER = _("Give a value, or leave the parameter out.")
YES_OR_NO = _("Use true or false.")


class FilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = {
                name: [str(EMPTY_FILTER)]
                for name, filter_ in filterset_class.base_filters.items()
                if not isinstance(filter_, django_filters.CharFilter)
                and name in request.query_params
                and any(value == "" for value in request.query_params.getlist(name))
            }
            not_yes_or_no = {
                name: [str(YES_OR_NO)]
                for name, filter_ in filterset_class.base_filters.items()
                if isinstance(filter_, django_filters.BooleanFilter)
                and any(value not in ("true", "false", "") for value in request.query_params.getlist(name))
            }
            if empty or not_yes_or_no:
                raise ValidationError(empty | not_yes_or_no)
        return super().filter_queryset(request, queryset, view)
