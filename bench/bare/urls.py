"""One view: the capped transaction (lock the counter, check the cap, update it, insert a row)."""

from decimal import Decimal

from django.db import transaction
from django.urls import path
from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.bare.models import Counter, Decision


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


urlpatterns = [path("decide/", Decide.as_view())]
