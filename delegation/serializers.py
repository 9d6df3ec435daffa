"""Small input and output serializers for authority, decisions and escalations.

Money travels as a string with two decimals ("80.00"); `null` means "no limit". Input serializers
only check shapes (a well-formed amount, a known decision type); every rule is in the services.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from delegation.models import CAPS, Decision, DecisionType, Escalation, EscalationStep
from delegation.services import MAX_AMOUNT
from empower.serializers import CaseOutputSerializer

MIN_AMOUNT = Decimal("0.01")


def money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, **kwargs)


def amount_input(**kwargs) -> serializers.DecimalField:
    """A positive amount with at most two decimals, below an absurd ceiling; NaN and infinities are refused."""
    return money(min_value=MIN_AMOUNT, max_value=MAX_AMOUNT, **kwargs)


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


class DecisionSubmitInputSerializer(serializers.Serializer):
    case = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    decision_type = serializers.SlugRelatedField(
        slug_field="code", queryset=DecisionType.objects.filter(is_active=True), help_text=_("e.g. `refund`.")
    )
    amount = amount_input(help_text=_('A string with at most two decimals, e.g. "80.00".'))
    rationale = serializers.CharField(max_length=5000)


class EscalationBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Escalation.Status.choices)
    assigned_to = username("assigned_to", allow_null=True)
    level = serializers.IntegerField()
    due_at = serializers.DateTimeField(allow_null=True)


class DecisionOutputSerializer(serializers.Serializer):
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
    made_by = username("made_by")
    approved_by = username("approved_by", allow_null=True)
    escalation = EscalationBriefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


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
    decided_by = username("decided_by", allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class EscalationDetailOutputSerializer(EscalationOutputSerializer):
    steps = EscalationStepOutputSerializer(many=True, help_text=_("The path so far, oldest first."))


class EscalationApproveInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    amount = amount_input(
        required=False, allow_null=True, help_text=_("Approve a lower amount than requested; never a higher one.")
    )


class EscalationRejectInputSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, help_text=_("Required: tell the employee why."))
