"""Possible splits: decisions of one type for one customer within a short window, together above the
maker's per-decision limit. Listed for the people above the maker (their manager is notified)."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from delegation.models import SplitFlag
from delegation.selectors.splitting import split_flags_visible_to
from delegation.serializers import money, username
from empower.api import EmployeeMixin, error_responses


class SplitFlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    made_by = username("made_by")
    manager = username("manager", allow_null=True)
    decision_type = serializers.CharField(source="decision_type.code")
    customer = serializers.IntegerField(source="customer_id")
    decisions = serializers.SerializerMethodField()
    total = money()
    per_decision = money()
    currency = serializers.CharField()
    window_minutes = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_decisions(self, flag: SplitFlag) -> list[int]:
        return sorted(d.pk for d in flag.decisions.all())


class SplitFlagListView(EmployeeMixin, generics.ListAPIView):
    """Possible splits by people below the caller, newest first; never blocked, shown for coaching."""

    serializer_class = SplitFlagSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[SplitFlag]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no caller
            return SplitFlag.objects.none()
        return split_flags_visible_to(employee=self.employee)

    @extend_schema(
        operation_id="split_flags_list",
        tags=["decisions"],
        responses={200: SplitFlagSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)
