"""Delegation's events that happen once are recorded with `empower.services.audit_once`, and the
administrators' e-mail about an unroutable escalation goes through the outbox, exactly once.

Also the data migration that gives the `escalation.admins_told` records written before the switch
their once-only key, so an escalation already unroutable at deploy does not tell them twice.
"""

import importlib
from contextlib import suppress
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import transaction
from django.utils import timezone

from delegation.models import AuthorityLimit, Delegation, Escalation, EscalationStep
from delegation.services import (
    authority_changes_announce,
    decision_submit,
    escalation_reroute,
    escalation_unroutable_announce,
    limit_set,
)
from delegation.services.limits import limit_event_once
from empower import tasks as empower_tasks
from empower.models import AuditRecord, OutgoingEmail
from empower.services import audit, emails_send_again
from tests.helpers import allow_audit_rewrites

backfill = importlib.import_module("delegation.migrations.0006_admins_told_once_keys").backfill


class _Undo(Exception):
    pass


def records(action: str, target) -> list[AuditRecord]:
    return list(
        AuditRecord.objects.filter(action=action, target_type=target._meta.label_lower, target_id=str(target.pk))
    )


@pytest.fixture
def unroutable(org, make_case, settings, django_capture_on_commit_callbacks):
    """alice asks for 2500.00 of refund: carol's refunds stop at 2000.00 and dan's at 500.00 for
    now, so nobody above covers it. Routing runs on commit; the outbox sends on commit too."""
    settings.ADMINS = [("Ops", "ops@example.com"), ("Night", "night@example.com")]
    AuthorityLimit.objects.create(employee=org.dan, decision_type=org.refund, per_decision=Decimal("500.00"))

    def escalate() -> Escalation:
        with django_capture_on_commit_callbacks(execute=True):
            decision = decision_submit(
                employee=org.alice,
                case=make_case(org.alice),
                decision_type=org.refund,
                amount=Decimal("2500.00"),
                rationale="A sofa",
            )
        escalation = Escalation.objects.get(decision=decision)
        assert escalation.status == Escalation.Status.UNROUTABLE
        return escalation

    return escalate


def _step(escalation: Escalation) -> int:
    return escalation.steps.filter(reason=EscalationStep.Reason.UNROUTABLE).order_by("-created_at", "-id").first().pk


def test_the_administrators_get_one_outbox_email_each_once(org, unroutable, mailoutbox):
    escalation = unroutable()
    step = _step(escalation)
    keys = {f"escalation:{escalation.pk}:unroutable:{step}:{a}" for a in ("ops@example.com", "night@example.com")}
    assert set(OutgoingEmail.objects.values_list("key", flat=True)) == keys
    assert OutgoingEmail.objects.filter(sent_at__isnull=False).count() == 2  # sent by the worker (eager)
    assert sorted(m.to[0] for m in mailoutbox) == ["night@example.com", "ops@example.com"]
    assert {m.subject for m in mailoutbox} == {f"[Empower] Escalation #{escalation.pk} is unroutable"}
    [told] = records("escalation.admins_told", escalation)
    assert told.after == {"step": step, "recipients": 2} and told.once_key.endswith(f"|step:{step}")

    # A second delivery of the old task, or a second call, tells nobody again.
    assert escalation_unroutable_announce(escalation_id=escalation.pk) is False
    assert len(mailoutbox) == 2
    assert OutgoingEmail.objects.count() == 2 and len(records("escalation.admins_told", escalation)) == 1


def test_the_email_is_queued_with_the_unroutable_status_so_a_broker_down_loses_nothing(
    org, unroutable, monkeypatch, mailoutbox
):
    def broker_down(*args):
        raise ConnectionError("broker down")

    monkeypatch.setattr(empower_tasks.send_email, "delay", broker_down)
    escalation = unroutable()
    assert mailoutbox == [] and OutgoingEmail.objects.filter(sent_at__isnull=True).count() == 2
    monkeypatch.undo()
    emails_send_again(now=timezone.now() + timedelta(minutes=10))  # the periodic re-send
    assert sorted(m.to[0] for m in mailoutbox) == ["night@example.com", "ops@example.com"]
    assert escalation_unroutable_announce(escalation_id=escalation.pk) is False


def test_unroutable_again_after_routing_again_tells_them_again(org, unroutable, django_capture_on_commit_callbacks):
    escalation = unroutable()
    with django_capture_on_commit_callbacks(execute=True):
        escalation_reroute(escalation_id=escalation.pk, actor=None, reason="Try again")
    escalation.refresh_from_db()
    assert escalation.status == Escalation.Status.UNROUTABLE
    assert len(records("escalation.admins_told", escalation)) == 2
    assert OutgoingEmail.objects.count() == 4  # two steps, two administrators


def test_a_record_written_before_the_switch_is_given_its_key_and_tells_nobody_twice(org, unroutable):
    escalation = unroutable()
    step = _step(escalation)
    # As the old code left it: the record of the telling without a key, and no outbox row.
    allow_audit_rewrites()
    AuditRecord.objects.filter(action="escalation.admins_told").update(once_key=None)
    OutgoingEmail.objects.all().delete()

    # Without the migration, a second delivery would tell them again.
    would_tell = []
    with suppress(_Undo), transaction.atomic():
        would_tell.append(escalation_unroutable_announce(escalation_id=escalation.pk))
        raise _Undo
    assert would_tell == [True]

    backfill(apps, None)

    [told] = records("escalation.admins_told", escalation)
    assert told.once_key == f"escalation.admins_told|delegation.escalation|{escalation.pk}|step:{step}"
    assert escalation_unroutable_announce(escalation_id=escalation.pk) is False
    assert not OutgoingEmail.objects.exists()
    backfill(apps, None)  # again: nothing changes, nothing fails
    assert AuditRecord.objects.get(pk=told.pk).once_key == told.once_key


def test_the_backfill_keeps_the_first_of_two_records_of_the_same_telling(org, unroutable):
    escalation = unroutable()
    allow_audit_rewrites()
    AuditRecord.objects.filter(action="escalation.admins_told").update(once_key=None)
    [first] = records("escalation.admins_told", escalation)
    audit(actor=None, action="escalation.admins_told", target=escalation, after=first.after)  # a race of old
    backfill(apps, None)
    keyed = AuditRecord.objects.filter(action="escalation.admins_told", once_key__isnull=False)
    assert list(keyed.values_list("pk", flat=True)) == [first.pk]


def test_a_temporary_limit_starting_is_recorded_once(org):
    window = limit_set(
        granter=org.carol,
        employee=org.alice,
        decision_type=org.refund,
        values={"per_decision": "20.00"},
        reason="Training",
        ends_at=timezone.now() + timedelta(days=1),
    )
    [started] = records("limit.started", window)  # recorded by limit_set: it runs from now
    assert started.once_key and started.after["per_decision"] == "20.00"
    assert limit_event_once(window, "limit.started", at=window.starts_at) is False
    assert authority_changes_announce() == 0
    assert len(records("limit.started", window)) == 1


def test_scheduled_events_are_recorded_and_told_once_also_beside_records_of_old(org):
    now = timezone.now()
    delegation = Delegation.objects.create(
        delegator=org.bob,
        delegate=org.erin,
        starts_at=now - timedelta(minutes=1),
        ends_at=now + timedelta(days=1),
        reason="Holiday",
        created_by=org.bob,
    )
    delegation.decision_types.add(org.refund)
    expired = Delegation.objects.create(
        delegator=org.hank,
        delegate=org.gina,
        starts_at=now - timedelta(days=2),
        ends_at=now - timedelta(days=1),
        reason="Away",
        created_by=org.hank,
    )
    expired.decision_types.add(org.refund)
    # Recorded before the switch to audit_once (no key): it counts.
    audit(actor=None, action="delegation.expired", target=expired, subject=org.hank)

    assert authority_changes_announce() == 1  # bob's stand-in started; hank's end was recorded before
    assert authority_changes_announce() == 0
    [started] = records("delegation.started", delegation)
    assert started.once_key and started.after == {"delegate": "erin", "decision_types": ["refund"]}
    assert started.reason == "On schedule" and started.subject == org.bob
    assert len(records("delegation.expired", expired)) == 1
