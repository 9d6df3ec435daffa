"""The API's one body parser: JSON, bounded in depth.

Python's `json` recurses once per level of nesting, so a body of a thousand `[` would end in a
RecursionError (a server error) before any serializer sees it. No request of ours nests deeper than
a few levels; `MAX_DEPTH` leaves room and refuses the rest as a 400 (`code` "parse_error"). The body's
size is bounded before parsing by Django's `DATA_UPLOAD_MAX_MEMORY_SIZE` (413, see
`empower.api_errors`).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def depth_of(value) -> int:
    """How deeply `value` nests lists and objects (a scalar is 0), without recursing."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, depth + 1) for child in children)
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, refusing (400) a body nested deeper than `MAX_DEPTH` instead of crashing."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
            too_deep = True
        else:
            too_deep = depth_of(data) > MAX_DEPTH
        if too_deep:
            raise ParseError(
                _("JSON parse error - nested more than %(depth)d levels deep.") % {"depth": MAX_DEPTH}
            ) from None
        return data
