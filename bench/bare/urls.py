"""Two views: the capped transaction (lock the counter, check the cap, update it, insert a row), and
the bare counterpart of an escalation (insert a row, enqueue a task on commit that assigns it)."""

from decimal import Decimal

from django.db import transaction
from django.urls import path
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.bare.celery import app as celery_app
from bench.bare.models import Counter, Decision, Job


class DecisionIn(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0.01"))
    rationale = serializers.CharField()


class Decide(APIView):
    def post(self, request):
        given = DecisionIn(data=request.data)
        given.is_valid(raise_exception=True)
        amount = given.validated_data["amount"]
        with transaction.atomic():
            counter = Counter.objects.select_for_update().get(user_id=request.user.pk)
            if counter.amount + amount > counter.cap:
                return Response({"status": "escalated"}, status=201)
            counter.amount += amount
            counter.save(update_fields=["amount"])
            decision = Decision.objects.create(
                user_id=request.user.pk,
                amount=amount,
                rationale=given.validated_data["rationale"],
                created_at=timezone.now(),
            )
        return Response({"id": decision.pk, "status": "approved", "amount": f"{amount:.2f}"}, status=201)


class Escalate(APIView):
    """What submit → assigned costs with nothing of Empower in it: the same HTTP request, a row written
    in a transaction, a Celery task enqueued when it commits, a worker that claims the row and writes
    it (`bench.assign`, in bench/tasks.py)."""

    def post(self, request):
        with transaction.atomic():
            job = Job.objects.create(user_id=request.user.pk, status="routing", created_at=timezone.now())
            transaction.on_commit(lambda: celery_app.send_task("bench.assign", args=[job.pk]))
        return Response({"id": job.pk, "status": "routing"}, status=201)


urlpatterns = [path("decide/", Decide.as_view()), path("escalate/", Escalate.as_view())]
