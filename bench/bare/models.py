"""The bare endpoint's tables; the bench creates them (`bench/bare/schema.py`), no migrations."""

from django.db import models


class Counter(models.Model):
    user_id = models.IntegerField(unique=True)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    cap = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        managed = False
        db_table = "bench_counter"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.amount} of {self.cap}"


class Decision(models.Model):
    user_id = models.IntegerField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    rationale = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "bench_decision"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.amount}"


class Job(models.Model):
    """An escalation at its barest: written by a request, claimed and assigned by a task."""

    user_id = models.IntegerField()
    status = models.CharField(max_length=16)
    created_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True)

    class Meta:
        managed = False
        db_table = "bench_job"

    def __str__(self) -> str:
        return f"{self.pk}: {self.status}"
