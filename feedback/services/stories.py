"""Recognition: applauding and featuring stories, and the weekly digest of each team's stories.

Who may applaud or feature is one predicate each (`feedback.selectors_stories`); these services
enforce it, record the row under its unique constraint, audit and tell the story's employee.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from empower.errors import Conflict, NotFound
from empower.models import Employee, Team
from empower.services import audit, audit_once, email_queue, lazy_message, notify
from feedback import selectors_stories as stories
from feedback.models import Applause, FeaturedStory

DIGEST_DAYS = 7


def _story_or_404(kind: str, ref_id: int) -> stories.Story:
    story = stories.story_get(kind=kind, ref_id=ref_id)
    if story is None:
        raise NotFound(_("No such story."))
    return story


def story_applaud(*, employee: Employee, kind: str, ref_id: int) -> Applause:
    """Applaud a story once: colleagues of its team and the managers above its employee, never its own."""
    story = _story_or_404(kind, ref_id)
    if refusal := stories.applaud_refusal(employee=employee, story=story):
        raise refusal
    try:
        with transaction.atomic():
            applause = Applause.objects.create(
                kind=story.kind, ref_id=story.ref_id, by=employee, recipient=story.employee
            )
            audit(
                actor=employee,
                action="story.applauded",
                target=applause,
                after={"story": story.key, "for": story.employee.username},
                subject=story.employee,
            )
            notify(
                recipient=story.employee,
                key=f"story:{story.key}:applause:{employee.pk}",
                message=lazy_message(_("%(name)s applauded your story."), name=employee),
                url=reverse("feedback:stories") + f"#story-{story.key}",
            )
    except IntegrityError:  # the same person, twice at once: the constraint keeps one
        raise Conflict(_("You have already applauded this story."), code="already_applauded") from None
    return applause


def story_feature(*, employee: Employee, kind: str, ref_id: int) -> FeaturedStory:
    """A manager above the story's employee features it (once); the employee is told."""
    story = _story_or_404(kind, ref_id)
    if refusal := stories.feature_refusal(employee=employee, story=story):
        raise refusal
    try:
        with transaction.atomic():
            feature = FeaturedStory.objects.create(
                kind=story.kind,
                ref_id=story.ref_id,
                employee=story.employee,
                team_id=story.team_id,
                featured_by=employee,
            )
            audit(
                actor=employee,
                action="story.featured",
                target=feature,
                after={"story": story.key, "employee": story.employee.username},
                subject=story.employee,
            )
            notify(
                recipient=story.employee,
                key=f"story:{story.key}:featured",
                message=lazy_message(_("%(name)s featured your story."), name=employee),
                url=reverse("feedback:stories") + f"#story-{story.key}",
            )
    except IntegrityError:
        raise Conflict(_("This story is already featured."), code="already_featured") from None
    return feature


# --- the weekly digest -------------------------------------------------------------------------------


def _week_key(now: datetime) -> str:
    year, week, _day = timezone.localtime(now).isocalendar()
    return f"{year}-W{week:02d}"


def digest_recipients(*, team: Team) -> list[Employee]:
    """The team's active members and everyone above them (their managers), each once."""
    members = list(Employee.objects.filter(team=team, user__is_active=True).select_related("user"))
    above_ids = {pk for m in members for pk in m.path_ids} - {m.pk for m in members}
    above = list(Employee.objects.filter(pk__in=above_ids, user__is_active=True).select_related("user"))
    return members + above


def stories_digest_send(*, team: Team, now: datetime | None = None) -> int:
    """Queue this week's digest of `team`'s stories (the last seven days) to each recipient, in their
    own language, through the outbox; once per team and week (`audit_once`), and nothing when the team
    has no story this week. Returns how many e-mails were queued."""
    now = now or timezone.now()
    since = now - timedelta(days=DIGEST_DAYS)
    recipients = digest_recipients(team=team)
    if not recipients:
        return 0
    _count, latest = stories.stories_page(viewer=recipients[0], team_ids=[team.pk], limit=50)
    week = [s for s in latest if s.at >= since]
    if not week:
        return 0
    week_key = _week_key(now)
    queued = 0
    with transaction.atomic():
        if not audit_once(action="stories.digest", target=team, key=week_key, after={"stories": len(week)}):
            return 0
        url = f"{settings.SITE_URL}{reverse('feedback:stories')}?team={team.pk}"
        for person in recipients:
            with translation.override(person.language):
                context = {"team": team, "stories": week, "url": url, "name": person.user.first_name or person}
                subject = render_to_string("feedback/email/stories_digest_subject.txt", context)
                body = render_to_string("feedback/email/stories_digest_body.txt", context)
            if email_queue(
                key=f"stories-digest:{team.pk}:{week_key}:{person.pk}",
                to=person.user.email,
                subject=subject,
                body=body,
                language=person.language,
            ):
                queued += 1
    return queued


def stories_digests_send(*, now: datetime | None = None) -> int:
    """Every team's digest for this week (each at most once); how many e-mails were queued."""
    return sum(stories_digest_send(team=team, now=now) for team in Team.objects.order_by("pk"))
