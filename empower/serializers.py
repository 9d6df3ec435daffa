"""Small input and output serializers for the organization's API: who am I, cases, errors.

Input serializers only check shapes; the rules live in the services they feed.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.fields import empty

from empower.emails import EMAIL_MAX_LENGTH, canonical_email
from empower.models import DESCRIPTION_MAX, Case

# Text that must say something. The schema says so (minLength 1 and a pattern asking for one visible
# character), so generated clients and the fuzzing in CI send what the server takes. Where a field
# allows blank text, blank still reaches the service, which words the refusal itself.
NOT_BLANK = RegexValidator(r"\S", message=_("Write something here."))


class _BlankToService(serializers.CharField):
    """Blank text passes as "" to the service, which words the refusal itself; the schema (drf-spectacular
    reads `allow_blank`, False here) offers no blank value."""

    def run_validation(self, data=empty):
        if isinstance(data, str) and (data == "" or (self.trim_whitespace and not data.strip())):
            return ""
        return super().run_validation(data)


class _MissingToService(_BlankToService):
    """Missing text too: the service may answer first with a state conflict (409) before asking for it."""

    def run_validation(self, data=empty):
        return "" if data is empty else super().run_validation(data)


def text_input(
    *, not_blank: RegexValidator = NOT_BLANK, allow_blank: bool = False, allow_missing: bool = False, **kwargs
) -> serializers.CharField:
    """A required text field: at least one character that is not a space (see `NOT_BLANK`). With
    `allow_blank` (and `allow_missing`), blank (or missing) text still reaches the service, which then
    words the refusal; the schema says the text is required either way."""
    field_class = _MissingToService if allow_missing else _BlankToService if allow_blank else serializers.CharField
    return field_class(min_length=1, validators=[not_blank], **kwargs)


def page_of(serializer_class, *, name: str) -> serializers.Serializer:
    """The schema of one page of a list the view paginates by hand: `{"count", "next", "previous",
    "results"}`, as every list answers."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": serializer_class(many=True),
        },
    )


class ErrorSerializer(serializers.Serializer):
    """Every refusal: `detail` and `code`, plus a list of messages per invalid field (e.g. `amount`)."""

    detail = serializers.CharField(required=False, help_text=_("What went wrong, in the caller's language."))
    code = serializers.CharField(required=False, help_text=_("A stable code, e.g. `invalid` or `not_allowed`."))


class TokenRequestSerializer(serializers.Serializer):
    username = text_input(max_length=150)
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


class CanonicalEmailField(serializers.EmailField):
    """An e-mail address, read in its canonical form (`empower.emails`), as the pages read it."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        try:
            return canonical_email(data)
        except ValidationError as invalid:
            raise serializers.ValidationError(invalid.messages, code="invalid") from None


class CustomerInputSerializer(serializers.Serializer):
    name = text_input(max_length=200)
    email = CanonicalEmailField(
        max_length=EMAIL_MAX_LENGTH,
        help_text=_(
            "The customer is found by e-mail, or created. Read in its canonical form (Unicode NFKC, invisible "
            "characters removed, the domain in IDNA ASCII, lower case): every spelling of one mailbox is one customer."
        ),
    )
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)


class CaseCreateInputSerializer(serializers.Serializer):
    customer = CustomerInputSerializer()
    subject = text_input(max_length=200)
    description = serializers.CharField(max_length=DESCRIPTION_MAX, required=False, allow_blank=True, default="")


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
