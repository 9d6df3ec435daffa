"""The OpenAPI document says what the server answers: a drf-spectacular post-processing hook
(`SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]`) adds the answers every operation of a kind can give,
in one place rather than on each view:

- an operation that takes a body: 400 (not JSON, nested too deep), 413 (larger than
  `DATA_UPLOAD_MAX_MEMORY_SIZE`) and 415 (not `application/json`);
- a list: 400 (a page, size, limit or filter out of range) and 404 (a page past the last);
- an operation with a `format` parameter: 400 for an empty one, 404 for one it does not answer in
  (DRF's rule);
- the token endpoint: 429 (locked out after too many wrong passwords, see django-axes).

Every operation also lists 414 (a request line longer than the app server takes), without a body:
gunicorn answers it before Django runs, so it is not JSON; see the README's security section.
"""

from django.utils.translation import gettext_lazy as _

ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

BODY_ANSWERS = {
    "400": _("Invalid input: `detail`, `code` and a list of messages per invalid field. Nothing was changed."),
    "413": _("The body is larger than the server takes (DATA_UPLOAD_MAX_MEMORY_SIZE). Nothing was changed."),
    "415": _("The body is not JSON (`Content-Type: application/json`). Nothing was changed."),
}
LIST_ANSWERS = {
    "400": _("A page, page size, limit, offset or filter that is not one of the values allowed."),
    "404": _("A page past the last."),
}
FORMAT_ANSWERS = {
    "400": _("A `format` the call does not answer in (`json`, or `csv` where offered)."),
    "404": _("A `format` the call does not answer in (`json`, or `csv` where offered)."),
}
URI_TOO_LONG = _("The request line is longer than the server takes (answered by gunicorn, not JSON).")
TOKEN_ANSWERS = {"429": _("Too many failed attempts for this username from this address: try again later.")}
LIST_PARAMETERS = {"page", "page_size", "limit", "offset"}


def add_error_answers(result, generator, request, public):
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            answers = {}
            if "requestBody" in operation:
                answers |= BODY_ANSWERS
            if LIST_PARAMETERS & {parameter.get("name") for parameter in operation.get("parameters", [])}:
                answers |= LIST_ANSWERS
            if "format" in {parameter.get("name") for parameter in operation.get("parameters", [])}:
                answers |= FORMAT_ANSWERS
            if path.endswith("/auth/token/"):
                answers |= TOKEN_ANSWERS
            for status, description in answers.items():
                operation["responses"].setdefault(status, {"description": str(description), "content": ERROR})
            operation["responses"].setdefault("414", {"description": str(URI_TOO_LONG)})
    return result
