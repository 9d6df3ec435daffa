"""Forms of the delegation pages. They parse input; `delegation.services` holds every rule.

- Deciding and answering: `DecisionForm` (the case page), `EscalationApproveForm`, `EscalationRejectForm`.
- Shaping authority: `LimitForm` (a person's cell in the matrix), `RoleLimitForm`, `DelegationForm`
  (stand-ins) and `MomentForm` ("what could they decide at…").
"""

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from delegation.authority import CAPS, Limits
from delegation.models import DecisionType
from empower.fields import MomentField
from empower.forms import PageForm, required_textarea


class DecisionForm(PageForm):
    """The decision form on the case page: `decision_type`, `amount`, `rationale` and
    `story` (required by the service for a wow gesture)."""

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
    story = forms.CharField(
        label=_("Story"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required for a wow gesture: what the customer needed and what you did. Colleagues will read it."),
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
        label=_("Note to the employee"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional when you approve as asked; required when you approve a lower amount."),
    )
    share_as_guidance = forms.BooleanField(label=_("Share my note as guidance for this decision type"), required=False)


class EscalationRejectForm(PageForm):
    note = forms.CharField(label=_("Why not? (required)"), required=False, max_length=5000, widget=required_textarea(2))
    share_as_guidance = forms.BooleanField(label=_("Share my note as guidance for this decision type"), required=False)


# Shaping authority -------------------------------------------------------------------------------

MOMENT_FORMAT = "%Y-%m-%dT%H:%M"


def moment_input(**attrs) -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local", **attrs}, format=MOMENT_FORMAT)


def cap_field(label) -> forms.CharField:
    # The amount is checked by the service (`limit_set`), which words every refusal; empty is "no limit".
    return forms.CharField(
        label=label,
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": 10}),
    )


class LimitForm(PageForm):
    """One cell of the matrix: the four caps, an optional window, and the reason (required)."""

    per_decision = cap_field(_("Per decision"))
    per_day = cap_field(_("Per day"))
    per_month = cap_field(_("Per month"))
    per_customer_month = cap_field(_("Per customer per month"))
    starts_at = MomentField(
        label=_("From (optional)"),
        required=False,
        widget=moment_input(),
        help_text=_("Empty: from now. A start needs an end."),
    )
    ends_at = MomentField(
        label=_("Until (optional)"),
        required=False,
        widget=moment_input(),
        help_text=_("With an end, the limit is temporary and goes back by itself."),
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=5000, widget=required_textarea(2))

    @classmethod
    def starting_from(cls, limits: Limits, **kwargs) -> "LimitForm":
        """An unbound form showing the limits as they stand; an empty cap is "no limit"."""
        initial = {cap: "" if getattr(limits, cap) is None else f"{getattr(limits, cap):.2f}" for cap in CAPS}
        return cls(initial=initial, **kwargs)

    def values(self) -> dict:
        return {cap: self.cleaned_data[cap] for cap in CAPS}


class RoleLimitForm(LimitForm):
    """A role's defaults: no window."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["starts_at"]
        del self.fields["ends_at"]


class DelegationForm(PageForm):
    """Hand one's authority (or, for a manager, that of someone below) to a stand-in for a period."""

    delegator = forms.ChoiceField(label=_("Whose authority"), required=False)
    # Chosen from the eligible colleagues (`stand_in_candidates`); still a username underneath, so
    # the service words every refusal (yourself, someone inactive, nobody by that name).
    to = forms.CharField(label=_("Stand-in"), max_length=150, widget=forms.Select)
    decision_types = forms.MultipleChoiceField(
        label=_("Decision types"), required=False, widget=forms.CheckboxSelectMultiple
    )
    starts_at = MomentField(label=_("From"), required=False, widget=moment_input())
    ends_at = MomentField(label=_("Until"), widget=moment_input())
    reason = forms.CharField(label=_("Reason"), required=False, max_length=5000, widget=required_textarea(2))

    def __init__(self, *args, types: list[DecisionType], delegators: list, candidates=(), **kwargs):
        kwargs.setdefault("initial", {"starts_at": timezone.localtime().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)
        self.fields["to"].widget.choices = [("", _("Choose a colleague…")), *candidates]
        self.fields["to"].widget.attrs.pop("maxlength", None)  # a list, not a text box
        self._types = {t.code: t for t in types}
        self.fields["decision_types"].choices = [(t.code, t.name) for t in types]
        self._delegators = {e.username: e for e in delegators}
        self.fields["delegator"].choices = [(e.username, str(e)) for e in delegators]
        if len(delegators) <= 1:
            self.fields["delegator"].widget = forms.HiddenInput()

    def clean_decision_types(self) -> list[DecisionType]:
        return [self._types[code] for code in self.cleaned_data["decision_types"]]

    def clean_delegator(self):
        username = self.cleaned_data.get("delegator")
        return self._delegators.get(username) if username else None


class MomentForm(PageForm):
    """ "What could they decide at…": a moment in the organization's time zone."""

    at = MomentField(label=_("At"), required=False, widget=moment_input())


class GuidanceForm(PageForm):
    """A decision type's guidance in one language (managers and administrators; the service checks
    who). In a language other than English each field shows the English text it falls back to."""

    purpose = forms.CharField(
        label=_("What it is for"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    good_examples = forms.CharField(
        label=_("Good examples"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    rationale_hint = forms.CharField(
        label=_("What to write in the rationale"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    reason = forms.CharField(label=_("Why this change (for the audit trail)"), required=False, max_length=2000)

    def __init__(self, *args, language: str = "en", english: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("purpose", "good_examples", "rationale_hint"):
            self.fields[name].widget.attrs["lang"] = language  # spelling checked in the language written
        for name, text in (english or {}).items():
            if text:  # help text is rendered as HTML: the English is escaped here
                self.fields[name].help_text = format_html(
                    '{} <span lang="en">{}</span>', _("Left empty, it shows the English:"), text
                )
