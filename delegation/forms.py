"""Forms for deciding and answering escalations. They parse input; `delegation.services` holds every rule."""

from django import forms
from django.utils.translation import gettext_lazy as _

from delegation.models import DecisionType
from empower.forms import PageForm, required_textarea


class DecisionForm(PageForm):
    """The decision form on the case page: exactly `decision_type`, `amount` and `rationale`."""

    decision_type = forms.CharField(label=_("Decision"), widget=forms.Select)
    # The amount is checked by the service (`validate_amount`), which words every refusal.
    amount = forms.CharField(
        label=_("Amount"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "required": True}),
    )
    rationale = forms.CharField(
        label=_("Rationale"),
        required=False,
        max_length=5000,
        widget=required_textarea(3),
        help_text=_("Why this is right for the customer; your approver reads it."),
    )

    def __init__(self, *args, types: list[DecisionType], **kwargs):
        super().__init__(*args, **kwargs)
        self._types = {t.code: t for t in types}
        self.fields["decision_type"].widget.choices = [("", _("Choose…")), *((t.code, t.name) for t in types)]

    def clean_decision_type(self) -> DecisionType:
        code = self.cleaned_data["decision_type"]
        # An inactive type is still parsed, so the service can say it is not in use.
        decision_type = self._types.get(code) or DecisionType.objects.filter(code=code).first()
        if decision_type is None:
            raise forms.ValidationError(_("Choose one of the decision types."), code="unknown_type")
        return decision_type


class EscalationApproveForm(PageForm):
    amount = forms.CharField(
        label=_("Approve a lower amount (optional)"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label=_("Note to the employee"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )


class EscalationRejectForm(PageForm):
    note = forms.CharField(label=_("Why not? (required)"), required=False, max_length=5000, widget=required_textarea(2))
