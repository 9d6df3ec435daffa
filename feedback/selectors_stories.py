"""Reads for recognition: stories (wow gestures, customers' kind words, approvers' guidance),
their applause and features, a person's recognition, and who may applaud or feature.

A story is not a row of its own: it is named by its kind and the id of the row it comes from
(`StoryKind`), so it can never drift from the decision, survey or escalation behind it. Lists read
each source newest first (indexed), merge, and load applause and features for the page in two
queries, whatever the page size.

Customers' names are never shown: `customer_label` is the customer's first name when the setting
`EMPOWER_STORIES_CUSTOMER_FIRST_NAME` is on, otherwise "a customer".
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from delegation.models import Decision, DecisionType, Escalation
from empower.errors import Conflict, DomainError, NotAllowed
from empower.models import Employee
from empower.selectors import is_above
from feedback.models import Applause, FeaturedStory, StoryKind, Survey

KIND_WORDS_CSAT = 5


@dataclass
class Story:
    kind: str
    ref_id: int
    at: datetime
    employee: Employee  # whose story it is
    team_id: int
    text: str
    case_id: int | None = None
    customer_label: str = ""
    decision_type: DecisionType | None = None
    amount: object = None
    currency: str = ""
    applause: int = 0
    applauded: bool = False  # by the viewer
    featured: FeaturedStory | None = None
    can_applaud: bool = False
    can_feature: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.ref_id}"

    @property
    def kind_label(self) -> str:
        return StoryKind(self.kind).label


def customer_label(customer) -> str:
    """Never the customer's name: their first name at most, by setting."""
    if getattr(settings, "EMPOWER_STORIES_CUSTOMER_FIRST_NAME", False) and customer is not None:
        return customer.first_name or str(_("a customer"))
    return str(_("a customer"))


# --- the sources ---------------------------------------------------------------------------------


def wow_decisions(*, team_ids=None, employee_ids=None) -> QuerySet[Decision]:
    """Approved wow gestures with their story, newest first."""
    rows = (
        Decision.objects.filter(decision_type__code=DecisionType.WOW, status=Decision.Status.APPROVED)
        .exclude(story="")
        .select_related("made_by__user", "case__customer", "decision_type")
    )
    if team_ids is not None:
        rows = rows.filter(made_by__team_id__in=team_ids)
    if employee_ids is not None:
        rows = rows.filter(made_by_id__in=employee_ids)
    return rows.order_by("-created_at", "-id")


def kind_words_surveys(*, team_ids=None, employee_ids=None) -> QuerySet[Survey]:
    """Cases whose customer answered 5 with a comment, newest answer first."""
    rows = (
        Survey.objects.filter(csat=KIND_WORDS_CSAT, answered_at__isnull=False, resolved_by__isnull=False)
        .exclude(comment="")
        .select_related("resolved_by__user", "case__customer")
    )
    if team_ids is not None:
        rows = rows.filter(team_id__in=team_ids)
    if employee_ids is not None:
        rows = rows.filter(resolved_by_id__in=employee_ids)
    return rows.order_by("-answered_at", "-id")


def guidance_supported() -> bool:
    """Whether escalations carry the approver's "share as guidance" flag (`Escalation.share_as_guidance`)."""
    return any(f.name == "share_as_guidance" for f in Escalation._meta.get_fields())


def guidance_notes(*, team_ids=None, employee_ids=None) -> QuerySet[Escalation]:
    """THE HOOK for the third kind of story: approvers' notes shared as guidance, newest first.

    Reads `Escalation.share_as_guidance` where the model has it; until then, none. The approver is
    the story's employee (their team, their applause).
    """
    if not guidance_supported():
        return Escalation.objects.none()
    rows = (
        Escalation.objects.filter(share_as_guidance=True, decided_by__isnull=False, decided_at__isnull=False)
        .exclude(note="")
        .select_related("decided_by__user", "decision__case__customer", "decision__decision_type")
    )
    if team_ids is not None:
        rows = rows.filter(decided_by__team_id__in=team_ids)
    if employee_ids is not None:
        rows = rows.filter(decided_by_id__in=employee_ids)
    return rows.order_by("-decided_at", "-id")


def _from_decision(d: Decision) -> Story:
    return Story(
        kind=StoryKind.WOW,
        ref_id=d.pk,
        at=d.decided_at or d.created_at,
        employee=d.made_by,
        team_id=d.made_by.team_id,
        text=d.story,
        case_id=d.case_id,
        customer_label=customer_label(d.case.customer),
        decision_type=d.decision_type,
        amount=d.final_amount,
        currency=d.currency,
    )


def _from_survey(s: Survey) -> Story:
    return Story(
        kind=StoryKind.KIND_WORDS,
        ref_id=s.pk,
        at=s.answered_at,
        employee=s.resolved_by,
        team_id=s.resolved_by.team_id,
        text=s.comment,
        case_id=s.case_id,
        customer_label=customer_label(s.case.customer),
    )


def _from_escalation(e: Escalation) -> Story:
    return Story(
        kind=StoryKind.GUIDANCE,
        ref_id=e.pk,
        at=e.decided_at,
        employee=e.decided_by,
        team_id=e.decided_by.team_id,
        text=e.note,
        case_id=e.decision.case_id,
        customer_label=customer_label(e.decision.case.customer),
        decision_type=e.decision.decision_type,
    )


SOURCES = {
    StoryKind.WOW: (wow_decisions, _from_decision),
    StoryKind.KIND_WORDS: (kind_words_surveys, _from_survey),
    StoryKind.GUIDANCE: (guidance_notes, _from_escalation),
}


def story_get(*, kind: str, ref_id: int) -> Story | None:
    """One story by its kind and reference; None when there is no such story (or it no longer qualifies)."""
    if kind not in SOURCES:
        return None
    rows, build = SOURCES[kind]
    row = rows().filter(pk=ref_id).first()
    return build(row) if row is not None else None


def stories_page(
    *, viewer: Employee, team_ids=None, employee_ids=None, offset: int = 0, limit: int = 20, kinds=None
) -> tuple[int, list[Story]]:
    """(how many in all, this page of stories newest first), each with its applause, whether the viewer
    applauded it, its feature and what the viewer may do. `team_ids` None is everyone's stories."""
    wanted = [k for k in SOURCES if kinds is None or k in kinds]
    total, stories = 0, []
    for kind in wanted:
        rows, build = SOURCES[kind]
        qs = rows(team_ids=team_ids, employee_ids=employee_ids)
        total += qs.count()
        stories += [build(row) for row in qs[: offset + limit]]
    stories.sort(key=lambda s: (s.at, s.ref_id), reverse=True)
    page = stories[offset : offset + limit]
    decorate(page, viewer=viewer)
    return total, page


def featured_stories(*, viewer: Employee, team_ids=None, employee_ids=None, limit: int = 10) -> list[Story]:
    """The featured stories (of these teams or people), most recently featured first."""
    features = FeaturedStory.objects.order_by("-featured_at", "-id")
    if team_ids is not None:
        features = features.filter(team_id__in=team_ids)
    if employee_ids is not None:
        features = features.filter(employee_id__in=employee_ids)
    chosen = list(features[:limit])
    by_kind: dict[str, list[int]] = {}
    for feature in chosen:
        by_kind.setdefault(feature.kind, []).append(feature.ref_id)
    found = {}  # one query per kind, whatever the number of features
    for kind, ids in by_kind.items():
        rows, build = SOURCES[kind]
        found |= {(kind, row.pk): build(row) for row in rows().filter(pk__in=ids)}
    stories = [found[(f.kind, f.ref_id)] for f in chosen if (f.kind, f.ref_id) in found]
    decorate(stories, viewer=viewer)
    return stories


def _keys_q(stories: list[Story]) -> Q:
    by_kind: dict[str, list[int]] = {}
    for s in stories:
        by_kind.setdefault(s.kind, []).append(s.ref_id)
    q = Q(pk__in=[])
    for kind, ids in by_kind.items():
        q |= Q(kind=kind, ref_id__in=ids)
    return q


def decorate(stories: list[Story], *, viewer: Employee) -> None:
    """Applause counts, the viewer's own applause, features, and the viewer's `can_*` (two queries)."""
    if not stories:
        return
    q = _keys_q(stories)
    counts = {
        (row["kind"], row["ref_id"]): row["n"]
        for row in Applause.objects.filter(q).values("kind", "ref_id").annotate(n=Count("id"))
    }
    mine = set(Applause.objects.filter(q, by=viewer).values_list("kind", "ref_id"))
    features = {(f.kind, f.ref_id): f for f in FeaturedStory.objects.filter(q).select_related("featured_by__user")}
    for s in stories:
        s.applause = counts.get((s.kind, s.ref_id), 0)
        s.applauded = (s.kind, s.ref_id) in mine
        s.featured = features.get((s.kind, s.ref_id))
        s.can_applaud = applaud_refusal(employee=viewer, story=s, applauded=s.applauded) is None
        s.can_feature = feature_refusal(employee=viewer, story=s, featured=s.featured is not None) is None


# --- who may do what --------------------------------------------------------------------------------


def applaud_refusal(*, employee: Employee, story: Story, applauded: bool | None = None) -> DomainError | None:
    """Colleagues of the same team and the managers above the story's employee applaud, once; never
    one's own story."""
    if employee.pk == story.employee.pk:
        return NotAllowed(_("This is your own story: let colleagues applaud it."), code="own_story")
    if employee.team_id != story.team_id and not is_above(manager=employee, employee=story.employee):
        return NotAllowed(_("Only colleagues of the team and their managers applaud this story."), code="not_colleague")
    if applauded is None:
        applauded = Applause.objects.filter(kind=story.kind, ref_id=story.ref_id, by=employee).exists()
    if applauded:
        return Conflict(_("You have already applauded this story."), code="already_applauded")
    return None


def feature_refusal(*, employee: Employee, story: Story, featured: bool | None = None) -> DomainError | None:
    """A manager above the story's employee features it, once."""
    if not is_above(manager=employee, employee=story.employee):
        return NotAllowed(_("Only a manager above them may feature this story."), code="not_manager")
    if featured is None:
        featured = FeaturedStory.objects.filter(kind=story.kind, ref_id=story.ref_id).exists()
    if featured:
        return Conflict(_("This story is already featured."), code="already_featured")
    return None


# --- a person's recognition (never ranked against colleagues) ---------------------------------------


@dataclass
class Recognition:
    employee: Employee
    applause_received: int
    applause_recent: list[Applause]
    featured: list[Story]
    kind_words: list[Story]


def recognition_of(*, employee: Employee, viewer: Employee) -> Recognition:
    """What colleagues and customers said of `employee`: applause received, featured stories, the
    customers' kind words about their cases. Only their own numbers: nothing compares them."""
    received = Applause.objects.filter(recipient=employee)
    return Recognition(
        employee=employee,
        applause_received=received.count(),
        applause_recent=list(received.select_related("by__user")[:10]),
        featured=featured_stories(viewer=viewer, employee_ids=[employee.pk]),
        kind_words=stories_page(viewer=viewer, employee_ids=[employee.pk], kinds=[StoryKind.KIND_WORDS], limit=10)[1],
    )


def may_see_recognition(*, viewer: Employee, employee: Employee) -> bool:
    """The person themselves and those above them."""
    return viewer.pk == employee.pk or is_above(manager=viewer, employee=employee)
