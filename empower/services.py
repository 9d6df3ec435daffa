import logging
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from empower.errors import Conflict, InvalidInput, NotAllowed
from empower.models import AuditRecord, Case, Customer, Employee, Notification
from empower.selectors import visible_team_ids

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
    """Tell someone in the app (and by e-mail, after commit), once per event `key`.

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
        transaction.on_commit(lambda: _email_notification(notification.pk))
    return notification if created else None


def _email_notification(notification_id: int) -> None:
    # Claim the row first so a retried commit hook never sends the same e-mail twice.
    claimed = Notification.objects.filter(pk=notification_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return
    notification = Notification.objects.select_related("recipient__user").get(pk=notification_id)
    link = f"{settings.SITE_URL}{notification.url}" if notification.url else ""
    try:
        send_mail(
            subject=notification.message[:78],
            message=f"{notification.message}\n\n{link}".strip(),
            from_email=None,
            recipient_list=[notification.recipient.user.email],
        )
    except OSError:
        logger.exception("E-mail for notification %s could not be sent", notification_id)


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
