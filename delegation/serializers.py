"""Small input and output serializers for authority, decisions and escalations.

Money travels as a string with two decimals ("80.00"); `null` means "no limit". Input serializers
only check shapes (a well-formed amount, a known decision type); every rule is in the services.
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty

from delegation.models import CAPS, Decision, DecisionType, Escalation, EscalationStep, Timed
from delegation.selectors.usage import active_decision_type
from delegation.services import validate_amount
from delegation.services.common import AMOUNT_INVALID
from empower.errors import InvalidInput
from empower.fields import parse_moment
from empower.serializers import CaseOutputSerializer, text_input


def money(**kwargs) -> serializers.DecimalField:
    """Money out: a string with two decimals."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


@extend_schema_field({"type": "string", "format": "decimal", "pattern": r"^\d{1,12}(\.\d{1,2})?$", "example": "80.00"})
class AmountInputField(serializers.Field):
    """Money in: parsed by `delegation.services.validate_amount`, the one parser the pages use too, so a bad
    amount is answered in the same words on the API and on the page. Missing (when required) or empty is
    parsed as well, so it says what an amount looks like rather than "This field is required."
    """

    def validate_empty_values(self, data):
        if data is empty or data is None or data == "":
            if not self.required or (data is None and self.allow_null):
                return (True, None if data is not empty else self.get_default())
            data = ""
        return (False, data)

    def to_internal_value(self, data) -> Decimal:
        # Money travels as a string: a JSON number is refused (a float cannot carry cents exactly, and
        # 1E1 or 80.5000001 would be read as something the caller did not write).
        if not isinstance(data, str):
            raise serializers.ValidationError(_('Send the amount as a string, e.g. "80.00".'), code="invalid")
        if data != data.strip():  # the documented shape exactly: the schema's pattern allows no spaces
            raise serializers.ValidationError(AMOUNT_INVALID, code="invalid")
        try:
            return validate_amount(data, field=self.field_name)
        except InvalidInput as error:
            raise serializers.ValidationError(str(error.message), code="invalid") from None

    def to_representation(self, value) -> str:
        return f"{value:.2f}"


def amount_input(**kwargs) -> AmountInputField:
    """A positive amount with at most two decimals, below an absurd ceiling; NaN and infinities are refused."""
    return AmountInputField(**kwargs)


@extend_schema_field(OpenApiTypes.DATETIME)
class MomentInputField(serializers.Field):
    """A date and time in: `empower.fields.parse_moment`, the one reader the pages use too (ISO 8601, the
    organization's time zone without an offset, refused outside the calendar in one wording)."""

    def to_internal_value(self, data):
        try:
            return parse_moment(data if isinstance(data, str) else str(data), field=self.field_name, default_now=False)
        except InvalidInput as error:
            raise serializers.ValidationError(str(error.message), code="invalid") from None

    def to_representation(self, value) -> str:
        return serializers.DateTimeField().to_representation(value)


def username(source: str, **kwargs) -> serializers.CharField:
    kwargs.setdefault("help_text", _("A username."))
    return serializers.CharField(source=f"{source}.user.username", **kwargs)


# --- authority ----------------------------------------------------------------------------------


class AuthorityLineSerializer(serializers.Serializer):
    decision_type = serializers.CharField(source="decision_type.code")
    decision_type_name = serializers.CharField(source="decision_type.name")
    source = serializers.CharField(
        source="limits.source", help_text=_('Where the limits come from: "role", "personal", "stand-in" or "none".')
    )
    per_decision = money(source="limits.per_decision", allow_null=True)
    per_day = money(source="limits.per_day", allow_null=True)
    used_today = money()
    remaining_today = money(allow_null=True)
    per_month = money(source="limits.per_month", allow_null=True)
    used_this_month = money()
    remaining_this_month = money(allow_null=True)
    per_customer_month = money(source="limits.per_customer_month", allow_null=True)
    available_now = money(
        allow_null=True, help_text=_("The largest single decision that passes right now (before the customer cap).")
    )


class StandInLineSerializer(AuthorityLineSerializer):
    acting_for = username("acting_for", help_text=_("Whose authority the caller holds as their stand-in."))


class AuthoritySerializer(serializers.Serializer):
    currency = serializers.CharField()
    limits = AuthorityLineSerializer(many=True, source="lines")
    stand_in = StandInLineSerializer(
        many=True, source="borrowed", help_text=_("Authority the caller holds for someone away, on their caps.")
    )


# --- decisions ----------------------------------------------------------------------------------


class ActiveDecisionTypeField(serializers.SlugRelatedField):
    """An active decision type by its code, looked up among the cached ones (no query); answers an
    unknown or retired code as `SlugRelatedField` does."""

    def to_internal_value(self, data) -> DecisionType:
        if not isinstance(data, str):
            self.fail("invalid")
        decision_type = active_decision_type(data)
        if decision_type is None:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return decision_type


class DecisionSubmitInputSerializer(serializers.Serializer):
    case = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    decision_type = ActiveDecisionTypeField(
        slug_field="code", queryset=DecisionType.objects.filter(is_active=True), help_text=_("e.g. `refund`.")
    )
    amount = amount_input(help_text=_('A string with at most two decimals, e.g. "80.00".'))
    rationale = text_input(max_length=5000)
    story = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        help_text=_(
            "What the customer needed and what was done, shared with colleagues. Required (non-empty) for a "
            "decision of type `wow`, the discretionary budget; optional otherwise."
        ),
    )


class EscalationBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Escalation.Status.choices)
    assigned_to = username("assigned_to", allow_null=True)
    level = serializers.IntegerField()
    due_at = serializers.DateTimeField(allow_null=True)


_MONEY = money()
_MOMENT = serializers.DateTimeField()


def _username(employee) -> str | None:
    return None if employee is None else employee.user.username


def _escalation_brief(decision: Decision) -> dict | None:
    escalation = getattr(decision, "escalation", None)  # None: loaded, and there is none
    if escalation is None:
        return None
    return {
        "id": escalation.pk,
        "status": escalation.status,
        "assigned_to": _username(escalation.assigned_to),
        "level": escalation.level,
        "due_at": _MOMENT.to_representation(escalation.due_at),
    }


def decision_output(decision: Decision) -> dict:
    """What the API answers of a decision, as `DecisionOutputSerializer` declares it, written out:
    the decision path renders one on every call, and a serializer instance deep-copies its declared
    fields first (about a quarter of a millisecond). A test in `tests/delegation/test_decision_path.py`
    holds the two to the same answer."""
    return {
        "id": decision.pk,
        "case": decision.case_id,
        "decision_type": decision.decision_type.code,
        "amount": _MONEY.to_representation(decision.amount),
        "final_amount": None if decision.final_amount is None else _MONEY.to_representation(decision.final_amount),
        "currency": decision.currency,
        "status": str(decision.status),
        "within_authority": decision.within_authority,
        "exceeded": list(decision.exceeded),
        "rationale": decision.rationale,
        "story": decision.story,
        "made_by": _username(decision.made_by),
        "approved_by": _username(decision.approved_by),
        "authority_of": _username(decision.authority_of),
        "escalation": _escalation_brief(decision),
        "created_at": _MOMENT.to_representation(decision.created_at),
        "decided_at": _MOMENT.to_representation(decision.decided_at),
        "limits_snapshot": decision.limits_snapshot,
        "approval_snapshot": decision.approval_snapshot,
    }


class DecisionOutputSerializer(serializers.Serializer):
    """The fields declare the answer's schema; `decision_output` writes it."""

    id = serializers.IntegerField()
    case = serializers.IntegerField(source="case_id")
    decision_type = serializers.CharField(source="decision_type.code")
    amount = money()
    final_amount = money(allow_null=True, help_text=_("The approved amount; null until approved."))
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Decision.Status.choices)
    within_authority = serializers.BooleanField()
    exceeded = serializers.ListField(child=serializers.ChoiceField(choices=CAPS))
    rationale = serializers.CharField()
    story = serializers.CharField(help_text=_("The story of a wow gesture (empty for other decisions)."))
    made_by = username("made_by")
    approved_by = username("approved_by", allow_null=True)
    authority_of = username(
        "authority_of",
        allow_null=True,
        help_text=_(
            "Whose authority judged it once approved: the maker's or approver's own, or, for a stand-in, "
            "the person they stand in for. Null until approved."
        ),
    )
    escalation = EscalationBriefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)
    limits_snapshot = serializers.JSONField(
        read_only=True,
        help_text=_("The maker's limits and use when it was decided: those that approved it, or that it exceeded."),
    )
    approval_snapshot = serializers.JSONField(
        read_only=True,
        help_text=_("Once an escalated decision is approved: the approver's limits and use then (empty before)."),
    )

    def to_representation(self, instance: Decision) -> dict:
        return decision_output(instance)


class CaseDetailOutputSerializer(CaseOutputSerializer):
    decisions = DecisionOutputSerializer(many=True, source="case_decisions")


# --- escalations --------------------------------------------------------------------------------


class EscalationStepOutputSerializer(serializers.Serializer):
    level = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Escalation.Status.choices)
    assigned_to = username("assigned_to", allow_null=True)
    reason = serializers.ChoiceField(choices=EscalationStep.Reason.choices)
    created_at = serializers.DateTimeField()


class EscalationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    decision = serializers.IntegerField(source="decision_id")
    case = serializers.IntegerField(source="decision.case_id")
    decision_type = serializers.CharField(source="decision.decision_type.code")
    amount = money(source="decision.amount")
    final_amount = money(source="decision.final_amount", allow_null=True)
    currency = serializers.CharField(source="decision.currency")
    rationale = serializers.CharField(source="decision.rationale")
    decision_status = serializers.ChoiceField(source="decision.status", choices=Decision.Status.choices)
    status = serializers.ChoiceField(choices=Escalation.Status.choices)
    level = serializers.IntegerField()
    requested_by = username("decision.made_by")
    assigned_to = username("assigned_to", allow_null=True)
    approver = username("approver", allow_null=True)
    exceeded = serializers.ListField(child=serializers.ChoiceField(choices=CAPS))
    due_at = serializers.DateTimeField(allow_null=True)
    note = serializers.CharField(help_text=_("The approver's note to the employee."))
    share_as_guidance = serializers.BooleanField(help_text=_("The note is shown as guidance for the decision type."))
    decided_by = username("decided_by", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class EscalationDetailOutputSerializer(EscalationOutputSerializer):
    steps = EscalationStepOutputSerializer(many=True, help_text=_("The path so far, oldest first."))


class EscalationApproveInputSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("May be empty when approving as asked; required when `amount` is lower than requested."),
    )
    amount = amount_input(
        required=False, allow_null=True, help_text=_("Approve a lower amount than requested; never a higher one.")
    )
    share_as_guidance = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Show the note beside the decision form for this decision type, as guidance."),
    )


class EscalationRejectInputSerializer(serializers.Serializer):
    note = text_input(max_length=5000, help_text=_("Required: tell the employee why."))
    share_as_guidance = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_("Show the note beside the decision form for this decision type, as guidance."),
    )


# --- managing authority: limits, stand-ins, history ------------------------------------------------


@extend_schema_field(
    {
        "type": "string",
        "format": "decimal",
        "pattern": r"^(\d{1,12}(\.\d{1,2})?)?$",
        "nullable": True,
        "example": "300.00",
    }
)
class CapInputField(serializers.CharField):
    """A cap's text, as it came: a JSON number is refused as for an amount (money travels as a string)."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            raise serializers.ValidationError(_('Send the amount as a string, e.g. "80.00".'), code="invalid")
        if data != data.strip():  # the documented shape exactly: the schema's pattern allows no spaces
            raise serializers.ValidationError(AMOUNT_INVALID, code="invalid")
        return data


def cap_input() -> serializers.CharField:
    # Only the shape here: `limit_set` checks the amount (and words every refusal) in one place.
    return CapInputField(
        trim_whitespace=False,
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=32,
        help_text=_('At most two decimals, e.g. "300.00"; null is no limit. Left out: it stays as it is.'),
    )


class LimitWindowSerializer(serializers.Serializer):
    """A temporary limit, running or scheduled."""

    id = serializers.IntegerField()
    decision_type = serializers.CharField(source="decision_type.code")
    per_decision = money(allow_null=True)
    per_day = money(allow_null=True)
    per_month = money(allow_null=True)
    per_customer_month = money(allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField()
    running = serializers.SerializerMethodField(help_text=_("True while it applies; false while it waits to start."))
    reason = serializers.CharField()
    set_by = serializers.CharField(source="set_by.user.username", allow_null=True, help_text=_("A username."))

    def get_running(self, window) -> bool:
        return window.state_at(timezone.now()) == Timed.RUNNING


class EmployeeAuthoritySerializer(AuthoritySerializer):
    username = serializers.CharField()
    temporary = LimitWindowSerializer(
        many=True,
        required=False,
        help_text=_(
            "Temporary limits running or scheduled; one that runs replaces the standing or role limits "
            "until it ends. End one early with POST …/limits/{type}/windows/{id}/end/."
        ),
    )


class LimitInputSerializer(serializers.Serializer):
    per_decision = cap_input()
    per_day = cap_input()
    per_month = cap_input()
    per_customer_month = cap_input()
    reason = text_input(
        max_length=5000, allow_blank=True, help_text=_("Required: why. The employee and the history show it.")
    )
    starts_at = MomentInputField(
        required=False,
        allow_null=True,
        help_text=_("For a temporary limit: when it starts (default, and at the earliest, now); needs `ends_at`."),
    )
    ends_at = MomentInputField(
        required=False,
        allow_null=True,
        help_text=_("For a temporary limit: when it goes back by itself. Windows of one type may not overlap (409)."),
    )


class LimitOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("For a temporary limit: the window to end early."))
    username = serializers.CharField(source="employee.user.username")
    decision_type = serializers.CharField(source="decision_type.code")
    per_decision = money(allow_null=True)
    per_day = money(allow_null=True)
    per_month = money(allow_null=True)
    per_customer_month = money(allow_null=True)
    source = serializers.SerializerMethodField(help_text=_('Always "personal": limits set for this employee.'))
    starts_at = serializers.DateTimeField(allow_null=True, help_text=_("Null: in force from now."))
    ends_at = serializers.DateTimeField(allow_null=True, help_text=_("Null: until changed."))
    reason = serializers.CharField()
    # `username` is a field of this serializer, so the helper of that name is not used here.
    set_by = serializers.CharField(source="set_by.user.username", allow_null=True, help_text=_("A username."))
    updated_at = serializers.DateTimeField()

    overridden_until = serializers.SerializerMethodField(
        help_text=_(
            "Set when a standing limit was saved while a temporary limit runs: the temporary one applies "
            "until then, and this one from then on."
        )
    )

    def get_source(self, limit) -> str:
        return "personal"

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_overridden_until(self, limit):
        window = self.context.get("running_window")
        if window is None or limit.ends_at is not None:
            return None
        return serializers.DateTimeField().to_representation(window.ends_at)


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class RequiredReasonInputSerializer(serializers.Serializer):
    """Ending a stand-in or a temporary limit: the reason is required (the service words the refusal)."""

    reason = text_input(max_length=5000, allow_blank=True, allow_missing=True, help_text=_("Required: why."))


class DelegationInputSerializer(serializers.Serializer):
    to = text_input(max_length=150, help_text=_("The stand-in's username."))
    decision_types = serializers.ListField(
        child=serializers.SlugRelatedField(slug_field="code", queryset=DecisionType.objects.filter(is_active=True)),
        required=False,
        default=list,
        help_text=_("Codes of the decision types handed over, e.g. `refund`: at least one."),
    )
    starts_at = MomentInputField(required=False, allow_null=True, help_text=_("Default: now."))
    ends_at = MomentInputField()
    reason = text_input(max_length=5000, allow_blank=True, help_text=_("Required: why."))

    def get_fields(self):
        # `from` is a Python keyword, so it cannot be declared as a class attribute.
        fields = super().get_fields()
        fields["from"] = serializers.CharField(
            max_length=150,
            required=False,
            help_text=_("Whose authority is handed over (default: the caller); someone above them may set it up."),
        )
        return fields


class DelegationOutputSerializer(serializers.Serializer):
    STATES = (("scheduled", _("Scheduled")), ("active", _("Active")), ("ended", _("Ended")))

    id = serializers.IntegerField()
    decision_types = serializers.SerializerMethodField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(allow_null=True, help_text=_("When it was ended early, if it was."))
    ended_by = username("ended_by", allow_null=True)
    state = serializers.SerializerMethodField()
    reason = serializers.CharField()
    created_by = username("created_by")
    created_at = serializers.DateTimeField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = username("delegator", help_text=_("Whose authority it is."))
        fields["to"] = username("delegate", help_text=_("The stand-in."))
        return fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_decision_types(self, delegation) -> list[str]:
        return sorted(t.code for t in delegation.decision_types.all())

    @extend_schema_field(serializers.ChoiceField(choices=STATES))
    def get_state(self, delegation) -> str:
        return delegation.state_at(timezone.now())


class HistoricLineSerializer(serializers.Serializer):
    decision_type = serializers.CharField(source="decision_type.code")
    decision_type_name = serializers.CharField(source="decision_type.name")
    per_decision = money(source="limits.per_decision", allow_null=True)
    per_day = money(source="limits.per_day", allow_null=True)
    per_month = money(source="limits.per_month", allow_null=True)
    per_customer_month = money(source="limits.per_customer_month", allow_null=True)
    source = serializers.CharField(
        source="limits.source", help_text=_('Where the limits came from: "role", "personal", "stand-in" or "none".')
    )
    set_by = serializers.CharField(allow_null=True, help_text=_("Who set the limits that applied (username)."))
    reason = serializers.CharField(help_text=_("Why they were set."))
    since = serializers.DateTimeField(allow_null=True, help_text=_("Since when they applied, where recorded."))
    used_that_day = money()
    used_that_month = money()
    acting_for = username("acting_for", allow_null=True, help_text=_("On a stand-in's line: whose authority."))


class AuthorityAtSerializer(serializers.Serializer):
    username = serializers.CharField()
    at = serializers.DateTimeField()
    as_scheduled = serializers.BooleanField(
        help_text=_(
            "True for a moment in the future: the answer is what is scheduled now (standing limits, "
            "temporary limits and stand-ins already set up) and may still change."
        )
    )
    currency = serializers.CharField()
    limits = HistoricLineSerializer(many=True)
