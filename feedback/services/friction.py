"""Policy-friction reports: "this rule stopped me from helping this customer". Filed by staff on a
case, seconded by colleagues, answered (accept, explain, pass up) by the manager above, moved up the
chain when overdue.
"""

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.deadlines import add_working_hours
from delegation.models import Decision, DecisionType
from empower.errors import InvalidInput, NotFound
from empower.models import Case, Employee
from empower.selectors import chain_above
from empower.services import audit, ensure_may_act_on_case, lazy_message, notify
from feedback import selectors
from feedback.models import REPLY_MAX, FrictionAnswer, FrictionReport, FrictionSecond
from feedback.services.changes import ChangeInput, change_announce, change_apply, change_clean
from feedback.services.common import _assignee, _first_active, _text, _when, hand_up


def _report_url(report: FrictionReport) -> str:
    return reverse("feedback:report-detail", args=[report.pk])


@transaction.atomic
def friction_report_file(
    *,
    reporter: Employee,
    case: Case,
    would_have_done: str,
    decision: Decision | None = None,
    decision_type: DecisionType | None = None,
    limit: str = "",
    rule_text: str = "",
) -> FrictionReport:
    """ "This rule stopped me from helping this customer": filed on a case the reporter may act on,
    naming a rule (a decision type, optionally one of its limits, or free text), for their manager to
    answer (or the manager's stand-in, while they are away). A decision named must be on the case, and
    of the decision type named, if one is.
    """
    ensure_may_act_on_case(employee=reporter, case=case)
    if decision is not None:
        if decision.case_id != case.pk:
            message = _("This decision is not on this case.")
            raise InvalidInput(message, field_errors={"decision": [message]})
        if decision_type is not None and decision_type.pk != decision.decision_type_id:
            message = _("This is not the decision type of the decision you chose.")
            raise InvalidInput(message, field_errors={"decision_type": [message]})
        decision_type = decision_type or decision.decision_type
    rule_text = _text(rule_text, field="rule_text", max_length=300)
    limit = limit or ""
    if limit and limit not in FrictionReport.Limit.values:
        message = _("Choose one of the limits.")
        raise InvalidInput(message, field_errors={"limit": [message]})
    if limit and decision_type is None:
        message = _("Say which decision type this limit is for.")
        raise InvalidInput(message, field_errors={"decision_type": [message]})
    if decision_type is None and not rule_text:
        message = _("Name the rule: a decision type, or the rule in your words.")
        raise InvalidInput(message, field_errors={"rule_text": [message]})
    would_have_done = _text(
        would_have_done,
        field="would_have_done",
        max_length=REPLY_MAX,
        required=True,
        required_message=_("Say what you would have done for the customer."),
    )
    manager = _first_active(chain_above(employee=reporter))
    if manager is None:
        raise InvalidInput(_("Nobody stands above you to answer; you may change this rule yourself."))
    now = timezone.now()
    assignee, on_behalf_of = _assignee(manager, never={reporter.pk}, now=now)
    report = FrictionReport.objects.create(
        reporter=reporter,
        team_id=reporter.team_id,
        case=case,
        decision=decision,
        decision_type=decision_type,
        limit=limit,
        rule_text=rule_text,
        would_have_done=would_have_done,
        assigned_to=assignee,
        on_behalf_of=on_behalf_of,
        due_at=add_working_hours(now, settings.FEEDBACK_REPORT_WORKING_HOURS),
        created_at=now,
    )
    audit(
        actor=reporter,
        action="friction.filed",
        target=report,
        after={
            "rule": report.rule_label,
            "case": case.pk,
            "assigned_to": assignee.username,
            "on_behalf_of": on_behalf_of and on_behalf_of.username,
            "due_at": report.due_at,
        },
        reason=would_have_done,
        subject=reporter,
    )
    notify(
        recipient=assignee,
        key=f"friction:{report.pk}:assigned:1",
        message=lazy_message(
            _("%(name)s reports a rule that stopped them helping a customer (%(rule)s); please answer by %(due)s."),
            name=reporter,
            rule=report.rule_label,
            due=_when(report.due_at),
        ),
        url=_report_url(report),
    )
    return report


def _locked_report(report_id: int) -> FrictionReport:
    report = (
        FrictionReport.objects.select_for_update(of=("self",))
        .select_related("reporter__user", "assigned_to__user", "on_behalf_of__user", "decision_type")
        .filter(pk=report_id)
        .first()
    )
    if report is None:
        raise NotFound(_("No such report, or not one you may see."))
    return report


def friction_report_second(*, report_id: int, employee: Employee, note: str = "") -> FrictionSecond:
    """A colleague of the same team says "this stops me too"; once each, never one's own report, and
    never the manager who must answer it or anyone above the reporter (they answer, not second).
    """
    note = _text(note, field="note", max_length=500)
    with transaction.atomic():
        report = _locked_report(report_id)
        if refusal := selectors.second_refusal(employee=employee, report=report):
            raise refusal
        second = FrictionSecond.objects.create(report=report, employee=employee, note=note)
        audit(
            actor=employee,
            action="friction.seconded",
            target=report,
            after={"seconded_by": employee.username},
            reason=note,
            subject=report.reporter,
        )
        notify(
            recipient=report.reporter,
            key=f"friction:{report.pk}:second:{employee.pk}",
            message=lazy_message(
                _("%(name)s seconded your report about %(rule)s."), name=employee, rule=report.rule_label
            ),
            url=_report_url(report),
        )
    return second


def friction_report_answer(
    *, report_id: int, employee: Employee, outcome: str, note: str, change: ChangeInput | None = None
) -> FrictionReport:
    """The manager answers: accept (naming what changes: `change`, see `feedback.services.changes`),
    explain why the rule stays, or pass it up.

    The assignee or anyone above them answers, never the reporter; the reporter and those who
    seconded the report are told. Accepting without naming a change is refused (400); a limit or role
    default given with values is applied through the granting rules in the same transaction (a
    refusal there refuses the whole answer).
    """
    with transaction.atomic():
        report = _locked_report(report_id)
        if refusal := selectors.answer_refusal(employee=employee, report=report):
            raise refusal
        if outcome not in FrictionAnswer.Outcome.values:
            message = _("Choose accept, explain or pass it up.")
            raise InvalidInput(message, field_errors={"outcome": [message]})
        note = _text(
            note,
            field="note",
            max_length=REPLY_MAX,
            required=True,
            required_message=_("Write your answer to the employee."),
        )
        if outcome == FrictionAnswer.Outcome.ACCEPT:
            change = change_clean(report=report, change=change)
        now = timezone.now()
        if outcome == FrictionAnswer.Outcome.PASS_UP:
            FrictionAnswer.objects.create(report=report, by=employee, outcome=outcome, note=note, created_at=now)
            if not _report_pass_up(report, actor=employee, reason="passed_up", now=now, note=note):
                message = _("Nobody stands above you to pass it to: accept or explain.")
                raise InvalidInput(message, field_errors={"outcome": [message]})
            return report
        status = (
            FrictionReport.Status.ACCEPTED
            if outcome == FrictionAnswer.Outcome.ACCEPT
            else FrictionReport.Status.EXPLAINED
        )
        before = {"status": report.status, "assigned_to": report.assigned_to.username}
        report.move_to(status, by=employee, note=note, now=now)
        audit(
            actor=employee,
            action=f"friction.{status}",
            target=report,
            before=before,
            after={"status": status},
            reason=note,
            subject=report.reporter,
        )
        if status == FrictionReport.Status.ACCEPTED and change_apply(
            report=report, change=change, by=employee, now=now
        ):
            change_announce(report=report, by=employee)
        seconders = [s.employee for s in report.seconds.select_related("employee__user")]
        for person in [report.reporter, *seconders]:
            notify(
                recipient=person,
                key=f"friction:{report.pk}:answered",
                message=lazy_message(
                    _("%(name)s answered the report about %(rule)s: %(outcome)s."),
                    name=employee,
                    rule=report.rule_label,
                    outcome=FrictionReport.Status(report.status).label,
                ),
                url=_report_url(report),
            )
    return report


def friction_report_change(*, report_id: int, employee: Employee, change: ChangeInput) -> FrictionReport:
    """Keep the promise of an accepted report: apply the limit or role default it names (through the
    granting rules), or link the change that did it; the reporter and those who seconded are told.
    Whoever accepted it or anyone above them (`selectors.change_refusal`); already done: 409."""
    with transaction.atomic():
        report = _locked_report(report_id)
        if refusal := selectors.change_refusal(employee=employee, report=report):
            raise refusal
        change.kind = change.kind or report.change_kind
        change.text = change.text or report.change_text
        change.decision_type = change.decision_type or report.change_decision_type
        change.employee = change.employee or report.change_employee
        change.role = change.role or report.change_role
        change = change_clean(report=report, change=change)
        if (
            not change.values
            and not change.record_id
            and change.kind
            in (
                FrictionReport.Change.LIMIT,
                FrictionReport.Change.ROLE_DEFAULT,
            )
        ):
            message = _("Give the new values, or link the change that did it.")
            raise InvalidInput(message, field_errors={"change_record": [message]})
        if change_apply(report=report, change=change, by=employee, now=timezone.now()):
            change_announce(report=report, by=employee)
    return report


def _report_pass_up(
    report: FrictionReport, *, actor: Employee | None, reason: str, now: datetime, note: str = ""
) -> bool:
    """Hand a locked, open report to the next active manager above the one whose turn it was (the
    assignee, or whom they stood in for), or to that manager's stand-in, with a new deadline.
    """
    handed = hand_up(
        report,
        never={report.reporter_id},
        due_at=add_working_hours(now, settings.FEEDBACK_REPORT_WORKING_HOURS),
        now=now,
        action="friction.moved_up",
        actor=actor,
        reason=note or reason,
        subject=report.reporter,
    )
    if handed is None:
        return False
    previous, assignee = handed
    url = _report_url(report)
    notify(
        recipient=assignee,
        key=f"friction:{report.pk}:assigned:{report.level}",
        message=lazy_message(
            _("A report about %(rule)s by %(name)s comes to you from %(previous)s; please answer by %(due)s."),
            rule=report.rule_label,
            name=report.reporter,
            previous=previous,
            due=_when(report.due_at),
        ),
        url=url,
    )
    notify(
        recipient=report.reporter,
        key=f"friction:{report.pk}:moved:{report.level}",
        message=lazy_message(
            _("Your report about %(rule)s went up to %(name)s."), rule=report.rule_label, name=assignee
        ),
        url=url,
    )
    return True


def friction_report_move_up(*, report_id: int, now: datetime | None = None) -> FrictionReport | None:
    """An unanswered report past its deadline moves to the next manager up; safe to run twice."""
    now = now or timezone.now()
    with transaction.atomic():
        report = (
            FrictionReport.objects.select_for_update(of=("self",))
            .select_related("reporter__user", "assigned_to__user", "on_behalf_of__user", "decision_type")
            .filter(pk=report_id, status=FrictionReport.Status.OPEN, due_at__lte=now)
            .first()
        )
        if report is None or not _report_pass_up(report, actor=None, reason="overdue", now=now):
            return None
    return report
