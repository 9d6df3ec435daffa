"""Scheduled announcements: delegations and temporary limits starting and ending on schedule (each
recorded and told once), and the worker's heartbeat."""

from django.db import transaction
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import (
    AuthorityLimit,
    Delegation,
    Heartbeat,
)
from delegation.services.common import personal_limit_changed
from delegation.services.limits import limit_event_once
from delegation.services.stand_ins import announce_delegation, hand_back_escalations
from empower.models import AuditRecord
from empower.services import audit_once


def heartbeat_record(*, name: str = "worker") -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


def authority_changes_announce(*, now=None) -> int:
    """Periodic: tell people when scheduled delegations and temporary limits start or end.

    Each event is audited and announced once: its audit record is the once-only key (`audit_once`),
    so a second or concurrent run does nothing.
    """
    now = now or timezone.now()
    told = 0
    # Every event not yet recorded, however old: the beat may have been down for days.
    unfinished = Delegation.objects.filter(ended_at__isnull=True).select_related("delegator__user", "delegate__user")
    started = unfinished.filter(starts_at__lte=now, ends_at__gt=now).filter(
        _not_recorded(Delegation, "delegation.started")
    )
    ended = unfinished.filter(ends_at__lte=now).filter(_not_recorded(Delegation, "delegation.expired"))
    for event, action, delegations in (("started", "started", started), ("ended", "expired", ended)):
        for delegation in delegations.order_by("pk"):
            with transaction.atomic():
                # Before and after: who stands in for which types (none before a start, none after an end).
                held = {
                    "delegate": delegation.delegate.username,
                    "decision_types": sorted(delegation.decision_types.values_list("code", flat=True)),
                }
                before, after = (None, held) if event == "started" else (held, None)
                told_now = audit_once(
                    action=f"delegation.{action}",
                    target=delegation,
                    subject=delegation.delegator,
                    before=before,
                    after=after,
                    reason=str(_("On schedule")),
                )
                if told_now:
                    announce_delegation(delegation, event)
                    told += 1
                    if event == "ended":
                        hand_back_escalations(delegation, actor=None, now=now)
    told += _limit_windows_announce(now=now)
    return told


def _limit_windows_announce(*, now) -> int:
    """Record and announce every start and expiry of a temporary limit not yet recorded, however
    long ago (the beat may have been down for days), oldest first; the record is the once-only key.

    A window that started and ended while nobody looked is recorded twice, told once (its end).
    """
    personal = AuthorityLimit.objects.filter(employee__isnull=False).select_related("employee__user", "decision_type")
    started = personal.filter(starts_at__lte=now).filter(_not_recorded(AuthorityLimit, "limit.started"))
    # Ended early (`limit.ended`) is an end already recorded and told.
    expired = personal.filter(ends_at__lte=now).filter(_not_recorded(AuthorityLimit, "limit.expired", "limit.ended"))
    events = [(limit.starts_at, 0, "started", limit) for limit in started]
    events += [(limit.ends_at, 1, "expired", limit) for limit in expired]
    told = 0
    for at, _order, event, limit in sorted(events, key=lambda e: (e[0], e[1], e[3].pk)):
        with transaction.atomic():
            # The record is the once-only key (`audit_once`): a concurrent run records nothing and tells nobody.
            if not limit_event_once(limit, f"limit.{event}", at=at):
                continue
            told += 1
            if event == "started" and limit.ends_at is not None and limit.ends_at <= now:
                continue
            personal_limit_changed(
                employee=limit.employee, decision_type=limit.decision_type, key=f"limit:{limit.pk}:{event}"
            )
    return told


def _not_recorded(model, *actions: str) -> Exists:
    """Rows of `model` with no audit record of any of `actions` (the record is the once-only key)."""
    records = AuditRecord.objects.filter(
        target_type=model._meta.label_lower, target_id=Cast(OuterRef("pk"), CharField()), action__in=actions
    )
    return ~Exists(records)
