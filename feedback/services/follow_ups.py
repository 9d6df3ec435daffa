"""Follow-ups: a human answer to an unhappy customer, owed by a deadline. Opened frontline first (the
employee who resolved the case), replied to once, moved up the chain when overdue.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import Decision, DecisionType
from delegation.services import decision_submit
from empower.errors import NotFound
from empower.models import Employee
from empower.selectors import chain_above
from empower.services import audit, lazy_message, notify
from feedback import selectors
from feedback.models import REPLY_MAX, FollowUp, Survey
from feedback.services.common import _assignee, _first_active, _text, _when, hand_up
from feedback.services.email import reply_email_queue


def _follow_up_url(follow_up: FollowUp) -> str:
    return reverse("feedback:follow-up-detail", args=[follow_up.pk])


def _follow_up_open(
    *, survey: Survey, reason: str, customer_message: str = "", actor: Employee | None = None
) -> FollowUp:
    """Open a follow-up, frontline first: the employee who resolved the case knows the customer."""
    case = survey.case
    resolver = Employee.objects.select_related("user").get(pk=selectors.survey_resolver_id(survey))
    now = timezone.now()
    holder = _first_active([resolver, *chain_above(employee=resolver)]) or resolver
    assignee, on_behalf_of = _assignee(holder, never={resolver.pk}, now=now)
    try:
        with transaction.atomic():
            follow_up = FollowUp.objects.create(
                survey=survey,
                case=case,
                reason=reason,
                customer_message=customer_message,
                resolver=resolver,
                assigned_to=assignee,
                on_behalf_of=on_behalf_of,
                due_at=now + timedelta(hours=settings.FEEDBACK_FOLLOW_UP_HOURS),
                created_at=now,
            )
    except IntegrityError:  # one open follow-up per survey: a concurrent one won
        return survey.follow_ups.get(status=FollowUp.Status.OPEN)
    audit(
        actor=actor,
        action="follow_up.opened",
        target=follow_up,
        after={
            "reason": reason,
            "assigned_to": assignee.username,
            "on_behalf_of": on_behalf_of and on_behalf_of.username,
            "due_at": follow_up.due_at,
        },
        subject=resolver,
    )
    notify(
        recipient=assignee,
        key=f"follow-up:{follow_up.pk}:assigned:{follow_up.level}",
        message=lazy_message(
            _("An unhappy customer on case #%(case)s needs your follow-up by %(due)s (%(reason)s)."),
            case=case.pk,
            due=_when(follow_up.due_at),
            reason=FollowUp.Reason(follow_up.reason).label,  # lazy: in the recipient's language
        ),
        url=_follow_up_url(follow_up),
    )
    return follow_up


def follow_up_reply(*, follow_up_id: int, employee: Employee, action_taken: str, reply: str) -> FollowUp:
    """Record what was done and answer the customer; they see it on their survey page and by e-mail.

    Only the assignee, the employee who resolved the case and anyone above them may reply; once.
    """
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("case__customer", "survey", "resolver__user", "assigned_to__user")
            .filter(pk=follow_up_id)
            .first()
        )
        if follow_up is None:
            raise NotFound(_("No such follow-up, or not one you may see."))
        if refusal := selectors.reply_refusal(employee=employee, follow_up=follow_up):
            raise refusal
        action_taken = _text(
            action_taken,
            field="action_taken",
            max_length=REPLY_MAX,
            required=True,
            required_message=_("Say what was done for the customer."),
        )
        reply = _text(
            reply, field="reply", max_length=REPLY_MAX, required=True, required_message=_("Write to the customer.")
        )
        before = {"status": follow_up.status, "assigned_to": follow_up.assigned_to.username}
        follow_up.move_to(FollowUp.Status.DONE, by=employee, action_taken=action_taken, reply=reply)
        audit(
            actor=employee,
            action="follow_up.replied",
            target=follow_up,
            before=before,
            after={"status": follow_up.status, "on_time": follow_up.replied_at <= follow_up.due_at},
            reason=action_taken,
            subject=follow_up.resolver,
        )
        if employee.pk != follow_up.resolver_id:
            notify(
                recipient=follow_up.resolver,
                key=f"follow-up:{follow_up.pk}:replied",
                message=lazy_message(
                    _("%(name)s answered the customer of case #%(case)s."), name=employee, case=follow_up.case_id
                ),
                url=_follow_up_url(follow_up),
            )
        reply_email_queue(follow_up=follow_up)
    return follow_up


def follow_up_move_up(*, follow_up_id: int, now: datetime | None = None) -> FollowUp | None:
    """An open follow-up past its deadline goes to the next active manager above the person whose turn
    it was (the assignee, or whom they stood in for), or to that manager's stand-in while they are
    away, with a new deadline.

    Safe to run any number of times: it acts only on a row still open and due, claimed under a lock.
    At the top of the chain it stays where it is (and shows as overdue).
    """
    now = now or timezone.now()
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("assigned_to__user", "on_behalf_of__user", "resolver__user")
            .filter(pk=follow_up_id, status=FollowUp.Status.OPEN, due_at__lte=now)
            .first()
        )
        if follow_up is None:
            return None
        handed = hand_up(
            follow_up,
            never={follow_up.resolver_id},
            due_at=now + timedelta(hours=settings.FEEDBACK_FOLLOW_UP_HOURS),
            now=now,
            action="follow_up.moved_up",
            actor=None,
            reason="overdue",
            subject=follow_up.resolver,
        )
        if handed is None:
            return None
        previous, assignee = handed
        url = _follow_up_url(follow_up)
        notify(
            recipient=assignee,
            key=f"follow-up:{follow_up.pk}:assigned:{follow_up.level}",
            message=lazy_message(
                _("A follow-up on case #%(case)s was not answered in time by %(name)s; it is yours now, due %(due)s."),
                case=follow_up.case_id,
                name=previous,
                due=_when(follow_up.due_at),
            ),
            url=url,
        )
        for person in {previous, follow_up.resolver} - {assignee}:
            notify(
                recipient=person,
                key=f"follow-up:{follow_up.pk}:moved:{follow_up.level}",
                message=lazy_message(
                    _("The follow-up on case #%(case)s was overdue and moved to %(name)s."),
                    case=follow_up.case_id,
                    name=assignee,
                ),
                url=url,
            )
    return follow_up


def follow_up_remedy(
    *,
    follow_up_id: int,
    employee: Employee,
    decision_type: DecisionType,
    amount,
    rationale: str,
    story: str = "",
    idempotency_key: str | None = None,
) -> Decision:
    """The follow-up's handler puts it right with a decision on the (resolved) case: a refund, a
    goodwill credit… Only who may reply to the open follow-up (its assignee, the employee who resolved
    the case, anyone above them), and then exactly as any decision: the same authority check, caps and
    escalation (`decision_submit`). The case stays resolved, so the customer is not surveyed again."""
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("case__customer", "resolver__user", "assigned_to__user")
            .filter(pk=follow_up_id)
            .first()
        )
        if follow_up is None:
            raise NotFound(_("No such follow-up, or not one you may see."))
        if refusal := selectors.reply_refusal(employee=employee, follow_up=follow_up):
            raise refusal
        decision = decision_submit(
            employee=employee,
            case=follow_up.case,
            decision_type=decision_type,
            amount=amount,
            rationale=rationale,
            story=story,
            idempotency_key=idempotency_key,
            remedy=True,
        )
        audit(
            actor=employee,
            action="follow_up.remedy",
            target=follow_up,
            after={"decision": decision.pk, "status": decision.status, "amount": decision.amount},
            reason=decision.rationale,
            subject=follow_up.resolver,
        )
    return decision
