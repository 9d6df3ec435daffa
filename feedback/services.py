"""Writes for the feedback loop: asking customers, following up on unhappy ones, staff's friction reports.

Every path (the customer's page, staff pages, the API, admin, the periodic task) calls these; each
function is one action in one transaction, audits itself and tells the people concerned.
"""

import logging
import re
from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from delegation.deadlines import add_working_hours
from delegation.models import Decision, DecisionType
from delegation.selectors import active_stand_ins
from empower.errors import Conflict, DomainError, InvalidInput, NotAllowed, NotFound
from empower.models import Case, Employee
from empower.selectors import chain_above
from empower.services import audit, case_resolved, enqueue_after_commit, ensure_may_act_on_case, lazy_message, notify
from feedback import selectors
from feedback.models import COMMENT_MAX, REPLY_MAX, FollowUp, FrictionAnswer, FrictionReport, FrictionSecond, Survey

logger = logging.getLogger(__name__)

TOKEN_SALT = "feedback.survey"
# Business rules tunable in settings, read at each call (FEEDBACK_SURVEY_DAYS: how long a survey link
# works; FEEDBACK_FOLLOW_UP_HOURS: how long a follow-up may wait, in calendar hours since the customer
# waits on weekends too; FEEDBACK_REPORT_WORKING_HOURS: a manager's working hours to answer a report).
MAX_COMPLAINTS = 3  # per survey: enough to say "still not right" twice, not enough to flood a team
LOW_CSAT = 2


class LinkExpired(DomainError):
    status = 410
    code = "expired"


# --- text from the outside world ---------------------------------------------------------------

# Control characters (NUL breaks PostgreSQL) and bidirectional overrides (which disguise text) go;
# line breaks and tabs stay. HTML is kept as typed and escaped wherever it is shown.
_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def clean_text(value) -> str:
    return _UNWANTED.sub("", str(value or "")).replace("\r\n", "\n").replace("\r", "\n").strip()


def _text(value, *, field: str, max_length: int, required: bool = False, required_message=None) -> str:
    text = clean_text(value)
    if required and not text:
        message = required_message or _("This field is required.")
        raise InvalidInput(message, field_errors={field: [message]})
    if len(text) > max_length:
        message = _("Please keep it to %(max)d characters (this has %(length)d).") % {
            "max": max_length,
            "length": len(text),
        }
        raise InvalidInput(message, field_errors={field: [message]})
    return text


# --- survey links ------------------------------------------------------------------------------


class _SurveySigner(signing.TimestampSigner):
    """Signs with the survey's creation time: every link to one survey is the same and expires with it."""

    def __init__(self, *, at: datetime | None = None):
        super().__init__(salt=TOKEN_SALT)
        self._at = at

    def timestamp(self) -> str:
        if self._at is None:
            return super().timestamp()
        return signing.b62_encode(int(self._at.timestamp()))


def survey_token(*, survey: Survey) -> str:
    return _SurveySigner(at=survey.created_at).sign(str(survey.pk))


def survey_url(*, survey: Survey) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("feedback:survey", args=[survey_token(survey=survey)])


def survey_expires_at(*, survey: Survey) -> datetime:
    """A link lives FEEDBACK_SURVEY_DAYS from the survey's last news: sent, answered, a follow-up
    opened (a complaint) or replied to.

    Expiry stops late answers, not reading: a customer who answered on day 29 still reads the reply
    that came on day 31.
    """
    news = [survey.created_at, survey.answered_at or survey.created_at]
    for follow_up in survey.follow_ups.all():
        news += [follow_up.created_at, follow_up.replied_at or follow_up.created_at]
    last_news = max(news)
    return last_news + timedelta(days=settings.FEEDBACK_SURVEY_DAYS)


def survey_from_token(*, token: str) -> Survey:
    """The survey a customer's link opens. Tampered or unknown: 404; past its life: 410."""
    try:
        survey_id = int(_SurveySigner().unsign(token))
    except (signing.BadSignature, ValueError) as error:
        raise NotFound(_("This link is not valid."), code="unknown_link") from error
    survey = selectors.survey_for_customer(survey_id=survey_id)
    if survey is None:
        raise NotFound(_("This link is not valid."), code="unknown_link")
    if timezone.now() > survey_expires_at(survey=survey):
        raise LinkExpired(_("This link has expired."), code="expired")
    return survey


# --- asking the customer -----------------------------------------------------------------------


@transaction.atomic
def survey_request(*, case: Case) -> Survey:
    """Ask the customer of a resolved case how it went: once per case, by e-mail after commit."""
    survey, created = Survey.objects.get_or_create(
        case=case, defaults={"team_id": case.team_id, "resolved_by_id": case.resolved_by_id}
    )
    if created:
        enqueue_after_commit("feedback.tasks.send_survey_email", survey.pk)
    return survey


@receiver(case_resolved)
def _on_case_resolved(sender, case: Case, **kwargs) -> None:
    survey_request(case=case)


def _send(*, to: str, language: str, template: str, context: dict) -> None:
    with translation.override(language):
        subject = " ".join(render_to_string(f"feedback/email/{template}_subject.txt", context).split())
        body = render_to_string(f"feedback/email/{template}_body.txt", context)
    send_mail(subject=subject[:200], message=body, from_email=None, recipient_list=[to])


def send_survey_email(*, survey_id: int) -> bool:
    """E-mail the survey link in the customer's language; the row is claimed first so it goes once."""
    claimed = Survey.objects.filter(pk=survey_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    survey = Survey.objects.select_related("case__customer").get(pk=survey_id)
    customer = survey.case.customer
    context = {
        "first_name": customer.first_name,
        "subject": survey.case.subject,
        "url": survey_url(survey=survey),
        "days": settings.FEEDBACK_SURVEY_DAYS,
    }
    sent = False
    try:
        _send(to=customer.email, language=customer.language, template="survey", context=context)
        sent = True
    except OSError:
        logger.exception("Survey e-mail %s could not be sent", survey_id)
    finally:
        if not sent:  # also when a task's time limit interrupts: release the claim so a retry sends it
            Survey.objects.filter(pk=survey_id).update(emailed_at=None)
    return sent


def survey_answer(*, survey_id: int, csat, nps=None, comment: str = "", comment_is_complaint: bool = False) -> Survey:
    """Record the customer's answer, once. A low score (CSAT 1-2) or a comment flagged as a complaint
    opens a follow-up for the employee who resolved the case.
    """
    csat = _score(csat, field="csat", low=1, high=5, message=_("Choose a score from 1 to 5."))
    nps = None if nps in (None, "") else _score(nps, field="nps", low=0, high=10, message=_("Choose 0 to 10."))
    comment = _text(comment, field="comment", max_length=COMMENT_MAX)
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("case").get(pk=survey_id)
        if survey.is_answered:
            raise Conflict(_("You have already answered: thank you."), code="already_answered")
        survey.csat, survey.nps, survey.comment = csat, nps, comment
        survey.comment_is_complaint = bool(comment_is_complaint)
        survey.answered_at = timezone.now()
        survey.save(update_fields=["csat", "nps", "comment", "comment_is_complaint", "answered_at"])
        audit(
            actor=None,
            action="survey.answered",
            target=survey,
            after={"csat": csat, "nps": nps, "complaint": survey.comment_is_complaint},
            subject=survey.resolved_by,
        )
        if survey.is_low_score:
            _follow_up_open(survey=survey, reason=FollowUp.Reason.LOW_SCORE)
        elif survey.comment_is_complaint:
            _follow_up_open(survey=survey, reason=FollowUp.Reason.FLAGGED_COMMENT)
    return survey


def _score(value, *, field: str, low: int, high: int, message) -> int:
    try:
        score = int(value)
        if isinstance(value, float | bool) or str(score) != str(value).strip():
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput(message, field_errors={field: [message]}) from None
    if not low <= score <= high:
        raise InvalidInput(message, field_errors={field: [message]})
    return score


def survey_complain(*, survey_id: int, message: str) -> FollowUp:
    """The customer, after answering, raises a complaint: a person must answer it by the deadline."""
    text = _text(
        message,
        field="message",
        max_length=COMMENT_MAX,
        required=True,
        required_message=_("Tell us what went wrong."),
    )
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("case").get(pk=survey_id)
        if not survey.is_answered:
            raise Conflict(_("Please answer the survey first."), code="not_answered")
        follow_ups = list(survey.follow_ups.all())
        if any(f.is_open for f in follow_ups):
            raise Conflict(_("We are already looking into this and will answer you soon."), code="follow_up_open")
        if sum(f.reason == FollowUp.Reason.COMPLAINT for f in follow_ups) >= MAX_COMPLAINTS:
            raise Conflict(
                _("We have received several complaints about this case; please contact us directly."),
                code="too_many_complaints",
            )
        return _follow_up_open(survey=survey, reason=FollowUp.Reason.COMPLAINT, customer_message=text)


def survey_flag_complaint(*, survey_id: int, employee: Employee) -> FollowUp:
    """Staff read a comment as a complaint: it gets a follow-up like a low score does.

    Only those who may handle that follow-up flag it: the employee who resolved the case and anyone
    above them (a colleague could open work they may then not even see).
    """
    with transaction.atomic():
        survey = Survey.objects.select_for_update().select_related("case").get(pk=survey_id)
        if not selectors.may_flag_complaint(employee=employee, survey=survey):
            raise NotAllowed(
                _("Only the employee who resolved the case, or someone above them, may treat this as a complaint."),
                code="not_allowed",
            )
        if not survey.is_answered:
            raise Conflict(_("The customer has not answered yet."), code="not_answered")
        if survey.comment_is_complaint or survey.follow_ups.filter(status=FollowUp.Status.OPEN).exists():
            raise Conflict(_("This answer is already being followed up."), code="already_flagged")
        survey.comment_is_complaint = True
        survey.save(update_fields=["comment_is_complaint"])
        audit(
            actor=employee,
            action="survey.flagged_complaint",
            target=survey,
            before={"complaint": False},
            after={"complaint": True},
            subject=survey.resolved_by,
        )
        return _follow_up_open(survey=survey, reason=FollowUp.Reason.FLAGGED_COMMENT, actor=employee)


# --- follow-ups ----------------------------------------------------------------------------------


def _first_active(people: list[Employee]) -> Employee | None:
    return next((p for p in people if p.is_active), None)


def _stand_in_for(person: Employee, *, never: set[int], now: datetime) -> Employee | None:
    """The stand-in of `person` while they are away, as escalations go to the approver's stand-in.

    A follow-up or a friction report has no decision type, so any active delegation counts: the
    person delegated because they are away. With several, the stand-in holding most of their decision
    types takes it (on a tie, the first delegated). Never someone in `never` (the reporter, the
    resolver, the one it moves up from) and never an inactive account.
    """
    stand_ins = Counter(active_stand_ins(employee_ids=[person.pk], at=now).values())
    return next(
        (e for e, _types in stand_ins.most_common() if e.pk not in never and e.is_active),
        None,
    )


def _assignee(person: Employee, *, never: set[int], now: datetime) -> tuple[Employee, Employee | None]:
    """(who receives it, on whose behalf): `person`, or their stand-in on their behalf."""
    stand_in = _stand_in_for(person, never=never, now=now)
    return (stand_in, person) if stand_in else (person, None)


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


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def follow_up_reply(*, follow_up_id: int, employee: Employee, action_taken: str, reply: str) -> FollowUp:
    """Record what was done and answer the customer; they see it on their survey page and by e-mail.

    Only the assignee, the employee who resolved the case and anyone above them may reply; once.
    """
    with transaction.atomic():
        follow_up = (
            FollowUp.objects.select_for_update(of=("self",))
            .select_related("case", "resolver__user", "assigned_to__user")
            .filter(pk=follow_up_id)
            .first()
        )
        if follow_up is None:
            raise NotFound(_("No such follow-up, or not one you may see."))
        if not selectors.may_handle_follow_up(employee=employee, follow_up=follow_up):
            raise NotAllowed(_("Only the person following up, or someone above them, may reply."))
        if not follow_up.is_open:
            raise Conflict(_("This follow-up has already been answered."), code="already_replied")
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
        follow_up.status = FollowUp.Status.DONE
        follow_up.action_taken, follow_up.reply = action_taken, reply
        follow_up.replied_by, follow_up.replied_at = employee, timezone.now()
        follow_up.save(update_fields=["status", "action_taken", "reply", "replied_by", "replied_at"])
        audit(
            actor=employee,
            action="follow_up.replied",
            target=follow_up,
            before={"status": FollowUp.Status.OPEN, "assigned_to": follow_up.assigned_to.username},
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
        enqueue_after_commit("feedback.tasks.send_reply_email", follow_up.pk)
    return follow_up


def send_reply_email(*, follow_up_id: int) -> bool:
    """E-mail the reply to the customer in their language ("you said, we did"), once."""
    claimed = FollowUp.objects.filter(
        pk=follow_up_id, status=FollowUp.Status.DONE, reply_emailed_at__isnull=True
    ).update(reply_emailed_at=timezone.now())
    if not claimed:
        return False
    follow_up = FollowUp.objects.select_related("survey", "case__customer").get(pk=follow_up_id)
    customer = follow_up.case.customer
    context = {
        "first_name": customer.first_name,
        "subject": follow_up.case.subject,
        "reply": follow_up.reply,
        "url": survey_url(survey=follow_up.survey),
    }
    sent = False
    try:
        _send(to=customer.email, language=customer.language, template="reply", context=context)
        sent = True
    except OSError:
        logger.exception("Follow-up reply e-mail %s could not be sent", follow_up_id)
    finally:
        if not sent:  # release the claim: the periodic retry (or an operator) sends it later
            FollowUp.objects.filter(pk=follow_up_id).update(reply_emailed_at=None)
    return sent


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
        previous = follow_up.assigned_to
        manager = _first_active(chain_above(employee=follow_up.on_behalf_of or previous))
        if manager is None:
            return None
        assignee, on_behalf_of = _assignee(manager, never={follow_up.resolver_id, previous.pk}, now=now)
        before = {"assigned_to": previous.username, "level": follow_up.level, "due_at": follow_up.due_at}
        follow_up.assigned_to, follow_up.on_behalf_of = assignee, on_behalf_of
        follow_up.level += 1
        follow_up.due_at = now + timedelta(hours=settings.FEEDBACK_FOLLOW_UP_HOURS)
        follow_up.save(update_fields=["assigned_to", "on_behalf_of", "level", "due_at"])
        audit(
            action="follow_up.moved_up",
            actor=None,
            target=follow_up,
            before=before,
            after={
                "assigned_to": assignee.username,
                "on_behalf_of": on_behalf_of and on_behalf_of.username,
                "level": follow_up.level,
                "due_at": follow_up.due_at,
            },
            reason="overdue",
            subject=follow_up.resolver,
        )
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


# --- policy-friction reports ------------------------------------------------------------------


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
        if employee.pk == report.reporter_id:
            raise NotAllowed(_("You cannot second your own report."), code="own_report")
        if employee.team_id != report.team_id:
            raise NotAllowed(_("Only colleagues of the same team may second a report."))
        if not selectors.is_reporters_colleague(employee=employee, report=report):
            raise NotAllowed(_("Managers answer a report; only colleagues second it."), code="answers_it")
        if not report.is_open:
            raise Conflict(_("This report has already been answered."), code="report_closed")
        if report.seconds.filter(employee=employee).exists():
            raise Conflict(_("You have already seconded this report."), code="already_seconded")
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


def friction_report_answer(*, report_id: int, employee: Employee, outcome: str, note: str) -> FrictionReport:
    """The manager answers: accept (and say what changes), explain why the rule stays, or pass it up.

    The assignee or anyone above them answers, never the reporter; the reporter and those who
    seconded the report are told.
    """
    with transaction.atomic():
        report = _locked_report(report_id)
        if not selectors.may_answer_report(employee=employee, report=report):
            raise NotAllowed(_("Only the manager it is assigned to, or someone above them, may answer."))
        if not report.is_open:
            raise Conflict(_("This report has already been answered."), code="report_closed")
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
        now = timezone.now()
        if outcome == FrictionAnswer.Outcome.PASS_UP:
            FrictionAnswer.objects.create(report=report, by=employee, outcome=outcome, note=note, created_at=now)
            if not _report_pass_up(report, actor=employee, reason="passed_up", now=now, note=note):
                message = _("Nobody stands above you to pass it to: accept or explain.")
                raise InvalidInput(message, field_errors={"outcome": [message]})
            return report
        before = {"status": report.status, "assigned_to": report.assigned_to.username}
        report.status = (
            FrictionReport.Status.ACCEPTED
            if outcome == FrictionAnswer.Outcome.ACCEPT
            else FrictionReport.Status.EXPLAINED
        )
        report.answer, report.answered_by, report.answered_at = note, employee, now
        report.save(update_fields=["status", "answer", "answered_by", "answered_at"])
        FrictionAnswer.objects.create(report=report, by=employee, outcome=outcome, note=note, created_at=now)
        audit(
            actor=employee,
            action=f"friction.{report.status}",
            target=report,
            before=before,
            after={"status": report.status},
            reason=note,
            subject=report.reporter,
        )
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


def _report_pass_up(
    report: FrictionReport, *, actor: Employee | None, reason: str, now: datetime, note: str = ""
) -> bool:
    """Hand a locked, open report to the next active manager above the one whose turn it was (the
    assignee, or whom they stood in for), or to that manager's stand-in, with a new deadline.
    """
    previous = report.assigned_to
    manager = _first_active(chain_above(employee=report.on_behalf_of or previous))
    if manager is None:
        return False
    assignee, on_behalf_of = _assignee(manager, never={report.reporter_id, previous.pk}, now=now)
    before = {"assigned_to": previous.username, "level": report.level, "due_at": report.due_at}
    report.assigned_to, report.on_behalf_of = assignee, on_behalf_of
    report.level += 1
    report.due_at = add_working_hours(now, settings.FEEDBACK_REPORT_WORKING_HOURS)
    report.save(update_fields=["assigned_to", "on_behalf_of", "level", "due_at"])
    audit(
        actor=actor,
        action="friction.moved_up",
        target=report,
        before=before,
        after={
            "assigned_to": assignee.username,
            "on_behalf_of": on_behalf_of and on_behalf_of.username,
            "level": report.level,
            "due_at": report.due_at,
        },
        reason=note or reason,
        subject=report.reporter,
    )
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
