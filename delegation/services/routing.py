"""Routing escalations: to the nearest person above who covers it, up a level when overdue or beyond
the approver's capacity, back to routing by an administrator; administrators told of unroutable ones."""

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from delegation.authority import nearest_covering
from delegation.deadlines import REMINDER_SHARE, add_working_hours
from delegation.models import (
    Escalation,
    EscalationStep,
)
from delegation.selectors import (
    active_stand_ins,
    authority_snapshot,
    authority_snapshots,
    response_hours,
)
from delegation.services.common import enqueue_routing, required_reason, tell_of_step
from empower.errors import Conflict, NotFound
from empower.models import Employee
from empower.money import Money
from empower.selectors import administrator_addresses, chain_above
from empower.services import (
    audit,
    audit_once,
    email_queue_to_administrators,
    lazy_message,
    notify,
)


def escalation_route(*, escalation_id: int) -> Escalation | None:
    """Route an escalation waiting in "routing"; a second delivery finds nothing to do.

    It goes to the nearest active person above `route_above` whose own authority covers the
    whole amount on every cap (never the requester), to their stand-in while one is active, and
    is marked unroutable (administrators told) where nobody covers it.
    """
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update(of=("self",))
            .select_related("decision__decision_type", "decision__case", "decision__made_by__user", "route_above")
            .filter(pk=escalation_id, status=Escalation.Status.ROUTING)
            .first()
        )
        if escalation is None:
            return None
        decision = escalation.decision
        requester = decision.made_by
        now = timezone.now()
        chain = [e for e in chain_above(employee=escalation.route_above) if e.is_active and e.pk != requester.pk]
        type_id = decision.decision_type_id
        customer_id = decision.case.customer_id
        # Limits from the cache, as the decision path reads them (never stale after a change).
        snapshots = authority_snapshots(wanted=[(e, type_id, customer_id) for e in chain], at=now, cached=True)
        candidates = [
            (e.pk, snapshots[(e.pk, type_id, customer_id)].limits, snapshots[(e.pk, type_id, customer_id)].usage)
            for e in chain
        ]
        approver_id = nearest_covering(candidates, decision.amount)
        before = {"status": escalation.status, "assigned_to": None}
        if approver_id is None:
            # Nobody's deadline: it waits for an administrator.
            reason = EscalationStep.Reason.UNROUTABLE
            escalation.move_to(
                Escalation.Status.UNROUTABLE,
                reason=reason,
                at=now,
                approver=None,
                assigned_to=None,
                due_at=None,
                remind_at=None,
                routed_at=now,
            )
        else:
            approver = next(e for e in chain if e.pk == approver_id)
            hours = response_hours(escalation=escalation)
            stand_in = active_stand_ins(employee_ids=[approver.pk], at=now).get((approver.pk, type_id))
            use_stand_in = stand_in is not None and stand_in.pk != requester.pk and stand_in.is_active
            reason = EscalationStep.Reason.STAND_IN if use_stand_in else EscalationStep.Reason.ROUTED
            escalation.move_to(
                Escalation.Status.ASSIGNED,
                reason=reason,
                at=now,
                approver=approver,
                assigned_to=stand_in if use_stand_in else approver,
                due_at=add_working_hours(now, hours),
                remind_at=add_working_hours(now, hours * REMINDER_SHARE),
                routed_at=now,
            )
        audit(
            actor=None,
            action="escalation.routed",
            target=escalation,
            before=before,
            after={
                "status": escalation.status,
                "assigned_to": escalation.assigned_to and escalation.assigned_to.username,
            },
            reason=str(EscalationStep.Reason(reason).label),
            subject=requester,
        )
        _tell_about_routing(escalation)
    return escalation


def _tell_about_routing(escalation: Escalation) -> None:
    decision = escalation.decision
    url = f"/escalations/{escalation.pk}/"
    step = escalation.steps.count()
    if escalation.assigned_to is not None:
        notify(
            recipient=escalation.assigned_to,
            key=f"escalation:{escalation.pk}:assigned:{step}",
            message=lazy_message(
                _("%(requester)s asks you to decide: %(type)s %(amount)s on case #%(case)s."),
                requester=decision.made_by,
                type=decision.decision_type,
                amount=Money(decision.amount, decision.currency),  # in the recipient's language
                case=decision.case_id,
            ),
            url=url,
        )
        return
    # Nobody above covers it: the administrators are told by e-mail, queued in this transaction
    # (the outbox worker sends it after commit, and its re-send covers a broker that was down).
    escalation_unroutable_announce(escalation_id=escalation.pk)


def escalation_unroutable_announce(*, escalation_id: int) -> bool:
    """Tell the administrators that nobody above covers an escalation, once each time it becomes
    unroutable: an outbox e-mail to ADMIN_EMAILS, else to the active superusers.

    Called by routing in the transaction that marks it unroutable (and by the `announce_unroutable`
    task that older code queued). The `escalation.admins_told` record, keyed by the unroutable step
    (`audit_once`), is the once-only key: a second call, or a concurrent one, queues nothing. One
    routed again meanwhile needs no telling. True when this call queued mail for someone.
    """
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_related("decision__decision_type", "decision__made_by__user")
            .filter(pk=escalation_id, status=Escalation.Status.UNROUTABLE)
            .first()
        )
        if escalation is None:
            return False
        # This time it became unroutable (it may have been routed again and become unroutable since).
        step_id = (
            escalation.steps.filter(reason=EscalationStep.Reason.UNROUTABLE)
            .order_by("-created_at", "-id")
            .values_list("pk", flat=True)
            .first()
        )
        subject, body = _unroutable_email(escalation)
        recipients = administrator_addresses()
        told = audit_once(
            action="escalation.admins_told",
            target=escalation,
            key=f"step:{step_id}",
            after={"step": step_id, "recipients": len(recipients)},
            reason=subject,
            subject=escalation.decision.made_by,
        )
        if not told:
            return False
        queued = email_queue_to_administrators(
            key=f"escalation:{escalation.pk}:unroutable:{step_id}", subject=subject, body=body
        )
    return queued > 0


def _unroutable_email(escalation: Escalation) -> tuple[str, str]:
    """The administrators' e-mail about an unroutable escalation, in the site's language (they have
    no language of their own here)."""
    decision = escalation.decision
    values = {
        "id": escalation.pk,
        "requester": decision.made_by,
        "type": decision.decision_type,
        "amount": Money(decision.amount, decision.currency),  # written in the site's language below
        "case": decision.case_id,
        "url": f"{settings.SITE_URL}/admin/delegation/escalation/{escalation.pk}/change/",
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = str(_("Escalation #%(id)s is unroutable")) % values
        body = (
            str(
                _(
                    "Nobody above %(requester)s can approve %(type)s of %(amount)s on case "
                    "#%(case)s, so the customer is waiting.\n\nOnce someone's authority covers it, open "
                    'it in the admin and choose "Route again": %(url)s'
                )
            )
            % values
        )
    return subject, body


@transaction.atomic
def escalation_reroute(*, escalation_id: int, actor: Employee | None, reason: str) -> Escalation:
    """Send an unroutable escalation back to routing, e.g. once someone's authority was raised to
    cover it. It is routed again from where it stood; if still nobody covers it, it becomes
    unroutable again and the administrators are told again. Only unroutable ones (409 otherwise).
    """
    reason = required_reason(reason)
    escalation = lock_escalation(escalation_id)
    if escalation.status != Escalation.Status.UNROUTABLE:
        raise Conflict(
            _("Only an unroutable escalation can be routed again; this one is %(status)s.")
            % {"status": escalation.get_status_display().lower()},
            code="not_unroutable",
        )
    now = timezone.now()
    escalation.move_to(
        Escalation.Status.ROUTING,
        reason=EscalationStep.Reason.REROUTED,
        at=now,
        routing_since=now,
        due_at=None,
        remind_at=None,
    )
    audit(
        actor=actor,
        action="escalation.rerouted",
        target=escalation,
        before={"status": Escalation.Status.UNROUTABLE},
        after={"status": escalation.status, "level": escalation.level},
        reason=reason,
        subject=escalation.decision.made_by,
    )
    enqueue_routing(escalation.pk)
    return escalation


def lock_escalation(escalation_id: int) -> Escalation:
    escalation = (
        Escalation.objects.select_for_update(of=("self",))
        .select_related(
            "decision__decision_type", "decision__case", "decision__made_by__user", "approver", "assigned_to__user"
        )
        .filter(pk=escalation_id)
        .first()
    )
    if escalation is None:
        raise NotFound(_("No such escalation."), code="escalation_not_found")
    return escalation


def escalation_move_up(*, escalation: Escalation, reason: str, actor: Employee | None = None) -> Escalation:
    """Send a locked, open escalation one level up: route again from above its current approver.

    The previous assignee and the requester are told why; the new assignee hears from routing.
    """
    previous = escalation.assigned_to
    now = timezone.now()
    escalation.move_to(
        Escalation.Status.ROUTING,
        reason=reason,
        at=now,
        step_assigned_to=previous,
        route_above=escalation.approver or escalation.route_above,
        level=escalation.level + 1,
        routing_since=now,
        due_at=None,  # the old deadline was the previous approver's; routing sets a new one
        remind_at=None,
    )
    audit(
        actor=actor,
        action="escalation.moved_up",
        target=escalation,
        before={"assigned_to": previous and previous.username, "level": escalation.level - 1},
        after={"status": escalation.status, "level": escalation.level},
        reason=str(EscalationStep.Reason(reason).label),
        subject=escalation.decision.made_by,
    )
    enqueue_routing(escalation.pk)
    label = EscalationStep.Reason(reason).label
    for person in {previous, escalation.decision.made_by} - {None}:
        tell_of_step(
            escalation,
            recipient=person,
            event=f"moved:{escalation.level}",
            text=_("Escalation #%(id)s (%(type)s %(amount)s) moved up a level: %(why)s"),
            why=label,
        )
    return escalation


def escalation_review(*, escalation_id: int) -> str | None:
    """Move an assigned escalation up when its deadline has passed or its approver can no longer cover it.

    Safe to run any number of times: it acts only on an escalation still assigned and due.
    """
    with transaction.atomic():
        escalation = (
            Escalation.objects.select_for_update(of=("self",))
            .select_related(
                "decision__decision_type", "decision__case", "decision__made_by__user", "approver", "assigned_to__user"
            )
            .filter(pk=escalation_id, status=Escalation.Status.ASSIGNED)
            .first()
        )
        if escalation is None:
            return None
        now = timezone.now()
        if escalation.is_overdue(now):
            reason = EscalationStep.Reason.OVERDUE
        elif not _approver_covers(escalation, now):
            reason = EscalationStep.Reason.CAPACITY
        else:
            return None
        escalation_move_up(escalation=escalation, reason=reason)
    return reason


def _approver_covers(escalation: Escalation, now) -> bool:
    decision = escalation.decision
    held = authority_snapshot(
        employee=escalation.approver,
        decision_type_id=decision.decision_type_id,
        customer_id=decision.case.customer_id,
        at=now,
    )
    return held.covers(decision.amount)
