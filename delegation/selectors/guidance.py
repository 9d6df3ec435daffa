"""Standards at the moment of deciding: each decision type's guidance and the approvers' notes
shared for it, shown beside the decision form; who may edit the guidance."""

from dataclasses import dataclass, field

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from delegation.models import DecisionType, Escalation
from empower.models import Employee
from empower.selectors import has_reports

# The most recent shared notes shown for each type.
SHARED_NOTES_SHOWN = 3


@dataclass(frozen=True)
class SharedNote:
    note: str
    status: str  # "approved" or "rejected"
    status_label: str
    approver: Employee | None
    decided_at: object


@dataclass(frozen=True)
class Guidance:
    decision_type: DecisionType
    notes: list[SharedNote] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        t = self.decision_type
        return not (t.purpose or t.good_examples or t.rationale_hint or self.notes)


def guidance_for(*, decision_types: list[DecisionType] | None = None) -> list[Guidance]:
    """The guidance of each active decision type (or of those given), each with the latest notes
    approvers shared for it, in two queries however many notes there are."""
    types = decision_types
    if types is None:
        types = list(DecisionType.objects.filter(is_active=True).order_by("code"))
    ids = [t.pk for t in types]
    # The latest SHARED_NOTES_SHOWN of each type, in one query (a window numbers them per type).
    shared = (
        Escalation.objects.filter(share_as_guidance=True, decision__decision_type_id__in=ids)
        .exclude(note="")
        .annotate(
            nth=Window(
                RowNumber(),
                partition_by=F("decision__decision_type_id"),
                order_by=[F("decided_at").desc(nulls_last=True), F("pk").desc()],
            )
        )
        .filter(nth__lte=SHARED_NOTES_SHOWN)
        .select_related("decided_by__user", "decision")
        .order_by("-decided_at", "-pk")
    )
    notes: dict[int, list[SharedNote]] = {pk: [] for pk in ids}
    labels = dict(Escalation.Status.choices)
    for escalation in shared:
        notes[escalation.decision.decision_type_id].append(
            SharedNote(
                note=escalation.note,
                status=escalation.status,
                status_label=str(labels.get(escalation.status, escalation.status)),
                approver=escalation.decided_by,
                decided_at=escalation.decided_at,
            )
        )
    return [Guidance(decision_type=t, notes=notes[t.pk]) for t in types]


def guidance_edit_refusal(*, employee: Employee | None, user=None) -> str | None:
    """Why someone may not edit decision-type guidance, or None: managers (anyone with people
    reporting to them) and administrators (superusers) may."""
    if user is not None and user.is_superuser:
        return None
    if employee is not None and has_reports(employee=employee):
        return None
    return "managers_only"


def may_edit_guidance(*, employee: Employee | None, user=None) -> bool:
    return guidance_edit_refusal(employee=employee, user=user) is None


__all__ = ["Guidance", "SharedNote", "guidance_edit_refusal", "guidance_for", "may_edit_guidance"]
