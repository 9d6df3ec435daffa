"""Recognition's API: stories (of a team or everyone), applause, features, a person's recognition.

Thin views: validate, call one selector or service, render; who may applaud or feature is decided in
`feedback.selectors_stories` and enforced by `feedback.services`.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from empower.api import EmployeeAPIView, error_responses
from empower.errors import InvalidInput, NotFound
from empower.models import Employee
from empower.pagination import LimitOffsetBoundedPagination
from empower.serializers import page_of
from feedback import selectors_stories, services
from feedback.models import StoryKind


class StorySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=StoryKind.choices)
    id = serializers.IntegerField(
        source="ref_id", help_text=_("With `kind`, names the story: the decision, survey or escalation it comes from.")
    )
    at = serializers.DateTimeField()
    employee = serializers.CharField(source="employee.username", help_text=_("Whose story it is."))
    team = serializers.IntegerField(source="team_id")
    text = serializers.CharField(help_text=_("The story, the customer's words, or the approver's note."))
    customer = serializers.CharField(
        source="customer_label", help_text=_("Never a name: the customer's first name at most, by setting.")
    )
    decision_type = serializers.CharField(source="decision_type.code", allow_null=True, default=None)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True, coerce_to_string=True)
    applause = serializers.IntegerField()
    applauded = serializers.BooleanField(help_text=_("Whether the caller applauded it."))
    featured = serializers.SerializerMethodField()
    can_applaud = serializers.BooleanField()
    can_feature = serializers.BooleanField()

    def get_featured(self, story) -> bool:
        return story.featured is not None


class _Window:
    def __init__(self, total: int, fetch):
        self.total, self.fetch = total, fetch

    def count(self) -> int:
        return self.total

    def __getitem__(self, window: slice):
        start = window.start or 0
        return self.fetch(start, (window.stop if window.stop is not None else self.total) - start)


class StoryPagination(LimitOffsetBoundedPagination):
    default_limit = 20
    max_limit = 100


class StoryListView(EmployeeAPIView):
    """Stories newest first: wow gestures with their story, customers' kind words (a 5 with a comment),
    approvers' notes shared as guidance. `?team=<id>` for one team; `?featured=true` only featured ones.
    Every member of staff reads them; customers' names never appear."""

    @extend_schema(
        operation_id="stories_list",
        tags=["recognition"],
        parameters=[
            *(
                OpenApiParameter(p["name"], p["schema"], description=p["description"])
                for p in StoryPagination().get_schema_operation_parameters(None)
            ),
            OpenApiParameter(
                "team", {"type": "integer", "minimum": 1}, description=str(_("Only this team's stories."))
            ),
            OpenApiParameter("featured", bool, description=str(_("Only featured stories."))),
        ],
        responses={200: page_of(StorySerializer, name="StoryPage"), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        team = request.query_params.get("team")
        team_ids = None
        if team:
            if not team.isdigit() or int(team) < 1:
                message = _("Give a team's id.")
                raise InvalidInput(message, field_errors={"team": [message]})
            team_ids = [int(team)]
        featured = request.query_params.get("featured", "false")
        if featured not in ("true", "false"):
            message = _("Say true or false.")
            raise InvalidInput(message, field_errors={"featured": [message]})
        if featured == "true":
            rows = selectors_stories.featured_stories(viewer=self.employee, team_ids=team_ids, limit=100)
            window = _Window(len(rows), lambda offset, limit: rows[offset : offset + limit])
        else:
            total = selectors_stories.stories_page(viewer=self.employee, team_ids=team_ids, limit=0)[0]
            window = _Window(
                total,
                lambda offset, limit: selectors_stories.stories_page(
                    viewer=self.employee, team_ids=team_ids, offset=offset, limit=limit
                )[1],
            )
        paginator = StoryPagination()
        page = paginator.paginate_queryset(window, request, view=self)
        return paginator.get_paginated_response(StorySerializer(page, many=True).data)


def _story_answer(employee: Employee, kind: str, ref_id: int) -> dict:
    story = selectors_stories.story_get(kind=kind, ref_id=ref_id)
    selectors_stories.decorate([story], viewer=employee)
    return StorySerializer(story).data


class StoryApplaudView(EmployeeAPIView):
    """Applaud a story: colleagues of its team and the managers above its employee, once each (again:
    409); one's own story: 403."""

    @extend_schema(
        operation_id="stories_applaud",
        tags=["recognition"],
        request=None,
        responses={201: StorySerializer, **error_responses(404, 409)},
    )
    def post(self, request: Request, kind: str, ref_id: int) -> Response:
        if kind not in StoryKind.values:
            raise NotFound(_("No such story."))
        services.story_applaud(employee=self.employee, kind=kind, ref_id=ref_id)
        return Response(_story_answer(self.employee, kind, ref_id), status=status.HTTP_201_CREATED)


class StoryFeatureView(EmployeeAPIView):
    """Feature a story: a manager above its employee (others 403), once (again: 409)."""

    @extend_schema(
        operation_id="stories_feature",
        tags=["recognition"],
        request=None,
        responses={201: StorySerializer, **error_responses(404, 409)},
    )
    def post(self, request: Request, kind: str, ref_id: int) -> Response:
        if kind not in StoryKind.values:
            raise NotFound(_("No such story."))
        services.story_feature(employee=self.employee, kind=kind, ref_id=ref_id)
        return Response(_story_answer(self.employee, kind, ref_id), status=status.HTTP_201_CREATED)


class RecognitionSerializer(serializers.Serializer):
    username = serializers.CharField(source="employee.username")
    applause_received = serializers.IntegerField()
    featured = StorySerializer(many=True)
    kind_words = StorySerializer(many=True)


class RecognitionView(EmployeeAPIView):
    """A person's recognition (applause received, featured stories, customers' kind words): the person
    and those above them; others 404. Nothing is ranked against colleagues."""

    @extend_schema(
        operation_id="employees_recognition",
        tags=["recognition"],
        responses={200: RecognitionSerializer, **error_responses(404)},
    )
    def get(self, request: Request, username: str) -> Response:
        person = Employee.objects.select_related("user").filter(user__username=username).first()
        if person is None or not selectors_stories.may_see_recognition(viewer=self.employee, employee=person):
            raise NotFound(_("No such person, or not one whose recognition you may see."))
        recognition = selectors_stories.recognition_of(employee=person, viewer=self.employee)
        return Response(RecognitionSerializer(recognition).data)
