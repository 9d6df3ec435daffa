import logging
from datetime import timedelta
from decimal import Decimal
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from empower.errors import Conflict, InvalidInput, NotAllowed
from empower.models import AuditRecord, Case, Customer, Employee, Notification
from empower.selectors import administrator_addresses, notification_emails_to_send_again, visible_team_ids

logger = logging.getLogger(__name__)

# Sent after a case is resolved (feedback asks the customer how it went).
case_resolved = Signal()


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
) -> AuditRecord:
    """Write one append-only audit record; call it inside the transaction that makes the change."""
    return AuditRecord.objects.create(
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
    recipient's language.
    """
    with translation.override(recipient.language):
        text = str(message)
    try:
        with transaction.atomic():
            notification, created = Notification.objects.get_or_create(
                recipient=recipient, key=key, defaults={"message": text, "url": url}
            )
    except IntegrityError:  # the same event, notified concurrently
        return None
    if created and recipient.user.email:
        # Never in the request: a worker sends it. If the broker is down, the periodic re-send does.
        enqueue_after_commit(SEND_EMAIL_TASK, notification.pk)
    return notification if created else None


# E-mails not sent this long after their notification (the task was lost, a worker died, SMTP
# failed) are sent again by a periodic task, up to EMAIL_MAX_ATTEMPTS tries within
# EMAIL_GIVE_UP_AFTER; after that an operator sends them again from the admin.
EMAIL_SEND_AGAIN_AFTER = timedelta(minutes=5)
EMAIL_GIVE_UP_AFTER = timedelta(days=2)
EMAIL_MAX_ATTEMPTS = 10
# A claim older than this was left by a worker that died mid-send (the task's time limit is 60 s).
EMAIL_CLAIM_EXPIRES = timedelta(minutes=10)
EMAIL_SUBJECT_MAX = 78
SEND_EMAIL_TASK = "empower.tasks.send_notification_email"


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


def notification_email_send(*, notification_id: int) -> bool:
    """Send a notification's e-mail, exactly once: claim it in the database, send, then mark it sent.

    A second delivery finds it sent or claimed and does nothing. A failed send releases the claim
    and raises (the task retries; the periodic re-send picks it up later). Call it from a worker:
    it waits on SMTP. True when this call sent it.
    """
    now = timezone.now()
    claimable = Q(email_claimed_at__isnull=True) | Q(email_claimed_at__lt=now - EMAIL_CLAIM_EXPIRES)
    claimed = Notification.objects.filter(claimable, pk=notification_id, emailed_at__isnull=True).update(
        email_claimed_at=now, email_attempts=F("email_attempts") + 1
    )
    if not claimed:
        return False
    mine = Notification.objects.filter(pk=notification_id, email_claimed_at=now)
    notification = Notification.objects.select_related("recipient__user").get(pk=notification_id)
    address = notification.recipient.user.email
    if not address:
        mine.update(email_claimed_at=None, email_error="no e-mail address")
        return False
    link = f"{settings.SITE_URL}{notification.url}" if notification.url else ""
    try:
        send_mail(
            subject=email_subject(notification.message),
            message=f"{notification.message}\n\n{link}".strip(),
            from_email=None,
            recipient_list=[address],
        )
    except Exception as error:
        mine.update(email_claimed_at=None, email_error=f"{type(error).__name__}: {error}"[:300])
        raise
    mine.update(emailed_at=timezone.now(), email_claimed_at=None, email_error="")
    return True


def notification_emails_send_again(*, now=None, limit: int = 500) -> int:
    """Periodic: queue again the e-mails still unsent a while after their notification, oldest first.

    Safe to run any number of times: sending claims each e-mail, so none goes out twice.
    """
    now = now or timezone.now()
    waiting = notification_emails_to_send_again(
        created_before=now - EMAIL_SEND_AGAIN_AFTER,
        created_after=now - EMAIL_GIVE_UP_AFTER,
        claimed_before=now - EMAIL_CLAIM_EXPIRES,
        max_attempts=EMAIL_MAX_ATTEMPTS,
        limit=limit,
    )
    for notification_id in waiting:
        enqueue(SEND_EMAIL_TASK, notification_id)
    return len(waiting)


def notification_emails_retry(*, notification_ids: list[int]) -> int:
    """An operator sends unsent e-mails again (admin): their attempts start over and each is queued."""
    unsent = Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True).exclude(
        recipient__user__email=""
    )
    ids = list(unsent.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids).update(email_attempts=0, email_error="")
    for notification_id in ids:
        enqueue_after_commit(SEND_EMAIL_TASK, notification_id)
    return len(ids)


def email_administrators(*, subject: str, body: str) -> int:
    """E-mail the administrators (ADMIN_EMAILS, else the active superusers); how many were addressed.

    Call it from a worker: it waits on SMTP. Raises when sending fails, so the task retries.
    """
    recipients = administrator_addresses()
    if not recipients:
        logger.warning("Nobody to tell (set ADMIN_EMAILS or give a superuser an address): %s", subject)
        return 0
    send_mail(
        subject=email_subject(f"{settings.EMAIL_SUBJECT_PREFIX}{subject}"),
        message=body,
        from_email=None,
        recipient_list=recipients,
    )
    return len(recipients)


def notification_mark_read(*, employee: Employee, notification_id: int | None = None) -> int:
    """Mark one of the employee's notifications (or all of them) as read."""
    unread = Notification.objects.filter(recipient=employee, read_at__isnull=True)
    if notification_id is not None:
        unread = unread.filter(pk=notification_id)
    return unread.update(read_at=timezone.now())


def customer_find_or_create(*, name: str, email: str, language: str = "") -> Customer:
    """Customers are found by e-mail (case-insensitively) or created."""
    email = email.strip()
    customer = Customer.objects.filter(email__iexact=email).first()
    if customer:
        return customer
    languages = dict(settings.LANGUAGES)
    try:
        with transaction.atomic():
            return Customer.objects.create(
                name=name.strip(), email=email, language=language if language in languages else "en"
            )
    except IntegrityError:  # created concurrently
        return Customer.objects.get(email__iexact=email)


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
    if case.team_id not in visible_team_ids(employee=employee):
        raise NotAllowed(_("You may not act on this case."), code="case_not_allowed")


@transaction.atomic
def case_resolve(*, employee: Employee, case: Case, resolution_note: str) -> Case:
    """Resolve an open case with a note; the customer is then asked how it went."""
    ensure_may_act_on_case(employee=employee, case=case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.status != Case.Status.OPEN:
        raise Conflict(_("This case is already resolved."), code="case_resolved")
    if not resolution_note.strip():
        raise InvalidInput(
            _("Say how the case was resolved."), field_errors={"resolution_note": [_("This field is required.")]}
        )
    before = {"status": case.status}
    case.status = Case.Status.RESOLVED
    case.resolution_note = resolution_note.strip()
    case.resolved_by = employee
    case.resolved_at = timezone.now()
    case.save(update_fields=["status", "resolution_note", "resolved_by", "resolved_at", "updated_at"])
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
