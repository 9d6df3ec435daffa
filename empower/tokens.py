"""API tokens: issue, list, revoke; and their authentication (one query, expiry and password checked in it).

A token is shown once, when issued; only its SHA-256 digest is stored. It stops working when it
expires (`API_TOKEN_DAYS`, default 30), when it is revoked (its owner, on the API or the Tokens page,
or an administrator in admin), when its user is deactivated, and at once when their password changes.
A token issued on the web page may be tied to that browser's login: logging out there revokes it.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db import connection
from django.db.models import QuerySet
from django.db.models.signals import post_save
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from empower.errors import NotFound
from empower.models import ApiToken, Employee
from empower.prepared import PreparedRead


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def password_stamp(user) -> str:
    """Changes whenever the user's password does (a digest of its hash, never the hash itself)."""
    return hashlib.sha256(f"api-token:{user.password}".encode()).hexdigest()


def api_token_issue(*, user, name: str = "", session_key: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`: (the row, the key, shown to them this once)."""
    key = secrets.token_hex(20)
    token = ApiToken.objects.create(
        user=user,
        digest=token_digest(key),
        prefix=key[:8],
        name=name[:100],
        expires_at=timezone.now() + timedelta(days=settings.API_TOKEN_DAYS),
        password_stamp=password_stamp(user),
        session_key=session_key or "",
    )
    return token, key


def api_tokens_of(*, user) -> QuerySet[ApiToken]:
    """The tokens that still work (not expired, issued since the last password change), newest first."""
    return ApiToken.objects.filter(
        user=user, expires_at__gt=timezone.now(), password_stamp=password_stamp(user)
    ).order_by("-created_at", "-id")


def api_token_revoke(*, user, token_id: int) -> None:
    """The owner revokes one of their tokens; another person's does not exist for them (404)."""
    deleted, _rows = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if not deleted:
        raise NotFound(_("No such token."), code="token_not_found")


def api_tokens_revoke_all(*, user) -> int:
    return ApiToken.objects.filter(user=user).delete()[0]


# The token of a digest, unexpired, with its user and the user's employee record (or none): every
# API call reads it, so its SQL is composed once (see `PreparedRead`).
_TOKEN_READ = PreparedRead(
    [(ApiToken, "t"), (get_user_model(), "u"), (Employee, "e")],
    "{t} INNER JOIN {u} ON u.id = t.user_id LEFT OUTER JOIN {e} ON e.user_id = u.id"
    " WHERE t.digest = %s AND t.expires_at > %s",
)


def token_with_employee(digest: str) -> ApiToken | None:
    """The unexpired token of `digest` with its user, and the user's employee record (None if they
    have none) loaded along: `token.user.employee` costs no query."""
    now = ApiToken._meta.get_field("expires_at").get_db_prep_value(timezone.now(), connection)
    found = _TOKEN_READ.one(digest, now)
    if found is None:
        return None
    token, user, employee = found
    ApiToken.user.field.set_cached_value(token, user)
    type(user).employee.related.set_cached_value(user, employee)
    if employee is not None:
        Employee.user.field.set_cached_value(employee, user)
    return token


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` against `ApiToken`: one query, which also refuses an expired key.

    `related` names what to load with the token's user in the same query (the API's employee views
    bring the employee along); without more than the employee, the query is `token_with_employee`."""

    model = ApiToken
    related: tuple[str, ...] = ("user",)

    def _token(self, digest: str) -> ApiToken | None:
        if set(self.related) <= {"user", "user__employee"}:
            return token_with_employee(digest)
        unexpired = ApiToken.objects.filter(digest=digest, expires_at__gt=timezone.now())
        return unexpired.select_related(*self.related).first()

    def authenticate_credentials(self, key: str):
        token = self._token(token_digest(key))
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        user = token.user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if not constant_time_compare(token.password_stamp, password_stamp(user)):
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        return (user, token)


def _revoke_on_password_change_or_deactivation(sender, instance, created, update_fields=None, **kwargs) -> None:
    if created:
        return
    # `_password` is set by set_password() until the save that stores it: a new password.
    if getattr(instance, "_password", None) is not None or not instance.is_active:
        ApiToken.objects.filter(user=instance).delete()
    elif update_fields is not None and set(update_fields) == {"password"}:
        # The same password, stored under a stronger hasher at login (Django's upgrade on
        # check_password): the tokens stay, with the new stamp.
        ApiToken.objects.filter(user=instance).update(password_stamp=password_stamp(instance))


def _revoke_the_logins_tokens(sender, request, user, **kwargs) -> None:
    session_key = getattr(getattr(request, "session", None), "session_key", None)
    if user is not None and session_key:
        ApiToken.objects.filter(user=user, session_key=session_key).delete()


def connect_signals() -> None:
    post_save.connect(
        _revoke_on_password_change_or_deactivation, sender=settings.AUTH_USER_MODEL, dispatch_uid="api-token-revoke"
    )
    user_logged_out.connect(_revoke_the_logins_tokens, dispatch_uid="api-token-logout")
