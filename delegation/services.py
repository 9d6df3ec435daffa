"""Writes for authority and decisions. Every path (pages, API, admin, tasks) calls these."""

import hashlib
import logging
from datetime import timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from delegation.authority import CAPS, Limits, exceeded_limits, nearest_covering
from delegation.deadlines import add_working_hours
from delegation.models import (
    AuthorityLimit,
    Decision,
    DecisionType,
    Delegation,
    Escalation,
    EscalationStep,
    Heartbeat,
    UsageCounter,
)
from delegation.selectors import (
    CounterKeys,
    active_stand_ins,
    counter_keys,
    delegations_held,
    may_answer,
    own_limits,
    response_hours,
    usage_from,
)
from empower.errors import Conflict, InvalidInput, NotAllowed, NotFound
from empower.models import AuditRecord, Case, Employee
from empower.selectors import chain_above, is_above
from empower.services import (
    audit,
    email_administrators,
    enqueue_after_commit,
    ensure_may_act_on_case,
    lazy_message,
    notify,
)

logger = logging.getLogger(__name__)

MAX_AMOUNT = Decimal("1000000000.00")


def validate_amount(value, *, field: str = "amount") -> Decimal:
    """A positive, finite amount with at most two decimals and below an absurd ceiling."""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        amount = None
    if amount is None or not amount.is_finite():
        message = _("Enter an amount such as 80.00.")
    elif amount <= 0:
        message = _("The amount must be greater than zero.")
    elif amount.as_tuple().exponent < -2:
        message = _("Use at most two decimal places.")
    elif amount > MAX_AMOUNT:
        message = _("The amount is too large.")
    else:
        return amount.quantize(Decimal("0.01"))
    raise InvalidInput(message, field_errors={field: [message]})


def _locked_usage(keys: list[str]) -> dict[str, UsageCounter]:
    """Create the counter rows if needed and lock them, always in key order so no two approvals deadlock."""
    keys = sorted(set(keys))
    UsageCounter.objects.bulk_create([UsageCounter(key=k) for k in keys], ignore_conflicts=True)
    return {c.key: c for c in UsageCounter.objects.select_for_update().filter(key__in=keys).order_by("key")}


def _count(counters: dict[str, UsageCounter], keys: CounterKeys, amount: Decimal) -> None:
    for key in keys.all():
        counter = counters[key]
        counter.amount += amount
        counter.save(update_fields=["amount"])


def _fingerprint(*, case: Case, decision_type: DecisionType, amount: Decimal, rationale: str) -> str:
    raw = f"{case.pk}|{decision_type.code}|{amount:.2f}|{rationale}"
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def decision_submit(
    *,
    employee: Employee,
    case: Case,
    decision_type: DecisionType,
    amount,
    rationale: str,
    idempotency_key: str | None = None,
) -> Decision:
    """Decide for the customer, or escalate what goes beyond the employee's authority.

    Within authority (own, or held as a stand-in) the decision is approved here, in this
    transaction, and the caps' counters move under a row lock. Beyond it, the decision is
    recorded as escalated with the limits it broke and routed by a task after commit.
    The same idempotency key with the same request answers the first decision again.
    """
    rationale = (rationale or "").strip()
    try:
        amount = validate_amount(amount)
    except InvalidInput as invalid:
        if not rationale:  # report both at once
            invalid.field_errors["rationale"] = [_("Say why: the rationale is required.")]
        raise
    if not rationale:
        message = _("Say why: the rationale is required.")
        raise InvalidInput(message, field_errors={"rationale": [message]})
    if not decision_type.is_active:
        message = _("This decision type is not in use.")
        raise InvalidInput(message, field_errors={"decision_type": [message]})
    ensure_may_act_on_case(employee=employee, case=case)

    fingerprint = _fingerprint(case=case, decision_type=decision_type, amount=amount, rationale=rationale)
    if idempotency_key:
        # Serialize one employee's keyed submissions so a retry racing the original waits for it.
        Employee.objects.select_for_update().filter(pk=employee.pk).exists()
        earlier = Decision.objects.filter(made_by=employee, idempotency_key=idempotency_key).first()
        if earlier:
            if earlier.request_fingerprint != fingerprint:
                raise Conflict(_("This idempotency key was used for another request."), code="idempotency_conflict")
            return earlier
    if case.status != Case.Status.OPEN:
        raise Conflict(_("This case is resolved; reopen it to decide."), code="case_resolved")

    now = timezone.now()
    held = [d for d in delegations_held(employee=employee, at=now) if decision_type in d.decision_types.all()]
    holders = [employee, *(d.delegator for d in held)]
    limits = own_limits(employees=holders, decision_type_ids=[decision_type.pk], at=now)
    keys = {
        h.pk: counter_keys(holder_id=h.pk, decision_type_id=decision_type.pk, customer_id=case.customer_id, at=now)
        for h in holders
    }
    counters = _locked_usage([k for ck in keys.values() for k in ck.all()])
    amounts = {key: c.amount for key, c in counters.items()}

    # Own authority first; then what the employee holds as a stand-in, on the delegator's caps.
    verdicts = [(h, limits[(h.pk, decision_type.pk)]) for h in holders]
    own_exceeded = exceeded_limits(verdicts[0][1], usage_from(amounts, keys[employee.pk]), amount)
    holder, holder_limits = next(
        ((h, lim) for h, lim in verdicts if not exceeded_limits(lim, usage_from(amounts, keys[h.pk]), amount)),
        (None, verdicts[0][1]),
    )
    decision = Decision(
        case=case,
        decision_type=decision_type,
        made_by=employee,
        amount=amount,
        currency=settings.EMPOWER_CURRENCY,
        rationale=rationale,
        idempotency_key=idempotency_key or None,
        request_fingerprint=fingerprint,
        limits_snapshot=_snapshot(holder_limits, usage_from(amounts, keys[(holder or employee).pk])),
        created_at=now,
    )
    if holder is not None:
        _count(counters, keys[holder.pk], amount)
        decision.status = Decision.Status.APPROVED
        decision.within_authority = True
        decision.final_amount = amount
        decision.approved_by = employee
        decision.authority_of = holder
        decision.decided_at = now
        decision.save()
        audit(
            actor=employee,
            action="decision.approved",
            target=decision,
            after=_decision_state(decision),
            reason=rationale,
            subject=employee,
            on_behalf_of=holder if holder != employee else None,
        )
        return decision

    decision.status = Decision.Status.ESCALATED
    decision.within_authority = False
    decision.exceeded = own_exceeded
    decision.save()
    escalation = Escalation.objects.create(
        decision=decision, route_above=employee, exceeded=own_exceeded, created_at=now, routing_since=now
    )
    audit(
        actor=employee,
        action="decision.escalated",
        target=decision,
        after=_decision_state(decision) | {"exceeded": own_exceeded},
        reason=rationale,
        subject=employee,
    )
    _enqueue_routing(escalation.pk)
    return decision


def _snapshot(limits: Limits, usage) -> dict:
    return limits.as_dict() | {
        "used_today": f"{usage.today:.2f}",
        "used_this_month": f"{usage.this_month:.2f}",
        "customer_used_this_month": f"{usage.customer_this_month:.2f}",
    }


def _decision_state(decision: Decision) -> dict:
    return {
        "status": decision.status,
        "amount": decision.amount,
        "final_amount": decision.final_amount,
        "decision_type": decision.decision_type.code,
        "case": decision.case_id,
    }


def _enqueue_routing(escalation_id: int) -> None:
    """Route after commit. If the broker is down the escalation waits in "routing" for the sweep."""
    enqueue_after_commit("delegation.tasks.route_escalation", escalation_id)


def _review_escalations_of(*, approver: Employee, decision_type: DecisionType) -> None:
    """After an approver's limits change, check at once whether they still cover what waits for them."""
    waiting = Escalation.objects.filter(
        approver=approver, status=Escalation.Status.ASSIGNED, decision__decision_type=decision_type
    ).values_list("pk", flat=True)
    for escalation_id in waiting:
        enqueue_after_commit("delegation.tasks.review_escalation", escalation_id)


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
        limits = own_limits(employees=chain, decision_type_ids=[type_id], at=now)
        keys = {
            e.pk: counter_keys(holder_id=e.pk, decision_type_id=type_id, customer_id=decision.case.customer_id, at=now)
            for e in chain
        }
        amounts = dict(
            UsageCounter.objects.filter(key__in=[k for ck in keys.values() for k in ck.all()]).values_list(
                "key", "amount"
            )
        )
        candidates = [(e.pk, limits[(e.pk, type_id)], usage_from(amounts, keys[e.pk])) for e in chain]
        approver_id = nearest_covering(candidates, decision.amount)
        before = {"status": escalation.status, "assigned_to": None}
        if approver_id is None:
            escalation.status = Escalation.Status.UNROUTABLE
            escalation.approver = escalation.assigned_to = None
            escalation.due_at = None  # nobody's deadline: it waits for an administrator
            reason = EscalationStep.Reason.UNROUTABLE
        else:
            approver = next(e for e in chain if e.pk == approver_id)
            stand_in = active_stand_ins(employee_ids=[approver.pk], at=now).get((approver.pk, type_id))
            use_stand_in = stand_in is not None and stand_in.pk != requester.pk and stand_in.is_active
            escalation.status = Escalation.Status.ASSIGNED
            escalation.approver = approver
            escalation.assigned_to = stand_in if use_stand_in else approver
            escalation.due_at = add_working_hours(now, response_hours(escalation=escalation))
            reason = EscalationStep.Reason.STAND_IN if use_stand_in else EscalationStep.Reason.ROUTED
        escalation.routed_at = now
        escalation.save(update_fields=["status", "approver", "assigned_to", "due_at", "routed_at"])
        EscalationStep.objects.create(
            escalation=escalation,
            level=escalation.level,
            status=escalation.status,
            assigned_to=escalation.assigned_to,
            reason=reason,
            created_at=now,
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
                _("%(requester)s asks you to decide: %(type)s %(amount)s %(currency)s on case #%(case)s."),
                requester=decision.made_by,
                type=decision.decision_type.name,
                amount=decision.amount,
                currency=decision.currency,
                case=decision.case_id,
            ),
            url=url,
        )
        return
    # Nobody above covers it: the administrators hear of it by e-mail, from a worker (never
    # in a request: SMTP may be slow), once (`escalation_unroutable_announce`).
    enqueue_after_commit("delegation.tasks.announce_unroutable", escalation.pk)


def escalation_unroutable_announce(*, escalation_id: int) -> bool:
    """Tell the administrators that nobody above covers an escalation, once each time it becomes
    unroutable: by e-mail to ADMIN_EMAILS, else to the active superusers.

    Runs in a worker. An audit record written after sending keeps a second delivery of the task
    from telling them again; an escalation routed again meanwhile needs no telling.
    """
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
    told = AuditRecord.objects.filter(
        action="escalation.admins_told",
        target_type=escalation._meta.label_lower,
        target_id=str(escalation.pk),
        after__step=step_id,
    )
    if told.exists():
        return False
    decision = escalation.decision
    values = {
        "id": escalation.pk,
        "requester": decision.made_by,
        "type": decision.decision_type.name,
        "amount": f"{decision.amount:.2f}",
        "currency": decision.currency,
        "case": decision.case_id,
        "url": f"{settings.SITE_URL}/admin/delegation/escalation/{escalation.pk}/change/",
    }
    # Administrators have no language of their own here: the site's.
    with translation.override(settings.LANGUAGE_CODE):
        subject = str(_("Escalation #%(id)s is unroutable")) % values
        body = (
            str(
                _(
                    "Nobody above %(requester)s can approve %(type)s of %(amount)s %(currency)s on case "
                    "#%(case)s, so the customer is waiting.\n\nOnce someone's authority covers it, open "
                    'it in the admin and choose "Route again": %(url)s'
                )
            )
            % values
        )
    recipients = email_administrators(subject=subject, body=body)
    audit(
        actor=None,
        action="escalation.admins_told",
        target=escalation,
        after={"step": step_id, "recipients": recipients},
        reason=subject,
        subject=decision.made_by,
    )
    return recipients > 0


@transaction.atomic
def escalation_reroute(*, escalation_id: int, actor: Employee | None, reason: str) -> Escalation:
    """Send an unroutable escalation back to routing, e.g. once someone's authority was raised to
    cover it. It is routed again from where it stood; if still nobody covers it, it becomes
    unroutable again and the administrators are told again. Only unroutable ones (409 otherwise).
    """
    reason = _required_reason(reason)
    escalation = _lock_escalation(escalation_id)
    if escalation.status != Escalation.Status.UNROUTABLE:
        raise Conflict(
            _("Only an unroutable escalation can be routed again; this one is %(status)s.")
            % {"status": escalation.get_status_display().lower()},
            code="not_unroutable",
        )
    now = timezone.now()
    escalation.status = Escalation.Status.ROUTING
    escalation.routing_since = now
    escalation.due_at = None
    escalation.save(update_fields=["status", "routing_since", "due_at"])
    EscalationStep.objects.create(
        escalation=escalation,
        level=escalation.level,
        status=escalation.status,
        assigned_to=None,
        reason=EscalationStep.Reason.REROUTED,
        created_at=now,
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
    _enqueue_routing(escalation.pk)
    return escalation


def _lock_escalation(escalation_id: int) -> Escalation:
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


def _ensure_may_answer(escalation: Escalation, actor: Employee) -> None:
    """Who may answer, in the contract's order: the requester never (403); anyone but the approver
    or the approver's active stand-in for this type (`may_answer`) is refused (403); only then is
    an escalation that is not waiting for an answer a conflict (409)."""
    if escalation.decision.made_by_id == actor.pk:
        raise NotAllowed(_("Nobody approves their own decision."), code="own_decision")
    if not may_answer(escalation=escalation, employee=actor):
        raise NotAllowed(_("This escalation is assigned to someone else."), code="not_assignee")
    if escalation.status != Escalation.Status.ASSIGNED:
        raise Conflict(
            _("This escalation is already %(status)s.") % {"status": escalation.get_status_display().lower()},
            code="already_decided",
        )


def escalation_answer_check(*, escalation_id: int, actor: Employee) -> None:
    """Refuse, before any input is read, whoever may not answer this escalation now: unknown 404,
    not theirs 403, not waiting for an answer 409. Approving and rejecting check it again under lock."""
    escalation = Escalation.objects.select_related("decision").filter(pk=escalation_id).first()
    if escalation is None:
        raise NotFound(_("No such escalation."), code="escalation_not_found")
    _ensure_may_answer(escalation, actor)


def _lock_open_escalation(*, escalation_id: int, actor: Employee) -> Escalation:
    escalation = _lock_escalation(escalation_id)
    _ensure_may_answer(escalation, actor)
    return escalation


def _authority_holder(escalation: Escalation, actor: Employee) -> Employee:
    """Whose authority an approval uses: the approver's, also when their stand-in acts."""
    return escalation.approver or actor


def escalation_approve(*, escalation_id: int, approver: Employee, note: str = "", amount=None) -> Decision:
    """Approve an escalated decision, optionally for a lower amount, with a note to the employee.

    Approval uses the approver's own caps at this moment; where they no longer cover it, the
    escalation moves up a level and the approval is refused (409). Who may answer is checked
    before the amount (403 and 409 come before 400).
    """
    moved_up = False
    with transaction.atomic():
        escalation = _lock_open_escalation(escalation_id=escalation_id, actor=approver)
        decision = escalation.decision
        final_amount = decision.amount if amount in (None, "") else validate_amount(amount)
        if final_amount > decision.amount:
            message = _("You can approve the requested amount or less, not more.")
            raise InvalidInput(message, field_errors={"amount": [message]})
        holder = _authority_holder(escalation, approver)
        now = timezone.now()
        type_id = decision.decision_type_id
        keys = counter_keys(
            holder_id=holder.pk, decision_type_id=type_id, customer_id=decision.case.customer_id, at=now
        )
        counters = _locked_usage(keys.all())
        limits = own_limits(employees=[holder], decision_type_ids=[type_id], at=now)[(holder.pk, type_id)]
        usage = usage_from({k: c.amount for k, c in counters.items()}, keys)
        if exceeded_limits(limits, usage, final_amount):
            escalation_move_up(escalation=escalation, reason=EscalationStep.Reason.CAPACITY, actor=approver)
            moved_up = True
        else:
            _count(counters, keys, final_amount)
            before = _decision_state(decision)
            decision.status = Decision.Status.APPROVED
            decision.final_amount = final_amount
            decision.approved_by = approver
            decision.authority_of = holder
            decision.decided_at = now
            # The maker's snapshot (the limits that escalated it) stays; the approver's is kept beside it.
            decision.approval_snapshot = _snapshot(limits, usage) | {"authority_of": holder.username}
            decision.save(
                update_fields=[
                    "status",
                    "final_amount",
                    "approved_by",
                    "authority_of",
                    "decided_at",
                    "approval_snapshot",
                ]
            )
            _answer(escalation, approver, Escalation.Status.APPROVED, note, now, decision_before=before)
    if moved_up:
        raise Conflict(
            _("Your remaining authority no longer covers this; it has moved up a level."), code="approver_capacity"
        )
    return decision


def escalation_reject(*, escalation_id: int, approver: Employee, note: str) -> Decision:
    """Reject an escalated decision; the note, which is required, tells the employee why.

    Who may answer is checked before the note (403 and 409 come before 400).
    """
    note = (note or "").strip()
    with transaction.atomic():
        escalation = _lock_open_escalation(escalation_id=escalation_id, actor=approver)
        if not note:
            message = _("Tell the employee why: a note is required.")
            raise InvalidInput(message, field_errors={"note": [message]})
        decision = escalation.decision
        now = timezone.now()
        before = _decision_state(decision)
        decision.status = Decision.Status.REJECTED
        decision.approved_by = None
        decision.decided_at = now
        decision.save(update_fields=["status", "approved_by", "decided_at"])
        _answer(escalation, approver, Escalation.Status.REJECTED, note, now, decision_before=before)
    return decision


def _answer(escalation: Escalation, approver: Employee, status: str, note: str, now, *, decision_before: dict) -> None:
    """Close an escalation with the approver's answer: audit both rows and tell the requester."""
    decision = escalation.decision
    holder = _authority_holder(escalation, approver)
    _close(escalation, approver, status, note, now)
    audit(
        actor=approver,
        action=f"decision.{status}",
        target=decision,
        before=decision_before,
        after=_decision_state(decision),
        reason=note,
        subject=decision.made_by,
        on_behalf_of=holder if holder != approver else None,
    )
    _tell_requester(escalation)


def _close(escalation: Escalation, actor: Employee, status: str, note: str, now) -> None:
    before = {"status": escalation.status}
    escalation.status = status
    escalation.note = (note or "").strip()
    escalation.decided_by = actor
    escalation.decided_at = now
    escalation.save(update_fields=["status", "note", "decided_by", "decided_at"])
    EscalationStep.objects.create(
        escalation=escalation,
        level=escalation.level,
        status=status,
        assigned_to=escalation.assigned_to,
        reason=EscalationStep.Reason(status),
        created_at=now,
    )
    audit(
        actor=actor,
        action=f"escalation.{status}",
        target=escalation,
        before=before,
        after={"status": status},
        reason=escalation.note,
        subject=escalation.decision.made_by,
    )


def _tell_requester(escalation: Escalation) -> None:
    decision = escalation.decision
    if escalation.status == Escalation.Status.APPROVED:
        message = _("%(approver)s approved your %(type)s of %(amount)s %(currency)s on case #%(case)s. %(note)s")
    else:
        message = _("%(approver)s rejected your %(type)s of %(amount)s %(currency)s on case #%(case)s. %(note)s")
    notify(
        recipient=decision.made_by,
        key=f"escalation:{escalation.pk}:{escalation.status}",
        message=lazy_message(
            message,
            approver=escalation.decided_by,
            type=decision.decision_type.name,
            amount=decision.final_amount or decision.amount,
            currency=decision.currency,
            case=decision.case_id,
            note=escalation.note,
        ),
        url=f"/cases/{decision.case_id}/",
    )


def escalation_move_up(*, escalation: Escalation, reason: str, actor: Employee | None = None) -> Escalation:
    """Send a locked, open escalation one level up: route again from above its current approver.

    The previous assignee and the requester are told why; the new assignee hears from routing.
    """
    previous = escalation.assigned_to
    escalation.route_above = escalation.approver or escalation.route_above
    escalation.level += 1
    escalation.status = Escalation.Status.ROUTING
    escalation.routing_since = timezone.now()
    escalation.due_at = None  # the old deadline was the previous approver's; routing sets a new one
    escalation.save(update_fields=["route_above", "level", "status", "routing_since", "due_at"])
    EscalationStep.objects.create(
        escalation=escalation, level=escalation.level, status=escalation.status, assigned_to=previous, reason=reason
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
    _enqueue_routing(escalation.pk)
    label = EscalationStep.Reason(reason).label
    for person in {previous, escalation.decision.made_by} - {None}:
        _tell_of_step(
            escalation,
            recipient=person,
            event=f"moved:{escalation.level}",
            text=_("Escalation #%(id)s (%(type)s %(amount)s %(currency)s) moved up a level: %(why)s"),
            why=label,
        )
    return escalation


def _tell_of_step(escalation: Escalation, *, recipient: Employee, event: str, text, why) -> None:
    """Tell someone, once per `event`, of a step on an escalation's path; `text` names the escalation
    (%(id)s, %(type)s, %(amount)s, %(currency)s) and why it moved (%(why)s)."""
    decision = escalation.decision
    notify(
        recipient=recipient,
        key=f"escalation:{escalation.pk}:{event}",
        message=lazy_message(
            text,
            id=escalation.pk,
            type=decision.decision_type.name,
            amount=decision.amount,
            currency=decision.currency,
            why=why,
        ),
        url=f"/escalations/{escalation.pk}/",
    )


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
        if escalation.due_at and escalation.due_at <= now:
            reason = EscalationStep.Reason.OVERDUE
        elif not _approver_covers(escalation, now):
            reason = EscalationStep.Reason.CAPACITY
        else:
            return None
        escalation_move_up(escalation=escalation, reason=reason)
    return reason


def _approver_covers(escalation: Escalation, now) -> bool:
    decision = escalation.decision
    holder = escalation.approver
    type_id = decision.decision_type_id
    keys = counter_keys(holder_id=holder.pk, decision_type_id=type_id, customer_id=decision.case.customer_id, at=now)
    amounts = dict(UsageCounter.objects.filter(key__in=keys.all()).values_list("key", "amount"))
    limits = own_limits(employees=[holder], decision_type_ids=[type_id], at=now)[(holder.pk, type_id)]
    return not exceeded_limits(limits, usage_from(amounts, keys), decision.amount)


def escalation_withdraw(*, escalation_id: int, employee: Employee, reason: str = "") -> Decision:
    """The requester takes back a pending escalation; the assignee is told."""
    with transaction.atomic():
        escalation = _lock_escalation(escalation_id)
        decision = escalation.decision
        if decision.made_by_id != employee.pk:
            raise NotAllowed(_("Only the employee who asked can withdraw an escalation."), code="not_requester")
        if not escalation.is_open:
            raise Conflict(
                _("This escalation is already %(status)s.") % {"status": escalation.get_status_display().lower()},
                code="already_decided",
            )
        now = timezone.now()
        before = _decision_state(decision)
        decision.status = Decision.Status.WITHDRAWN
        decision.decided_at = now
        decision.save(update_fields=["status", "decided_at"])
        audit(
            actor=employee,
            action="decision.withdrawn",
            target=decision,
            before=before,
            after=_decision_state(decision),
            reason=reason,
            subject=employee,
        )
        _close(escalation, employee, Escalation.Status.WITHDRAWN, reason, now)
        if escalation.assigned_to:
            notify(
                recipient=escalation.assigned_to,
                key=f"escalation:{escalation.pk}:withdrawn",
                message=lazy_message(
                    _("%(requester)s withdrew escalation #%(id)s."), requester=employee, id=escalation.pk
                ),
                url=f"/escalations/{escalation.pk}/",
            )
    return decision


def heartbeat_record(*, name: str = "worker") -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"seen_at": timezone.now()})


# --- Operators' changes (Django admin) -------------------------------------------------------


def authority_limit_state(limit: AuthorityLimit) -> dict:
    """What an audit record shows of a limit: whose it is, for which type, its caps and its window."""
    return {
        "decision_type": limit.decision_type.code,
        "role": limit.role.code if limit.role_id else None,
        "employee": limit.employee.username if limit.employee_id else None,
        **limit.values(),
        "starts_at": limit.starts_at,
        "ends_at": limit.ends_at,
    }


def ensure_not_own_limit(*, limit: AuthorityLimit, actor: Employee | None) -> None:
    """Nobody changes a limit that applies to themselves: their personal one or their role's default."""
    if actor is not None and (limit.employee_id == actor.pk or (limit.role_id and limit.role_id == actor.role_id)):
        raise NotAllowed(_("Nobody changes their own limits."), code="own_limits")


def _required_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why: a reason is required.")
        raise InvalidInput(message, field_errors={"reason": [message]})
    return reason


def authority_limit_check(*, limit: AuthorityLimit, actor: Employee | None) -> None:
    """Whether `actor` may save `limit` (unsaved, with its new values) as it stands; raises the refusal.

    An employee (also one with admin access) is held to the same rules as on the pages and the API:
    a personal limit only for someone below them, a role's default only for a role ranked below
    theirs, never their own, never above what they hold. An operator who is not an employee
    (`actor` None) may set any values. For everyone: a temporary limit needs an end and may not
    overlap another window of the same person and type.
    """
    now = timezone.now()
    _window_from_now(limit, now)
    if actor is not None:
        _ensure_may_change(limit=limit, actor=actor)
        values = {cap: getattr(limit, cap) for cap in CAPS}
        _ensure_within_granters_own(granter=actor, decision_type=limit.decision_type, values=values, at=now)
    _check_window(limit)


def authority_limit_delete_check(*, limit: AuthorityLimit, actor: Employee | None) -> None:
    """Whether `actor` may remove `limit`: the same people who may change it (an operator always)."""
    if actor is not None:
        _ensure_may_change(limit=limit, actor=actor)


def _ensure_may_change(*, limit: AuthorityLimit, actor: Employee) -> None:
    """Never one's own; a person's limit only from above them; a role's default only from a higher role."""
    ensure_not_own_limit(limit=limit, actor=actor)
    if limit.employee_id:
        _ensure_may_grant_to(granter=actor, employee=limit.employee)
    else:
        _ensure_may_set_role(granter=actor, role=limit.role)


@transaction.atomic
def authority_limit_save(
    *, limit: AuthorityLimit, before: dict | None, actor: Employee | None, reason: str
) -> AuthorityLimit:
    """Save a role's default or a person's limit as set in the admin, auditing before and after.

    `before` is `authority_limit_state()` of the row as it was (None for a new one). A reason is
    required and `authority_limit_check` must allow it. `actor` is None for an administrator who
    is not an employee: the reason then names them. Whoever's effective limits change is told and
    the escalations waiting for them are checked again, as after `limit_set` / `role_limit_set`.
    """
    reason = _required_reason(reason)
    if limit.employee_id:
        _lock_limits_of(limit.employee)
    authority_limit_check(limit=limit, actor=actor)
    limit = _limit_save_audited(limit=limit, before=before, actor=actor, reason=reason)
    _limit_changed(limit, key=f"limit:{limit.pk}:{timezone.now().isoformat()}")
    return limit


def _limit_save_audited(
    *, limit: AuthorityLimit, before: dict | None, actor: Employee | None, reason: str, values: dict | None = None
) -> AuthorityLimit:
    """Apply the caps in `values` (if given), save, and audit the change from `before`."""
    for cap, value in (values or {}).items():
        setattr(limit, cap, value)
    limit.reason = reason
    limit.set_by = actor
    limit.save()
    audit(
        actor=actor,
        action="limit.created" if before is None else "limit.changed",
        target=limit,
        before=before,
        after=authority_limit_state(limit),
        reason=reason,
        subject=limit.employee,
    )
    return limit


@transaction.atomic
def authority_limit_delete(*, limit: AuthorityLimit, actor: Employee | None, reason: str) -> None:
    """Remove a limit (a person then falls back to their role's), auditing what it was.

    `authority_limit_delete_check` must allow it; whoever's effective limits change is told and the
    escalations waiting for them are checked again.
    """
    reason = _required_reason(reason)
    authority_limit_delete_check(limit=limit, actor=actor)
    audit(
        actor=actor,
        action="limit.deleted",
        target=limit,
        before=authority_limit_state(limit),
        after=None,
        reason=reason,
        subject=limit.employee,
    )
    key = f"limit-deleted:{limit.pk}:{timezone.now().isoformat()}"
    limit.delete()
    _limit_changed(limit, key=key)


@transaction.atomic
def delegation_end(*, delegation: Delegation, actor: Employee | None, at=None, reason: str = "") -> Delegation:
    """End a delegation now (or at `at`): from then the stand-in no longer holds the delegator's authority.

    Ending one that is already over is refused (409). The change is audited and both people are told,
    and the open escalations the stand-in holds for the delegator go back (`_hand_back_escalations`).
    """
    at = at or timezone.now()
    delegation = (
        Delegation.objects.select_for_update(of=("self",))
        .select_related("delegator__user", "delegate__user")
        .get(pk=delegation.pk)
    )
    if (
        actor is not None
        and actor.pk != delegation.delegator_id
        and not is_above(manager=actor, employee=delegation.delegator)
    ):
        raise NotAllowed(_("Only the delegator or someone above them may end it."), code="not_above")
    if delegation.ends_at <= at or (delegation.ended_at is not None and delegation.ended_at <= at):
        raise Conflict(_("This delegation has already ended."), code="delegation_ended")
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
    _announce_delegation(delegation, "ended")
    _hand_back_escalations(delegation, actor=actor, now=max(at, timezone.now()))
    return delegation


def _hand_back_escalations(delegation: Delegation, *, actor: Employee | None, now) -> int:
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
            escalation.assigned_to, reason = successor, EscalationStep.Reason.STAND_IN
        else:
            escalation.assigned_to, reason = delegation.delegator, EscalationStep.Reason.STAND_IN_ENDED
        escalation.save(update_fields=["assigned_to"])
        EscalationStep.objects.create(
            escalation=escalation,
            level=escalation.level,
            status=escalation.status,
            assigned_to=escalation.assigned_to,
            reason=reason,
            created_at=now,
        )
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
        _tell_of_step(
            escalation,
            recipient=escalation.assigned_to,
            event=f"handed-back:{delegation.pk}",
            text=_("Escalation #%(id)s (%(type)s %(amount)s %(currency)s) waits for your answer: %(why)s"),
            why=label,
        )
    return len(escalations)


# --- Managers shape authority: personal and role limits, stand-ins ---------------------------


def _limit_values(values: dict) -> dict[str, Decimal | None]:
    """Each cap: a non-negative amount with two decimals, or None for "no limit"."""
    cleaned, errors = {}, {}
    for cap in CAPS:
        raw = values.get(cap)
        if raw in (None, ""):
            cleaned[cap] = None
            continue
        try:
            amount = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
        except (InvalidOperation, ValueError):
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount > MAX_AMOUNT:
            errors[cap] = [_("Enter an amount such as 80.00, or leave it empty for no limit.")]
        elif amount.as_tuple().exponent < -2:
            errors[cap] = [_("Use at most two decimal places.")]
        else:
            cleaned[cap] = amount.quantize(Decimal("0.01"))
    if errors:
        raise InvalidInput(_("Some limits are not valid amounts."), field_errors=errors)
    return cleaned


def _ensure_within_granters_own(*, granter: Employee, decision_type: DecisionType, values: dict, at) -> None:
    """Nobody grants more than they hold: each cap at most the granter's own; "no limit" only from no limit."""
    own = own_limits(employees=[granter], decision_type_ids=[decision_type.pk], at=at)[(granter.pk, decision_type.pk)]
    too_high = {}
    for cap, value in values.items():
        granters = getattr(own, cap)
        if granters is None:
            continue
        if value is None or value > granters:
            too_high[cap] = [
                _("At most %(limit)s: you cannot grant more than you hold.") % {"limit": f"{granters:.2f}"}
            ]
    if too_high:
        raise NotAllowed(
            _("You cannot grant more than you hold yourself."), code="above_own_limit", field_errors=too_high
        )


def _ensure_may_grant_to(*, granter: Employee, employee: Employee) -> None:
    if granter.pk == employee.pk:
        raise NotAllowed(_("Nobody changes their own limits."), code="own_limits")
    if not is_above(manager=granter, employee=employee):
        raise NotAllowed(
            _("Only someone above %(employee)s in the chain of command may change their limits.")
            % {"employee": employee},
            code="not_above",
        )


def _ensure_may_set_role(*, granter: Employee, role) -> None:
    if granter.role_id == role.pk or granter.role.rank <= role.rank:
        raise NotAllowed(_("Only someone of a higher role may change this role's limits."), code="not_above")


def _authority_changed(*, employee: Employee, decision_type: DecisionType, key: str) -> None:
    notify(
        recipient=employee,
        key=key,
        message=lazy_message(_("Your authority for %(type)s has changed."), type=decision_type.name),
        url="/authority/me/",
    )


def _review_escalations_waiting_for(*, approver_ids: list[int], decision_type: DecisionType) -> None:
    """After several approvers' limits change (a role's default), check what waits for them, as
    `_review_escalations_of` does for one."""
    waiting = Escalation.objects.filter(
        approver_id__in=approver_ids, status=Escalation.Status.ASSIGNED, decision__decision_type=decision_type
    ).values_list("pk", flat=True)
    for escalation_id in waiting:
        enqueue_after_commit("delegation.tasks.review_escalation", escalation_id)


def _personal_limit_changed(*, employee: Employee, decision_type: DecisionType, key: str) -> None:
    """Tell the employee, and check at once whether they still cover the escalations waiting for them."""
    _authority_changed(employee=employee, decision_type=decision_type, key=key)
    _review_escalations_of(approver=employee, decision_type=decision_type)


def _role_limit_changed(*, role, decision_type: DecisionType, key: str) -> None:
    """A role's default changed: tell everyone it applies to, and check what waits for them.

    It applies to the active people of that role without a standing personal limit for the type
    (someone in a temporary window is told too: the default applies again when the window ends).
    """
    standing = AuthorityLimit.objects.filter(
        employee=OuterRef("pk"), decision_type=decision_type, starts_at__isnull=True, ends_at__isnull=True
    )
    people = list(
        Employee.objects.filter(role=role, user__is_active=True).filter(~Exists(standing)).select_related("user")
    )
    message = lazy_message(
        _("The %(role)s role's limits for %(type)s have changed; they apply to you."),
        role=role.name,
        type=decision_type.name,
    )
    for person in people:
        notify(recipient=person, key=key, message=message, url="/authority/me/")
    _review_escalations_waiting_for(approver_ids=[p.pk for p in people], decision_type=decision_type)


def _limit_changed(limit: AuthorityLimit, *, key: str) -> None:
    """After a personal or role limit was saved or removed: tell whoever it concerns, review their escalations."""
    if limit.employee_id:
        _personal_limit_changed(employee=limit.employee, decision_type=limit.decision_type, key=key)
    else:
        _role_limit_changed(role=limit.role, decision_type=limit.decision_type, key=key)


def _window_from_now(limit: AuthorityLimit, now) -> None:
    """A window given only an end starts now."""
    if limit.ends_at is not None and limit.starts_at is None:
        limit.starts_at = now


def _check_window(limit: AuthorityLimit) -> None:
    """The rules of a temporary limit (every path).

    Only a person's limit runs for a window, and a window has an end: a start alone would make a
    second standing limit that beats the real one for ever. One person's windows for a type never
    overlap, so which one applies is never a guess.
    """
    if limit.starts_at is None and limit.ends_at is None:
        return
    if limit.employee_id is None:
        message = _("Only a personal limit can run for a window; leave the dates empty.")
        raise InvalidInput(message, field_errors={"starts_at": [message]})
    if limit.ends_at is None:
        message = _("A temporary limit needs an end (“until”); leave both dates empty for a standing limit.")
        raise InvalidInput(message, field_errors={"ends_at": [message]})
    if limit.starts_at is not None and limit.ends_at <= limit.starts_at:
        message = _("The end must be after the start, and in the future.")
        raise InvalidInput(message, field_errors={"ends_at": [message]})
    overlapping = AuthorityLimit.objects.filter(
        employee_id=limit.employee_id, decision_type_id=limit.decision_type_id, ends_at__isnull=False
    ).filter(Q(starts_at__isnull=True) | Q(starts_at__lt=limit.ends_at))
    if limit.starts_at is not None:
        overlapping = overlapping.filter(ends_at__gt=limit.starts_at)
    if limit.pk is not None:
        overlapping = overlapping.exclude(pk=limit.pk)
    other = overlapping.order_by("starts_at").first()
    if other is not None:

        def shown(moment) -> str:
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"

        raise Conflict(
            _(
                "%(employee)s already has a temporary limit for %(type)s from %(starts)s until %(ends)s: "
                "end it first, or choose a window that does not overlap."
            )
            % {
                "employee": limit.employee,
                "type": limit.decision_type,
                "starts": shown(other.starts_at),
                "ends": shown(other.ends_at),
            },
            code="limit_window_overlaps",
        )


def _effective_state(*, employee: Employee, decision_type: DecisionType, at) -> dict:
    """What an audit record shows of someone's effective limits for a type at a moment."""
    limits = own_limits(employees=[employee], decision_type_ids=[decision_type.pk], at=at)
    return {"decision_type": decision_type.code, **limits[(employee.pk, decision_type.pk)].as_dict()}


def _limit_event_once(
    limit: AuthorityLimit, action: str, *, at, actor: Employee | None = None, reason: str = ""
) -> bool:
    """Record that a temporary limit started or expired at `at`, once (the record is the key), with the
    employee's effective limits just before and from then; True when this call wrote it.

    The effective limits are read from the limits as they stand now, so a row changed since the
    event shows its current values."""
    exists = AuditRecord.objects.filter(
        action=action, target_type=limit._meta.label_lower, target_id=str(limit.pk)
    ).exists()
    if exists:
        return False
    employee, decision_type = limit.employee, limit.decision_type
    audit(
        actor=actor,
        action=action,
        target=limit,
        before=_effective_state(employee=employee, decision_type=decision_type, at=at - timedelta(microseconds=1)),
        after=_effective_state(employee=employee, decision_type=decision_type, at=at),
        reason=reason or str(_("On schedule")),
        subject=employee,
    )
    return True


def _window_end(window: AuthorityLimit, *, actor: Employee | None, reason: str, now) -> None:
    """End a temporary limit at `now`: one running is cut short (its row keeps its history), one
    not yet started is called off (removed). Audited as `limit.ended`, which the periodic
    announcement takes as the end (no `limit.expired` follows)."""
    before = authority_limit_state(window)
    if window.starts_at is None or window.starts_at < now:
        window.ends_at = now
        window.save(update_fields=["ends_at", "updated_at"])
        after = authority_limit_state(window)
    else:
        after = None
    audit(
        actor=actor,
        action="limit.ended",
        target=window,
        before=before,
        after=after,
        reason=reason,
        subject=window.employee,
    )
    if after is None:
        window.delete()


def _lock_limits_of(employee: Employee) -> None:
    """Serialize changes to one person's limits, so two windows set at once cannot overlap."""
    Employee.objects.select_for_update().filter(pk=employee.pk).exists()


def _standing_limit(*, employee: Employee, decision_type: DecisionType) -> AuthorityLimit | None:
    return (
        AuthorityLimit.objects.select_for_update()
        .filter(employee=employee, decision_type=decision_type, starts_at__isnull=True, ends_at__isnull=True)
        .first()
    )


@transaction.atomic
def limit_set(
    *,
    granter: Employee,
    employee: Employee,
    decision_type: DecisionType,
    values: dict,
    reason: str,
    starts_at=None,
    ends_at=None,
) -> AuthorityLimit:
    """Set an employee's personal limits for one type (replacing their role's), for good or for a window.

    Only someone above the employee may; never their own; no cap above the granter's own. A
    lowered limit judges the very next decision. The employee is told, and the escalations
    waiting for them are checked again.

    A temporary limit needs `ends_at`; it starts at `starts_at` or now (never in the past: history
    is not rewritten) and may not overlap another window of the same type (409). While a window
    runs it applies; the standing limit may still be changed, and applies again when it ends.
    """
    reason = _required_reason(reason)
    _ensure_may_grant_to(granter=granter, employee=employee)
    cleaned = _limit_values(values)
    now = timezone.now()
    temporary = starts_at is not None or ends_at is not None
    if temporary:
        if ends_at is None:
            message = _("A temporary limit needs an end (“until”); leave both dates empty for a standing limit.")
            raise InvalidInput(message, field_errors={"ends_at": [message]})
        starts_at = max(starts_at or now, now)
        if ends_at <= starts_at:
            message = _("The end must be after the start, and in the future.")
            raise InvalidInput(message, field_errors={"ends_at": [message]})
    _ensure_within_granters_own(granter=granter, decision_type=decision_type, values=cleaned, at=now)
    _lock_limits_of(employee)
    if temporary:
        before = None
        limit = AuthorityLimit(employee=employee, decision_type=decision_type, starts_at=starts_at, ends_at=ends_at)
        _check_window(limit)
    else:
        limit = _standing_limit(employee=employee, decision_type=decision_type)
        before = authority_limit_state(limit) if limit else None
        limit = limit or AuthorityLimit(employee=employee, decision_type=decision_type)
    _limit_save_audited(limit=limit, before=before, actor=granter, reason=reason, values=cleaned)
    key = f"limit:{limit.pk}:{now.isoformat()}"
    if temporary and starts_at <= now:
        # It runs from now: record its start here, so the periodic announcement does not tell it again.
        _limit_event_once(limit, "limit.started", at=starts_at, actor=granter, reason=reason)
        key = f"limit:{limit.pk}:started"
    _personal_limit_changed(employee=employee, decision_type=decision_type, key=key)
    return limit


@transaction.atomic
def limit_clear(*, granter: Employee, employee: Employee, decision_type: DecisionType, reason: str) -> None:
    """Return an employee to their role's limits for one type: remove their standing personal limit
    and end their temporary ones (one running stops now, scheduled ones are called off).

    The same people as for `limit_set`; nothing personal to clear: 409.
    """
    reason = _required_reason(reason)
    _ensure_may_grant_to(granter=granter, employee=employee)
    _lock_limits_of(employee)
    now = timezone.now()
    rows = list(
        AuthorityLimit.objects.select_for_update(of=("self",))
        .select_related("decision_type", "employee__user")
        .filter(employee=employee, decision_type=decision_type)
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("pk")
    )
    if not rows:
        raise Conflict(_("There is no personal limit to clear."), code="no_personal_limit")
    for row in rows:
        if row.ends_at is not None:
            _window_end(row, actor=granter, reason=reason, now=now)
            continue
        audit(
            actor=granter,
            action="limit.deleted",
            target=row,
            before=authority_limit_state(row),
            after=None,
            reason=reason,
            subject=employee,
        )
        row.delete()
    _personal_limit_changed(
        employee=employee, decision_type=decision_type, key=f"limit-cleared:{employee.pk}:{now.isoformat()}"
    )


@transaction.atomic
def limit_window_end(
    *, granter: Employee, employee: Employee, decision_type: DecisionType, window_id: int, reason: str
) -> None:
    """End one temporary limit now: a running one stops (the standing or role limits apply again at
    once), a scheduled one is called off. The same people as for `limit_set`; the employee is told.

    Not a temporary limit of this employee and type: 404; already over: 409.
    """
    reason = _required_reason(reason)
    _ensure_may_grant_to(granter=granter, employee=employee)
    _lock_limits_of(employee)
    window = (
        AuthorityLimit.objects.select_for_update(of=("self",))
        .select_related("decision_type", "employee__user")
        .filter(pk=window_id, employee=employee, decision_type=decision_type, ends_at__isnull=False)
        .first()
    )
    if window is None:
        raise NotFound(_("No such temporary limit."), code="no_such_window")
    now = timezone.now()
    if window.ends_at <= now:
        raise Conflict(_("This temporary limit has already ended."), code="window_ended")
    pk = window.pk
    _window_end(window, actor=granter, reason=reason, now=now)
    _personal_limit_changed(employee=employee, decision_type=decision_type, key=f"limit:{pk}:ended")


@transaction.atomic
def role_limit_set(
    *, granter: Employee, role, decision_type: DecisionType, values: dict, reason: str
) -> AuthorityLimit:
    """Set a role's default limits: only someone of a higher rank, never for their own role,
    and never above what the granter holds. Everyone the default applies to is told, and the
    escalations waiting for them are checked again."""
    reason = _required_reason(reason)
    _ensure_may_set_role(granter=granter, role=role)
    cleaned = _limit_values(values)
    _ensure_within_granters_own(granter=granter, decision_type=decision_type, values=cleaned, at=timezone.now())
    limit = AuthorityLimit.objects.select_for_update().filter(role=role, decision_type=decision_type).first()
    before = authority_limit_state(limit) if limit else None
    limit = limit or AuthorityLimit(role=role, decision_type=decision_type)
    limit = _limit_save_audited(limit=limit, before=before, actor=granter, reason=reason, values=cleaned)
    key = f"role-limit:{limit.pk}:{timezone.now().isoformat()}"
    _role_limit_changed(role=role, decision_type=decision_type, key=key)
    return limit


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
    reason = _required_reason(reason)
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
        _announce_delegation(delegation, "started")
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
                "starts": timezone.localtime(existing.starts_at).strftime("%Y-%m-%d %H:%M"),
                "ends": timezone.localtime(existing.ended_at or existing.ends_at).strftime("%Y-%m-%d %H:%M"),
            },
            code="delegation_overlaps",
        )


def _announce_delegation(delegation: Delegation, event: str) -> None:
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
                until=timezone.localtime(delegation.ends_at).strftime("%Y-%m-%d %H:%M"),
            ),
            url="/delegations/",
        )


def authority_changes_announce(*, now=None) -> int:
    """Periodic: tell people when scheduled delegations and temporary limits start or end.

    Each event is audited and announced once (the notification key and the audit check
    make a second run do nothing).
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
                if _audited_once(delegation, f"delegation.{action}", delegation.delegator, before=before, after=after):
                    _announce_delegation(delegation, event)
                    told += 1
                    if event == "ended":
                        _hand_back_escalations(delegation, actor=None, now=now)
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
            AuthorityLimit.objects.select_for_update().filter(pk=limit.pk).exists()  # one run records it
            if not _limit_event_once(limit, f"limit.{event}", at=at):
                continue
            told += 1
            if event == "started" and limit.ends_at is not None and limit.ends_at <= now:
                continue
            _personal_limit_changed(
                employee=limit.employee, decision_type=limit.decision_type, key=f"limit:{limit.pk}:{event}"
            )
    return told


def _not_recorded(model, *actions: str) -> Exists:
    """Rows of `model` with no audit record of any of `actions` (the record is the once-only key)."""
    records = AuditRecord.objects.filter(
        target_type=model._meta.label_lower, target_id=Cast(OuterRef("pk"), CharField()), action__in=actions
    )
    return ~Exists(records)


def _audited_once(target, action: str, subject: Employee, *, before=None, after=None) -> bool:
    """Write the audit record of a timed event unless it exists; True when this call wrote it."""
    exists = AuditRecord.objects.filter(
        action=action, target_type=target._meta.label_lower, target_id=str(target.pk)
    ).exists()
    if not exists:
        audit(
            actor=None,
            action=action,
            target=target,
            subject=subject,
            before=before,
            after=after,
            reason=str(_("On schedule")),
        )
    return not exists
