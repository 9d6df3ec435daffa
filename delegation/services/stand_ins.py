"""Stand-ins (delegations): set up, ended early, and the escalations handed back when one ends."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import (
    DecisionType,
    Delegation,
    Escalation,
    EscalationStep,
)
from delegation.selectors import (
    active_stand_ins,
    delegation_end_refusal,
    own_limits,
)
from delegation.services.common import required_reason, tell_of_step
from empower.db_retry import retry_on_conflict
from empower.errors import Conflict, InvalidInput, NotAllowed
from empower.models import Employee
from empower.moments import LocalMoment
from empower.selectors import is_above
from empower.services import (
    audit,
    lazy_message,
    notify,
)


@retry_on_conflict
@transaction.atomic
def delegation_end(*, delegation: Delegation, actor: Employee | None, at=None, reason: str = "") -> Delegation:
    """End a delegation now (or at `at`): from then the stand-in no longer holds the delegator's authority.

    Whoever may not see it (neither delegator, stand-in, nor above either) is told there is no such
    delegation (404, as the page answers); one who sees it but is neither the delegator nor above
    them is refused (403). Ending one that is already over is refused (409). The change is audited,
    both people are told, and the open escalations the stand-in holds for the delegator go back
    (`hand_back_escalations`). The refusals are `delegation_end_refusal`, from which the stand-ins
    page shows "End now".
    """
    at = at or timezone.now()
    delegation = (
        Delegation.objects.select_for_update(of=("self",))
        .select_related("delegator__user", "delegate__user")
        .get(pk=delegation.pk)
    )
    refusal = delegation_end_refusal(delegation=delegation, actor=actor, at=at)
    if refusal is not None:
        raise refusal
    before = {"ended_at": delegation.ended_at, "ended_by": None}
    delegation.ended_at = at
    delegation.ended_by = actor
    delegation.save(update_fields=["ended_at", "ended_by"])
    audit(
        actor=actor,
        action="delegation.ended",
        target=delegation,
        before=before,
        after={"ended_at": at, "ended_by": actor and actor.username},
        reason=reason,
        subject=delegation.delegator,
    )
    announce_delegation(delegation, "ended")
    hand_back_escalations(delegation, actor=actor, now=max(at, timezone.now()))
    return delegation


def hand_back_escalations(delegation: Delegation, *, actor: Employee | None, now) -> int:
    """When a stand-in's delegation ends, the open escalations they hold for the delegator go back:
    to the delegator, or to the delegator's next stand-in for that type if one is active by then.

    Each move is a step on the path and an audit record, and the new assignee is told. Safe to run
    again: only what is still assigned to the former stand-in moves. Answers the number moved.
    """
    escalations = list(
        Escalation.objects.select_for_update(of=("self",))
        .select_related("decision__decision_type", "decision__made_by__user")
        .filter(
            status=Escalation.Status.ASSIGNED,
            approver_id=delegation.delegator_id,
            assigned_to_id=delegation.delegate_id,
            decision__decision_type__in=list(delegation.decision_types.all()),
        )
        .order_by("pk")
    )
    if not escalations:
        return 0
    next_stand_ins = active_stand_ins(employee_ids=[delegation.delegator_id], at=now)
    for escalation in escalations:
        decision = escalation.decision
        successor = next_stand_ins.get((delegation.delegator_id, decision.decision_type_id))
        eligible = successor is not None and successor.is_active
        if eligible and successor.pk not in (decision.made_by_id, delegation.delegate_id):
            assignee, reason = successor, EscalationStep.Reason.STAND_IN
        else:
            assignee, reason = delegation.delegator, EscalationStep.Reason.STAND_IN_ENDED
        escalation.move_to(Escalation.Status.ASSIGNED, reason=reason, at=now, assigned_to=assignee)
        label = EscalationStep.Reason(reason).label
        audit(
            actor=actor,
            action="escalation.handed_back",
            target=escalation,
            before={"assigned_to": delegation.delegate.username},
            after={"assigned_to": escalation.assigned_to.username},
            reason=str(label),
            subject=decision.made_by,
        )
        tell_of_step(
            escalation,
            recipient=escalation.assigned_to,
            event=f"handed-back:{delegation.pk}",
            text=_("Escalation #%(id)s (%(type)s %(amount)s) waits for your answer: %(why)s"),
            why=label,
        )
    return len(escalations)


@retry_on_conflict
@transaction.atomic
def delegation_create(
    *,
    delegator: Employee,
    delegate: Employee,
    decision_types: list[DecisionType],
    starts_at,
    ends_at,
    reason: str,
    created_by: Employee | None = None,
) -> Delegation:
    """Hand one's own authority for some types to a stand-in for a period.

    The stand-in holds what the delegator holds at each moment (never more), receives the
    escalations that would go to the delegator, and cannot pass it on: only one's own
    authority is ever delegated. Set up by the delegator or by someone above them.

    History is never rewritten: a start in the past (e.g. a form prefilled minutes ago) is
    clamped to now, since the authority at a past moment is read from delegation windows. Only
    types the delegator holds authority for can be handed over, and one stand-in at a time per
    type: a window overlapping an active or scheduled delegation of the same type is refused (409).
    """
    created_by = created_by or delegator
    reason = required_reason(reason)
    if created_by.pk != delegator.pk and not is_above(manager=created_by, employee=delegator):
        raise NotAllowed(_("Only the delegator or someone above them may do this."), code="not_above")
    if delegate.pk == delegator.pk:
        message = _("Choose a colleague: nobody stands in for themselves.")
        raise InvalidInput(message, field_errors={"to": [message]})
    if not delegate.is_active:
        message = _("This colleague is not active.")
        raise InvalidInput(message, field_errors={"to": [message]})
    if not decision_types:
        message = _("Choose at least one decision type.")
        raise InvalidInput(message, field_errors={"decision_types": [message]})
    now = timezone.now()
    starts_at = max(starts_at, now)
    if ends_at <= starts_at:
        message = _("The end must be after the start, and in the future.")
        raise InvalidInput(message, field_errors={"ends_at": [message]})
    held = own_limits(employees=[delegator], decision_type_ids=[t.pk for t in decision_types], at=now)
    lacking = [t for t in decision_types if held[(delegator.pk, t.pk)].source == "none"]
    if lacking:
        message = _("%(delegator)s holds no authority for %(types)s, so there is nothing to hand over.") % {
            "delegator": delegator,
            "types": ", ".join(str(t) for t in lacking),
        }
        raise InvalidInput(message, field_errors={"decision_types": [message]})
    # Serialize one delegator's set-ups, so two at once cannot both pass the overlap check.
    Employee.objects.select_for_update().filter(pk=delegator.pk).exists()
    _ensure_no_overlap(delegator=delegator, decision_types=decision_types, starts_at=starts_at, ends_at=ends_at)
    delegation = Delegation.objects.create(
        delegator=delegator,
        delegate=delegate,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        created_by=created_by,
    )
    delegation.decision_types.set(decision_types)
    audit(
        actor=created_by,
        action="delegation.created",
        target=delegation,
        after={
            "delegator": delegator.username,
            "delegate": delegate.username,
            "decision_types": sorted(t.code for t in decision_types),
            "starts_at": starts_at,
            "ends_at": ends_at,
        },
        reason=reason,
        subject=delegator,
    )
    if starts_at <= now:
        announce_delegation(delegation, "started")
    return delegation


def _ensure_no_overlap(*, delegator: Employee, decision_types: list[DecisionType], starts_at, ends_at) -> None:
    """One stand-in per type at a time: refuse a window that meets an unfinished delegation of a shared type."""
    existing = (
        Delegation.objects.filter(
            delegator=delegator, decision_types__in=decision_types, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=starts_at))
        .select_related("delegate__user")
        .order_by("starts_at")
        .first()
    )
    if existing is not None:
        raise Conflict(
            _("%(delegate)s already stands in for %(delegator)s from %(starts)s until %(ends)s; end that first.")
            % {
                "delegate": existing.delegate,
                "delegator": delegator,
                "starts": LocalMoment(existing.starts_at),
                "ends": LocalMoment(existing.ended_at or existing.ends_at),
            },
            code="delegation_overlaps",
        )


def announce_delegation(delegation: Delegation, event: str) -> None:
    messages = {
        "started": _("%(delegate)s stands in for %(delegator)s until %(until)s."),
        "ended": _("The delegation from %(delegator)s to %(delegate)s has ended."),
    }
    for person in (delegation.delegator, delegation.delegate):
        notify(
            recipient=person,
            key=f"delegation:{delegation.pk}:{event}",
            message=lazy_message(
                messages[event],
                delegate=delegation.delegate,
                delegator=delegation.delegator,
                until=LocalMoment(delegation.ends_at),  # in the recipient's style
            ),
            url="/delegations/",
        )
