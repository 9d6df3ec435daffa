"""One domain error type. Services raise it; the API and the pages render it the same way."""

from django.utils.functional import Promise


class DomainError(Exception):
    """A rule refused an action. `status` is the HTTP status the edges answer with."""

    status = 400
    code = "invalid"

    def __init__(self, message: str | Promise, *, code: str | None = None, field_errors: dict | None = None):
        super().__init__(str(message))
        self.message = message
        if code:
            self.code = code
        self.field_errors = field_errors or {}


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


class NotAllowed(DomainError):
    status = 403
    code = "not_allowed"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
