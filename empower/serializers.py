"""Small input and output serializers for the organization's API: who am I, cases, errors.

Input serializers only check shapes; the rules live in the services they feed.
"""

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from empower.models import Case


class ErrorSerializer(serializers.Serializer):
    """Every refusal: `detail` and `code`, plus a list of messages per invalid field (e.g. `amount`)."""

    detail = serializers.CharField(required=False, help_text=_("What went wrong, in the caller's language."))
    code = serializers.CharField(required=False, help_text=_("A stable code, e.g. `invalid` or `not_allowed`."))


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Send it as `Authorization: Token <token>`."))
    expires_at = serializers.DateTimeField(help_text=_("When it stops working (API_TOKEN_DAYS after it was issued)."))


class ApiTokenSerializer(serializers.Serializer):
    """One of the caller's tokens: never the key, only how it begins."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text=_("The first characters of the key, to tell tokens apart."))
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    ends_with_login = serializers.SerializerMethodField(
        help_text=_("Issued on the web page, tied to that browser's login: logging out there revokes it.")
    )
    current = serializers.SerializerMethodField(help_text=_("The token this request was made with."))

    def get_ends_with_login(self, token) -> bool:
        return bool(token.session_key)

    def get_current(self, token) -> bool:
        return token.pk == self.context.get("current_token_id")


class MeSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    name = serializers.CharField(source="user.get_full_name")
    role = serializers.CharField(source="role.code")
    role_name = serializers.CharField(source="role.name")
    team = serializers.CharField(source="team.name")
    manager = serializers.CharField(source="parent.user.username", allow_null=True)
    language = serializers.ChoiceField(choices=settings.LANGUAGES)


class CustomerInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email = serializers.EmailField(max_length=254, help_text=_("The customer is found by e-mail, or created."))
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)


class CaseCreateInputSerializer(serializers.Serializer):
    customer = CustomerInputSerializer()
    subject = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")


class CustomerOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.EmailField()
    language = serializers.ChoiceField(choices=settings.LANGUAGES)


class CaseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Case.Status.choices)
    subject = serializers.CharField()
    description = serializers.CharField()
    customer = CustomerOutputSerializer()
    team = serializers.CharField(source="team.name")
    assigned_to = serializers.CharField(source="assigned_to.user.username", help_text=_("A username."))
    resolution_note = serializers.CharField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class CaseListItemSerializer(CaseOutputSerializer):
    """A case in `GET /cases/`, with what the queue shows of its state."""

    waiting = serializers.BooleanField(
        source="flag_waiting", default=False, help_text=_("An escalation on it waits for an answer.")
    )
    approved = serializers.BooleanField(source="flag_approved", default=False, help_text=_("A decision was approved."))
    follow_up_open = serializers.BooleanField(source="flag_follow_up", default=False)


class CaseReopenInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CaseReassignInputSerializer(serializers.Serializer):
    assigned_to = serializers.CharField(max_length=150, help_text=_("The username of a member of the case's team."))
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
