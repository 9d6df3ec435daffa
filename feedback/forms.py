"""Forms for the customer's survey page and staff's feedback pages. They only parse input; the rules
(ranges, who may act, once only) live in `feedback.services`.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from delegation.models import Decision, DecisionType
from empower.models import Employee, Role
from empower.money import format_money
from feedback.models import COMMENT_MAX, REPLY_MAX, FrictionAnswer, FrictionReport

CSAT_CHOICES = [
    (1, _("Very dissatisfied")),
    (2, _("Dissatisfied")),
    (3, _("Neither")),
    (4, _("Satisfied")),
    (5, _("Very satisfied")),
]
NPS_CHOICES = [(n, str(n)) for n in range(11)]


# The validator fills in the limit and the length typed.
TOO_LONG = {"max_length": _("Please keep it to %(limit_value)d characters (this has %(show_value)d).")}


class SurveyForm(forms.Form):
    csat = forms.TypedChoiceField(
        label=_("How satisfied are you with how we handled it?"),
        choices=CSAT_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Please choose how satisfied you are, from 1 to 5."),
            "invalid_choice": _("Please choose how satisfied you are, from 1 to 5."),
        },
    )
    nps = forms.TypedChoiceField(
        label=_("How likely are you to recommend us to a friend? (optional)"),
        choices=NPS_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Please choose a number from 0 to 10, or leave it empty.")},
    )
    comment = forms.CharField(
        label=_("Anything you would like to tell us? (optional)"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages=TOO_LONG,
    )
    complaint = forms.BooleanField(
        label=_("This is a complaint: I would like someone to look into it and get back to me."), required=False
    )


class ComplaintForm(forms.Form):
    message = forms.CharField(
        label=_("What went wrong?"),
        required=False,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "required": True}),
        error_messages=TOO_LONG,
    )


class FollowUpReplyForm(forms.Form):
    action_taken = forms.CharField(
        label=_("What was done"),
        help_text=_("For your colleagues and managers: what you did for the customer (e.g. called them, refunded)."),
        required=False,
        max_length=REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "required": True}),
        error_messages=TOO_LONG,
    )
    reply = forms.CharField(
        label=_("Reply to the customer"),
        help_text=_("The customer reads this on their survey page and by e-mail."),
        required=False,
        max_length=REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 5, "required": True}),
        error_messages=TOO_LONG,
    )


class FrictionReportForm(forms.Form):
    case = forms.IntegerField(label=_("Case number"), min_value=1)
    decision = forms.ModelChoiceField(
        label=_("The decision it concerns (optional)"), queryset=Decision.objects.none(), required=False
    )
    decision_type = forms.ModelChoiceField(
        label=_("Decision type"),
        queryset=DecisionType.objects.filter(is_active=True).order_by("code"),
        required=False,
        empty_label=_("Another rule (describe it below)"),
    )
    limit = forms.ChoiceField(
        label=_("Which limit?"),
        choices=[("", _("Not a limit / not sure")), *FrictionReport.Limit.choices],
        required=False,
    )
    rule_text = forms.CharField(
        label=_("The rule, in your words"),
        help_text=_("Needed when it is not one of the decision types above."),
        required=False,
        max_length=300,
    )
    would_have_done = forms.CharField(
        label=_("What would you have done for the customer?"),
        required=False,
        max_length=REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "required": True}),
        error_messages=TOO_LONG,
    )

    def __init__(self, *args, decisions=None, **kwargs):
        super().__init__(*args, **kwargs)
        if decisions is not None:
            self.fields["decision"].queryset = decisions
            self.fields["decision"].label_from_instance = lambda d: (
                f"#{d.pk} {d.decision_type.name} {format_money(d.amount, d.currency)} ({d.get_status_display()})"
            )


class FrictionSecondForm(forms.Form):
    note = forms.CharField(label=_("A note (optional)"), required=False, max_length=500)


class FrictionChangeForm(forms.Form):
    """What changes ("you said, we did"); the service checks it (`feedback.services.changes`)."""

    change = forms.ChoiceField(
        label=_("What changes"),
        choices=[("", _("Choose…")), *FrictionReport.Change.choices],
        required=False,
        help_text=_("Required to accept."),
    )
    change_text = forms.CharField(
        label=_("The change, in words"),
        help_text=_("For guidance or a policy, its text. For a limit, what and why."),
        required=False,
        max_length=REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages=TOO_LONG,
    )
    change_decision_type = forms.ModelChoiceField(
        label=_("Decision type"),
        queryset=DecisionType.objects.filter(is_active=True),
        to_field_name="code",
        required=False,
        help_text=_("Default: the report's."),
    )
    change_employee = forms.CharField(label=_("Whose limit (username)"), required=False, max_length=150)
    change_role = forms.ModelChoiceField(
        label=_("Which role's default"), queryset=Role.objects.order_by("rank"), to_field_name="code", required=False
    )
    per_decision = forms.CharField(label=_("New limit per decision"), required=False, max_length=32)
    per_day = forms.CharField(label=_("per day"), required=False, max_length=32)
    per_month = forms.CharField(label=_("per month"), required=False, max_length=32)
    per_customer_month = forms.CharField(label=_("per customer per month"), required=False, max_length=32)
    change_record = forms.IntegerField(
        label=_("Or: the change that did it (audit record id)"), required=False, min_value=1, max_value=2**63 - 1
    )

    def clean_change_employee(self) -> Employee | None:
        username = self.cleaned_data["change_employee"].strip()
        if not username:
            return None
        employee = Employee.objects.select_related("user").filter(user__username=username).first()
        if employee is None:
            raise forms.ValidationError(_("No such person."), code="unknown_employee")
        return employee


class FrictionAnswerForm(FrictionChangeForm):
    field_order = ["outcome", "note"]

    outcome = forms.ChoiceField(
        label=_("Your answer"), choices=FrictionAnswer.Outcome.choices, widget=forms.RadioSelect
    )
    note = forms.CharField(
        label=_("Your note to the employee"),
        help_text=_("What changes, why the rule stays, or why you pass it up. The employee reads it."),
        required=False,
        max_length=REPLY_MAX,
        widget=forms.Textarea(attrs={"rows": 4, "required": True}),
        error_messages=TOO_LONG,
    )

    def __init__(self, *args, pass_up: bool = True, **kwargs):
        """`pass_up`: whether to offer passing it up (`feedback.selectors.may_pass_up`)."""
        super().__init__(*args, **kwargs)
        if not pass_up:
            self.fields["outcome"].choices = [
                c for c in FrictionAnswer.Outcome.choices if c[0] != FrictionAnswer.Outcome.PASS_UP
            ]
