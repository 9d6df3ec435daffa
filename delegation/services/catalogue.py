"""Operators' changes to the catalogue: decision types and the response time of each level, audited."""

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from modeltranslation.utils import build_localized_fieldname

from delegation.authority_cache import authority_data_changed
from delegation.models import DecisionType, ResponseTime
from delegation.selectors import guidance_edit_refusal
from empower.errors import NotAllowed
from empower.models import Employee
from empower.services import audit

GUIDANCE_FIELDS = ("purpose", "good_examples", "rationale_hint")
# Data in every language (delegation/translation.py): an audit record keeps each language's text.
TRANSLATED_FIELDS = ("name", "description", *GUIDANCE_FIELDS)


def _languages() -> tuple[str, ...]:
    return tuple(settings.MODELTRANSLATION_LANGUAGES)


def decision_type_state(decision_type: DecisionType) -> dict:
    """What an audit record shows of a decision type: its fields and each level's response time."""
    times = ResponseTime.objects.filter(decision_type=decision_type).order_by("level").values_list("level", "hours")
    return {
        "code": decision_type.code,
        "name": decision_type.name,
        "description": decision_type.description,
        "is_active": decision_type.is_active,
        "response_hours": decision_type.response_hours,
        **{name: getattr(decision_type, name) for name in GUIDANCE_FIELDS},
        # Every language's text: a translation changed in the admin is in the record too.
        **{
            column: getattr(decision_type, column) or ""
            for name in TRANSLATED_FIELDS
            for column in (build_localized_fieldname(name, language) for language in _languages())
        },
        "response_times": {str(level): hours for level, hours in times},
    }


@transaction.atomic
def decision_type_save(
    *,
    decision_type: DecisionType,
    actor: Employee | None,
    reason: str,
    response_times: list[ResponseTime] = (),
    removed: list[ResponseTime] = (),
) -> DecisionType:
    """Save a decision type (validated by the caller) with its changed and removed response times,
    and audit the change once: who, the type and its response times before and after, why.

    `actor` is None for an administrator who is not an employee: the reason then names them."""
    stored = DecisionType.objects.select_for_update().filter(pk=decision_type.pk).first() if decision_type.pk else None
    before = decision_type_state(stored) if stored else None
    decision_type.save()
    authority_data_changed()  # the decision path's cached types: a retired one is refused at once
    for response_time in removed:
        if response_time.pk:
            response_time.delete()
    for response_time in response_times:
        response_time.decision_type = decision_type
        response_time.save()
    after = decision_type_state(decision_type)
    if before != after:
        audit(
            actor=actor,
            action="decision_type.created" if before is None else "decision_type.changed",
            target=decision_type,
            before=before,
            after=after,
            reason=reason,
        )
    return decision_type


@transaction.atomic
def decision_type_guidance_save(
    *,
    decision_type: DecisionType,
    actor: Employee | None,
    user=None,
    reason: str = "",
    language: str | None = None,
    **guidance: str,
) -> DecisionType:
    """Change a decision type's guidance (what it is for, good examples, what to write in the
    rationale) in one language (English, the fallback, when none is given): managers and
    administrators only (`guidance_edit_refusal`), audited with the text before and after. Fields
    not given stay as they were; an empty text in another language means "show the English"."""
    if guidance_edit_refusal(employee=actor, user=user) is not None:
        raise NotAllowed(_("Only managers and administrators edit the guidance."), code="managers_only")
    language = language or settings.MODELTRANSLATION_DEFAULT_LANGUAGE
    if language not in _languages():
        raise ValueError(f"Unknown language {language!r}")
    for name in guidance:
        if name not in GUIDANCE_FIELDS:
            raise TypeError(f"Unknown guidance field {name!r}")
    columns = {name: build_localized_fieldname(name, language) for name in GUIDANCE_FIELDS}
    stored = DecisionType.objects.select_for_update().get(pk=decision_type.pk)
    before = {"language": language, **{name: getattr(stored, columns[name]) or "" for name in GUIDANCE_FIELDS}}
    for name, value in guidance.items():
        setattr(stored, columns[name], (value or "").strip())
    after = {"language": language, **{name: getattr(stored, columns[name]) or "" for name in GUIDANCE_FIELDS}}
    if before != after:
        stored.save(update_fields=[columns[name] for name in guidance])
        audit(
            actor=actor,
            action="decision_type.guidance_changed",
            target=stored,
            before=before,
            after=after,
            reason=reason,
        )
    return stored
