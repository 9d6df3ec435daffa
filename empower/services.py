import hashlib
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q, Value
from django.db.models.functions import Greatest
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from empower.audit_chain import audit_record_insert
from empower.emails import EMAIL_INVALID, canonical_email
from empower.errors import InvalidInput, NotAllowed
from empower.models import AuditRecord, Case, Customer, Employee, Notification, OutgoingEmail
from empower.prepared import insert_once
from empower.selectors import administrator_addresses, emails_to_send_again, visible_team_ids

logger = logging.getLogger(__name__)

# Sent after a case is resolved (feedback asks the customer how it went).
case_resolved = Signal()
# Sent inside `case_resolve`, the case locked, before it moves: a receiver refuses the resolution by
# raising a `DomainError` (e.g. delegation, while an escalation on the case still waits). The
# organization knows nothing of escalations; the apps that do say why a case may not close yet.
case_resolving = Signal()


def audit(
    *,
    actor: Employee | None,
    action: str,
    target: Model,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    subject: Employee | None = None,
    on_behalf_of: Employee | None = None,
    once_key: str | None = None,
) -> AuditRecord:
    """Write one append-only audit record; call it inside the transaction that makes the change.
    (`once_key` is set by `audit_once` only.)"""
    record = AuditRecord(
        once_key=once_key,
        actor=actor,
        on_behalf_of=on_behalf_of,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        subject=subject,
        before=_jsonable(before),
        after=_jsonable(after),
        reason=reason,
    )
    return audit_record_insert(record)  # at the end of the hash chain, in one statement


def audit_once(
    *,
    action: str,
    target: Model,
    key: str = "",
    actor: Employee | None = None,
    subject: Employee | None = None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    on_behalf_of: Employee | None = None,
) -> bool:
    """Record an event that happens once (a delegation starting, a temporary limit expiring, the
    administrators told of an unroutable escalation): True when this call wrote the record, False
    when it was recorded before. The record is the once-only key, so callers act on True only.

    Without `key`, any record of `action` on `target` counts (also one written by plain `audit`).
    With `key` (a moment, a step id: an event that may recur on the same target), only a record of
    the same action, target and key counts. Two concurrent callers cannot both write: the record's
    `once_key` is unique, and the loser (waiting for the winner's transaction) gets False.
    """
    target_type, target_id = target._meta.label_lower, str(target.pk)
    once_key = f"{action}|{target_type}|{target_id}|{key}"
    if len(once_key) > AuditRecord._meta.get_field("once_key").max_length:
        once_key = hashlib.sha256(once_key.encode()).hexdigest()
    if key:
        recorded = AuditRecord.objects.filter(once_key=once_key)
    else:
        recorded = AuditRecord.objects.filter(action=action, target_type=target_type, target_id=target_id)
    if recorded.exists():
        return False
    try:
        with transaction.atomic():
            audit(
                actor=actor,
                action=action,
                target=target,
                before=before,
                after=after,
                reason=reason,
                subject=subject,
                on_behalf_of=on_behalf_of,
                once_key=once_key,
            )
    except IntegrityError:  # recorded concurrently
        return False
    return True


def _jsonable(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {k: (str(v) if isinstance(v, Decimal) or hasattr(v, "isoformat") else v) for k, v in values.items()}


def lazy_message(text, **params):
    """A translatable message with parameters, rendered when it is used, in the language active
    then (a plain `%` would render it at once, in the sender's language)."""
    return lazy(lambda: str(text) % {k: str(v) for k, v in params.items()}, str)()


def notify(*, recipient: Employee, key: str, message, url: str = "") -> Notification | None:
    """Tell someone in the app (and by e-mail, from a worker after commit), once per event `key`.

    `message` is a lazy translatable string (see `lazy_message`); it is rendered in the
    recipient's language, in the app and in the e-mail (whose link is absolute, on SITE_URL).
    """
    with translation.override(recipient.language):
        text = str(message)
    notification = Notification(recipient=recipient, key=key, message=text, url=url)
    if not insert_once(notification, unique=("recipient", "key")):
        return None  # the same event, notified before (or at this moment)
    if recipient.user.email:
        link = f"{settings.SITE_URL}{url}" if url else ""
        email_queue(
            key=notification.email_key,
            to=recipient.user.email,
            subject=text,
            body=f"{text}\n\n{link}".strip(),
            language=recipient.language,
        )
    return notification


# --- the outbox: every e-mail to a person goes through it --------------------------------------

# E-mails not sent this long after they were queued (the task was lost, a worker died, SMTP
# failed) are sent again by a periodic task, up to EMAIL_MAX_ATTEMPTS tries until the e-mail's
# `send_until` (EMAIL_GIVE_UP_AFTER unless the caller says otherwise); after that an operator
# sends them again from the admin.
EMAIL_SEND_AGAIN_AFTER = timedelta(minutes=5)
EMAIL_GIVE_UP_AFTER = timedelta(days=2)
EMAIL_MAX_ATTEMPTS = 10
# A claim older than this was left by a worker that died mid-send (the task's time limit is 60 s).
EMAIL_CLAIM_EXPIRES = timedelta(minutes=10)
EMAIL_SUBJECT_MAX = 78
SEND_EMAIL_TASK = "empower.tasks.send_email"


def enqueue(task_path: str, *args) -> None:
    """Enqueue a Celery task by its dotted path (tasks import services, so never the other way at
    import time). A broker that is down is logged, never raised: a periodic task finds the work in
    the database."""
    try:
        import_string(task_path).delay(*args)
    except Exception:
        logger.warning("Could not enqueue %s%r; a periodic task will pick it up", task_path, args)


def enqueue_after_commit(task_path: str, *args) -> None:
    """`enqueue` once the transaction commits: a task never sees work its transaction did not keep."""
    transaction.on_commit(partial(enqueue, task_path, *args), robust=True)


def email_subject(text: str) -> str:
    """A header-safe subject: the first line that says something, whitespace collapsed, at most 78
    characters. (A newline in a subject, e.g. from an approver's note, is refused by Django.)"""
    first = next((line for line in str(text).splitlines() if line.strip()), "")
    subject = " ".join(first.split())
    if len(subject) > EMAIL_SUBJECT_MAX:
        subject = subject[: EMAIL_SUBJECT_MAX - 1].rstrip() + "…"
    return subject


def email_queue(
    *, key: str, to: str, subject: str, body: str, language: str = "en", send_until: datetime | None = None
) -> OutgoingEmail | None:
    """Queue one e-mail for a worker to send after commit, once per event `key` (e.g. "survey:12").

    Renders nothing: `subject` and `body` come already in the recipient's `language` (the subject
    is cut to one header-safe line). The periodic re-send tries it until `send_until` (default:
    EMAIL_GIVE_UP_AFTER from now). Returns the new e-mail; None when `key` was queued before
    (whatever its state) or there is no address.
    """
    to = to.strip()
    if not to:
        return None
    send_until = send_until or timezone.now() + EMAIL_GIVE_UP_AFTER
    email = OutgoingEmail(
        key=key, to=to, subject=email_subject(subject), body=body, language=language, send_until=send_until
    )
    if not insert_once(email, unique=("key",)):
        return None  # the same event, queued before (whatever its state) or at this moment
    # Never in the request: a worker sends it. If the broker is down, the periodic re-send does.
    enqueue_after_commit(SEND_EMAIL_TASK, email.pk)
    return email


def email_send(*, email_id: int) -> bool:
    """Send one queued e-mail, exactly once: claim it in the database, send, then mark it sent.

    A second delivery finds it sent or claimed and does nothing; a claim older than
    EMAIL_CLAIM_EXPIRES (its worker died) is taken over. A failed send records the error, releases
    the claim and raises (the task retries; the periodic re-send picks it up later). Call it from
    a worker: it waits on SMTP. True when this call sent it.
    """
    now = timezone.now()
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - EMAIL_CLAIM_EXPIRES)
    claimed = OutgoingEmail.objects.filter(claimable, pk=email_id, sent_at__isnull=True).update(
        claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return False
    # Only while the claim is still ours: a worker taking over an expired claim makes it theirs.
    mine = OutgoingEmail.objects.filter(pk=email_id, claimed_at=now)
    email = OutgoingEmail.objects.get(pk=email_id)
    try:
        send_mail(subject=email.subject, message=email.body, from_email=None, recipient_list=[email.to])
    except Exception as error:  # also the soft time limit: release the claim so a retry sends it
        mine.update(claimed_at=None, last_error=f"{type(error).__name__}: {error}"[:300])
        raise
    mine.update(sent_at=timezone.now(), claimed_at=None, last_error="")
    return True


def emails_send_again(*, now: datetime | None = None, limit: int = 500) -> int:
    """Periodic: queue again the e-mails still unsent a while after they were queued, oldest first,
    until their `send_until` and EMAIL_MAX_ATTEMPTS tries.

    Safe to run any number of times: sending claims each e-mail, so none goes out twice.
    """
    now = now or timezone.now()
    waiting = emails_to_send_again(
        now=now,
        queued_before=now - EMAIL_SEND_AGAIN_AFTER,
        claimed_before=now - EMAIL_CLAIM_EXPIRES,
        max_attempts=EMAIL_MAX_ATTEMPTS,
        limit=limit,
    )
    for email_id in waiting:
        enqueue(SEND_EMAIL_TASK, email_id)
    return len(waiting)


def emails_retry(*, keys: Iterable[str]) -> int:
    """An operator sends again the unsent e-mails of these events (admin): their attempts start
    over, the periodic re-send keeps trying for EMAIL_GIVE_UP_AFTER more, and each is queued after
    commit. Sent ones are left alone. Returns how many were queued."""
    unsent = OutgoingEmail.objects.unsent().filter(key__in=list(keys))
    ids = list(unsent.values_list("pk", flat=True))
    later = timezone.now() + EMAIL_GIVE_UP_AFTER
    OutgoingEmail.objects.filter(pk__in=ids).update(
        attempts=0, last_error="", send_until=Greatest("send_until", Value(later))
    )
    for email_id in ids:
        enqueue_after_commit(SEND_EMAIL_TASK, email_id)
    return len(ids)


def email_cancel(*, key: str) -> bool:
    """Withdraw the e-mail of event `key` while it is still unsent and no worker is sending it (the
    event no longer calls for it, e.g. a survey answered before its e-mail went). Its row goes: a
    task already queued then finds nothing to claim, and the re-send never sees it. The caller makes
    sure the event does not queue it again. True when one was withdrawn; an e-mail sent or being
    sent right now stays as it is."""
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=timezone.now() - EMAIL_CLAIM_EXPIRES)
    deleted, _rows = OutgoingEmail.objects.unsent().filter(claimable, key=key).delete()
    return bool(deleted)


def email_queue_to_administrators(*, key: str, subject: str, body: str) -> int:
    """Queue one outbox e-mail per administrator (ADMIN_EMAILS, else the active superusers with an
    address), keyed `key:<address>`, in the site's language; how many were addressed (queued now
    or before).
    """
    recipients = administrator_addresses()
    if not recipients:
        logger.warning("Nobody to tell (set ADMIN_EMAILS or give a superuser an address): %s", subject)
    for address in recipients:
        email_queue(
            key=f"{key}:{address}",
            to=address,
            subject=f"{settings.EMAIL_SUBJECT_PREFIX}{subject}",
            body=body,
            language=settings.LANGUAGE_CODE,
        )
    return len(recipients)


def notification_mark_read(*, employee: Employee, notification_id: int | None = None) -> int:
    """Mark one of the employee's notifications (or all of them) as read."""
    unread = Notification.objects.filter(recipient=employee, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def customer_find_or_create(*, name: str, email: str, language: str = "") -> Customer:
    """Customers are found by e-mail or created: by the address's canonical form (`empower.emails`),
    so every spelling of one mailbox is one customer, with one per-customer cap."""
    try:
        email = canonical_email(email)
    except ValidationError as invalid:
        raise InvalidInput(EMAIL_INVALID, field_errors={"customer_email": invalid.messages}) from None
    customer = Customer.objects.filter(email=email).first()
    if customer:
        return customer
    languages = dict(settings.LANGUAGES)
    try:
        with transaction.atomic():
            return Customer.objects.create(
                name=name.strip(), email=email, language=language if language in languages else "en"
            )
    except IntegrityError:  # created concurrently
        return Customer.objects.get(email=email)


@transaction.atomic
def case_open(
    *,
    employee: Employee,
    customer_name: str,
    customer_email: str,
    subject: str,
    description: str = "",
    customer_language: str = "",
) -> Case:
    """Open a case for a customer in the employee's team, assigned to the employee."""
    if not subject.strip():
        raise InvalidInput(_("A case needs a subject."), field_errors={"subject": [_("This field is required.")]})
    customer = customer_find_or_create(name=customer_name, email=customer_email, language=customer_language)
    case = Case.objects.create(
        customer=customer,
        team=employee.team,
        assigned_to=employee,
        created_by=employee,
        subject=subject.strip(),
        description=description.strip(),
    )
    audit(actor=employee, action="case.opened", target=case, after={"subject": case.subject, "status": case.status})
    return case


def ensure_may_act_on_case(*, employee: Employee, case: Case) -> None:
    """Staff act only on their team's cases; managers on the teams below them."""
    if case.team_id == employee.team_id:  # their own team: no need to ask who is below them
        return
    if case.team_id not in visible_team_ids(employee=employee):
        raise NotAllowed(_("You may not act on this case."), code="case_not_allowed")


@transaction.atomic
def case_resolve(*, employee: Employee, case: Case, resolution_note: str) -> Case:
    """Resolve an open case with a note; the customer is then asked how it went."""
    ensure_may_act_on_case(employee=employee, case=case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    note = resolution_note.strip()
    if case.status == Case.Status.OPEN and not note:
        raise InvalidInput(
            _("Say how the case was resolved."), field_errors={"resolution_note": [_("This field is required.")]}
        )
    if case.status == Case.Status.OPEN:
        case_resolving.send(sender=Case, case=case, employee=employee)  # a receiver may refuse (raises)
    before = {"status": case.status}
    case.move_to(Case.Status.RESOLVED, resolution_note=note, resolved_by=employee, resolved_at=timezone.now())
    audit(
        actor=employee,
        action="case.resolved",
        target=case,
        before=before,
        after={"status": case.status},
        reason=case.resolution_note,
    )
    case_resolved.send(sender=Case, case=case, employee=employee)
    return case


@transaction.atomic
def case_reopen(*, employee: Employee, case: Case, reason: str = "") -> Case:
    """Reopen a resolved case (the customer came back, a remedy is needed): its team and the people
    above them; an open case is refused (409). The resolution stays on record in the audit trail; a
    case resolved again sends no second survey (one survey per case)."""
    ensure_may_act_on_case(employee=employee, case=case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    before = {"status": case.status, "resolved_by": case.resolved_by_id, "resolution_note": case.resolution_note}
    case.move_to(Case.Status.OPEN)
    audit(
        actor=employee,
        action="case.reopened",
        target=case,
        before=before,
        after={"status": case.status},
        reason=(reason or "").strip(),
    )
    return case


@transaction.atomic
def case_reassign(*, employee: Employee, case: Case, assignee: Employee, reason: str = "") -> Case:
    """Hand a case to a colleague of its team (audited, the new assignee is told). Who may: anyone who
    may act on the case (its team, the people above them); the new assignee must be an active member
    of the case's team."""
    ensure_may_act_on_case(employee=employee, case=case)
    if assignee.team_id != case.team_id or not assignee.user.is_active:
        message = _("Choose someone of the case's team.")
        raise InvalidInput(message, code="not_in_team", field_errors={"assigned_to": [message]})
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.assigned_to_id == assignee.pk:
        return case
    before = {"assigned_to": case.assigned_to_id}
    case.assigned_to = assignee
    case.save(update_fields=["assigned_to", "updated_at"])
    audit(
        actor=employee,
        action="case.reassigned",
        target=case,
        before=before,
        after={"assigned_to": assignee.pk},
        reason=(reason or "").strip(),
        subject=assignee,
    )
    if assignee != employee:
        notify(
            recipient=assignee,
            key=f"case-assigned:{case.pk}:{assignee.pk}:{timezone.now().timestamp()}",
            message=lazy_message(
                _("%(name)s handed you case #%(id)s: %(subject)s"), name=employee, id=case.pk, subject=case.subject
            ),
            url=f"/cases/{case.pk}/",
        )
    return case


@transaction.atomic
def employee_paths_rebuild() -> int:
    """Recompute every employee's chain of command (`Employee.path`) from the managers, in one
    statement: for bulk loaders that insert people around `Employee.save()` (e.g. raw SQL or COPY;
    `Employee.objects.bulk_create` fills paths itself) and for repairs. A maintenance step, never
    part of a request: it is the one place a recursive query walks the whole organization.
    Returns how many paths changed."""
    changed = Employee.objects.rebuild_paths()
    logger.info("employee paths rebuilt: %d changed", changed)
    return changed
