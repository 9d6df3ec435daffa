"""Decision-type guidance: the managers' page that edits it, and the panel beside the decision form."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from modeltranslation.utils import build_localized_fieldname

from delegation.forms import GuidanceForm
from delegation.selectors import guidance_edit_refusal, guidance_for
from delegation.services import decision_type_guidance_save
from delegation.services.catalogue import GUIDANCE_FIELDS
from delegation.views.common import decision_type_or_404, page_context
from empower.errors import DomainError
from empower.forms import add_domain_error
from empower.views import staff_required


def _ensure_editor(request: HttpRequest) -> None:
    if guidance_edit_refusal(employee=request.employee, user=request.user) is not None:
        raise PermissionDenied(_("Only managers and administrators edit the guidance."))


@require_GET
@staff_required
def guidance_list(request: HttpRequest) -> HttpResponse:
    """Every active type's guidance and shared notes, with an edit link each (managers)."""
    _ensure_editor(request)
    return render(request, "authority/guidance.html", {"guidance": guidance_for(), **page_context(request)})


def _language(request: HttpRequest) -> str:
    """The language being edited: the one asked for (`language`), else the reader's own."""
    codes = [code for code, _name in settings.LANGUAGES]
    asked = request.POST.get("language") or request.GET.get("language")
    if asked in codes:
        return asked
    active = translation.get_language()
    return active if active in codes else settings.MODELTRANSLATION_DEFAULT_LANGUAGE


@require_http_methods(["GET", "POST"])
@staff_required
def guidance_edit(request: HttpRequest, decision_type: str) -> HttpResponse:
    """One language's guidance of one type, with a link to each other language; another language
    than English shows the English text each field falls back to."""
    _ensure_editor(request)
    type_ = decision_type_or_404(decision_type)
    language = _language(request)
    english = None
    if language != settings.MODELTRANSLATION_DEFAULT_LANGUAGE:
        default = settings.MODELTRANSLATION_DEFAULT_LANGUAGE
        english = {name: getattr(type_, build_localized_fieldname(name, default)) or "" for name in GUIDANCE_FIELDS}
    if request.method == "POST":
        form = GuidanceForm(request.POST, language=language, english=english)
        if form.is_valid():
            data = form.cleaned_data
            try:
                decision_type_guidance_save(
                    decision_type=type_,
                    actor=request.employee,
                    user=request.user,
                    reason=data["reason"],
                    language=language,
                    purpose=data["purpose"],
                    good_examples=data["good_examples"],
                    rationale_hint=data["rationale_hint"],
                )
            except DomainError as error:
                add_domain_error(form, error)
            else:
                messages.success(
                    request,
                    _("The guidance for %(type)s is saved (%(language)s).")
                    % {"type": type_.name, "language": translation.get_language_info(language)["name_local"]},
                )
                return redirect("guidance-list")
        status = 400
    else:
        initial = {name: getattr(type_, build_localized_fieldname(name, language)) or "" for name in GUIDANCE_FIELDS}
        form = GuidanceForm(initial=initial, language=language, english=english)
        status = 200
    languages = [
        {"code": code, "name": translation.get_language_info(code)["name_local"], "current": code == language}
        for code, _name in settings.LANGUAGES
    ]
    context = {
        "form": form,
        "decision_type": type_,
        "language": language,
        "language_name": translation.get_language_info(language)["name_local"],
        "languages": languages,
        "falls_back": english is not None,
        **page_context(request),
    }
    return render(request, "authority/guidance_edit.html", context, status=status)
