"""Forms for the organization's pages. They only parse input; the rules live in `empower.services`."""

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from empower.emails import EMAIL_MAX_LENGTH, canonical_email
from empower.errors import DomainError
from empower.models import DESCRIPTION_MAX


def add_domain_error(form: forms.Form, error: DomainError) -> str:
    """Show a service's refusal on a form, the one adapter every page (and the admin) uses.

    Each field error goes beside its field (one for a field the form does not have goes above the
    form), and the refusal itself goes above the form unless a field already says exactly that.
    Returns the refusal's text, for a page that shows it without the form (e.g. a refusal page).
    """
    shown = set()
    for field, messages in (error.field_errors or {}).items():
        target = field if field in form.fields else None
        for message in messages if isinstance(messages, list | tuple) else [messages]:
            shown.add(str(message))
            form.add_error(target, str(message))
    if str(error.message) not in shown:
        form.add_error(None, str(error.message))
    return str(error.message)


def required_textarea(rows: int = 3) -> forms.Textarea:
    # The service decides whether text is missing (one home for the rule and its message);
    # the browser is only told so it can help before the round trip.
    return forms.Textarea(attrs={"rows": rows, "required": True})


class PageForm(forms.Form):
    """Labels sit above their fields in our pages, so no trailing colon."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class CanonicalEmailField(forms.CharField):
    """An e-mail address, read in its canonical form (`empower.emails`): the same reading, and the same
    refusal, as the API's."""

    widget = forms.EmailInput

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", EMAIL_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return canonical_email(value) if value not in self.empty_values else value


class CaseOpenForm(PageForm):
    customer_name = forms.CharField(label=_("Customer name"), max_length=200)
    customer_email = CanonicalEmailField(label=_("Customer e-mail"))
    customer_language = forms.ChoiceField(
        label=_("Customer's language"),
        required=False,
        choices=[("", _("Not known")), *settings.LANGUAGES],
        help_text=_("Surveys and messages to the customer use it."),
    )
    subject = forms.CharField(
        label=_("Subject"), max_length=200, required=False, widget=forms.TextInput(attrs={"required": True})
    )
    description = forms.CharField(
        label=_("Description"), required=False, max_length=DESCRIPTION_MAX, widget=forms.Textarea(attrs={"rows": 5})
    )


class CaseResolveForm(PageForm):
    resolution_note = forms.CharField(
        label=_("How was it resolved?"), required=False, max_length=5000, widget=required_textarea(4)
    )


class _BoundedUsername:
    """Django's login forms set the username's `max_length` after the field was built, so it is shown
    to the browser but never checked: an overlong name went on to authenticate, and the lock-out
    library failed storing it (its column holds 255). Checked here, it is a form error instead."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length))


class LoginForm(_BoundedUsername, AuthenticationForm):
    """The login page's form (`/accounts/login/`)."""


class AdminLoginForm(_BoundedUsername, AdminAuthenticationForm):
    """The admin's login form (`/admin/login/`)."""
