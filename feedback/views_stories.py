"""Recognition pages: the stories of a team or of everyone (applaud, feature), and a person's own
recognition. They parse input, call one selector or service and render; the templates are handed
each story's `can_applaud` / `can_feature` (the predicates the services enforce)."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from empower.errors import DomainError
from empower.models import Employee, Team
from empower.views import staff_required
from feedback import selectors_stories, services
from feedback.models import StoryKind

STORIES_PAGE_SIZE = 20


class _Window:
    """What `Paginator` needs of a list it cannot count itself: the total and the page's slice."""

    def __init__(self, total: int, fetch):
        self.total, self.fetch = total, fetch

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, window: slice):
        return self.fetch(window.start or 0, (window.stop or self.total) - (window.start or 0))


def _team_or_none(value: str | None) -> Team | None:
    if not value:
        return None
    try:
        return Team.objects.filter(pk=int(value)).first()
    except ValueError:
        return None


@require_GET
@staff_required
def stories(request: HttpRequest) -> HttpResponse:
    """Everyone's stories, or one team's (`?team=<id>`); featured ones first."""
    employee = request.employee
    team = _team_or_none(request.GET.get("team"))
    team_ids = [team.pk] if team else None
    total, _first = selectors_stories.stories_page(viewer=employee, team_ids=team_ids, limit=0)

    def fetch(offset: int, limit: int):
        return selectors_stories.stories_page(viewer=employee, team_ids=team_ids, offset=offset, limit=limit)[1]

    page = Paginator(_Window(total, fetch), STORIES_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "section": "stories",
        "team": team,
        "teams": Team.objects.order_by("name"),
        "featured": selectors_stories.featured_stories(viewer=employee, team_ids=team_ids),
        "page": page,
        "next": request.get_full_path(),
    }
    return render(request, "feedback/stories.html", context)


def _back(request: HttpRequest):
    target = request.POST.get("next") or ""
    return redirect(target if target.startswith("/") and not target.startswith("//") else "feedback:stories")


def _act(request: HttpRequest, kind: str, ref_id: int, action, done: str) -> HttpResponse:
    if kind not in StoryKind.values:
        raise Http404
    try:
        action(employee=request.employee, kind=kind, ref_id=ref_id)
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, done)
    return _back(request)


@require_POST
@staff_required
def story_applaud(request: HttpRequest, kind: str, ref_id: int) -> HttpResponse:
    return _act(request, kind, ref_id, services.story_applaud, _("You applauded this story."))


@require_POST
@staff_required
def story_feature(request: HttpRequest, kind: str, ref_id: int) -> HttpResponse:
    return _act(request, kind, ref_id, services.story_feature, _("The story is featured."))


@require_GET
@staff_required
def recognition(request: HttpRequest, username: str) -> HttpResponse:
    """A person's recognition: applause received, featured stories, customers' kind words (theirs only)."""
    person = Employee.objects.select_related("user", "team").filter(user__username=username).first()
    if person is None or not selectors_stories.may_see_recognition(viewer=request.employee, employee=person):
        raise Http404
    context = {
        "section": "recognition" if person.pk == request.employee.pk else "stories",
        "person": person,
        "own": person.pk == request.employee.pk,
        "recognition": selectors_stories.recognition_of(employee=person, viewer=request.employee),
        "next": request.get_full_path(),
    }
    return render(request, "feedback/recognition.html", context)
