"""'You said, we did' for staff: accepting a friction report names what changes.

A change is a person's limit, a role's default limits, guidance for a decision type, or a written
policy (with its text). A limit or a role default is applied from the report, through the granting
rules (`delegation.services.limit_set` / `role_limit_set`: the same refusals as anywhere else), or
linked to the audited change that already did it; until one of those, the acceptance is a promise,
shown as "promised, not yet done" after EMPOWER_PROMISE_DAYS. Guidance and policy are done when
named: their text is the change.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from delegation.models import CAPS, AuthorityLimit, DecisionType
from delegation.services import limit_set, role_limit_set, validate_amount
from empower.errors import InvalidInput
from empower.models import AuditRecord, Employee, Role
from empower.services import audit, lazy_message, notify
from feedback.models import REPLY_MAX, FrictionReport
from feedback.services.common import _text

LIMIT_RECORD_TYPE = AuthorityLimit._meta.label_lower


@dataclass
class ChangeInput:
    """What an answer names as the change (from the API, the page, or a test)."""

    kind: str = ""
    text: str = ""
    decision_type: DecisionType | None = None
    employee: Employee | None = None
    role: Role | None = None
    values: dict = field(default_factory=dict)  # cap → amount (as given); only the caps that change
    record_id: int | None = None  # the audit record of a limit change that already did it

    @classmethod
    def from_data(cls, data: dict) -> "ChangeInput":
        """From flat input (`change`, `change_text`, `change_decision_type`, `change_employee`,
        `change_role`, `per_decision`…, `change_record`), as the API and the form give it."""
        return cls(
            kind=data.get("change") or "",
            text=data.get("change_text") or "",
            decision_type=data.get("change_decision_type"),
            employee=data.get("change_employee"),
            role=data.get("change_role"),
            values={cap: data[cap] for cap in CAPS if data.get(cap) not in (None, "")},
            record_id=data.get("change_record"),
        )


def _refuse(fieldname: str, message) -> InvalidInput:
    return InvalidInput(message, field_errors={fieldname: [message]})


def change_clean(*, report: FrictionReport, change: ChangeInput | None) -> ChangeInput:
    """The change named when accepting, checked (400 naming the field otherwise). Applies nothing."""
    if change is None or not change.kind:
        raise _refuse(
            "change",
            _(
                "Name what changes: a person's limit, a role's default, guidance for a decision type, "
                "or a written policy."
            ),
        )
    if change.kind not in FrictionReport.Change.values:
        raise _refuse("change", _("Choose a limit, a role's default, guidance or a policy."))
    Change = FrictionReport.Change
    text_required = change.kind in (Change.GUIDANCE, Change.POLICY)
    change.text = _text(
        change.text,
        field="change_text",
        max_length=REPLY_MAX,
        required=text_required,
        required_message=_("Write the new guidance or policy: its text is the change."),
    )
    if change.kind != Change.POLICY:
        change.decision_type = change.decision_type or report.decision_type
        if change.decision_type is None:
            raise _refuse("change_decision_type", _("Say which decision type changes."))
    if change.kind == Change.LIMIT and change.employee is None:
        raise _refuse("change_employee", _("Say whose limit changes."))
    if change.kind == Change.ROLE_DEFAULT and change.role is None:
        raise _refuse("change_role", _("Say which role's default changes."))
    if change.kind in (Change.LIMIT, Change.ROLE_DEFAULT):
        change.values = {
            cap: validate_amount(value, field=cap, allow_zero=True) for cap, value in change.values.items()
        }
        if change.values and change.record_id:
            raise _refuse("change_record", _("Either apply new values or link the change that did it, not both."))
    elif change.values or change.record_id:
        raise _refuse("change", _("Only a limit or a role's default is applied or linked."))
    return change


def _linked_record(*, report: FrictionReport, change: ChangeInput) -> AuditRecord:
    """An audited limit change made since the report was filed, of the named type and holder."""
    record = AuditRecord.objects.filter(
        pk=change.record_id,
        target_type=LIMIT_RECORD_TYPE,
        action__in=("limit.created", "limit.changed"),
        created_at__gte=report.created_at,
    ).first()
    limit = record and AuthorityLimit.objects.filter(pk=record.target_id).first()
    matches = limit is not None and limit.decision_type_id == change.decision_type.pk
    if matches and change.kind == FrictionReport.Change.LIMIT:
        matches = limit.employee_id == change.employee.pk
    if matches and change.kind == FrictionReport.Change.ROLE_DEFAULT:
        matches = limit.role_id == change.role.pk
    if not matches:
        raise _refuse(
            "change_record",
            _("Link a change of that limit made since the report was filed (its audit record's id)."),
        )
    return record


def _last_record_of(limit: AuthorityLimit) -> AuditRecord:
    return AuditRecord.objects.filter(target_type=LIMIT_RECORD_TYPE, target_id=str(limit.pk)).latest("created_at", "id")


def change_apply(*, report: FrictionReport, change: ChangeInput, by: Employee, now: datetime) -> bool:
    """Record the (cleaned) change on the locked report; apply a limit or role default where values are
    given, through the granting rules, or link the change that did it. True when the change is done
    (False: a limit or role default still promised). Saves the report."""
    Change = FrictionReport.Change
    report.change_kind, report.change_text = change.kind, change.text
    report.change_decision_type = change.decision_type
    report.change_employee = change.employee if change.kind == Change.LIMIT else None
    report.change_role = change.role if change.kind == Change.ROLE_DEFAULT else None
    reason = _("Friction report #%(id)s: %(rule)s") % {"id": report.pk, "rule": report.rule_label}
    record = None
    if change.kind in (Change.LIMIT, Change.ROLE_DEFAULT) and change.values:
        if change.kind == Change.LIMIT:
            limit = limit_set(
                granter=by,
                employee=change.employee,
                decision_type=change.decision_type,
                values=change.values,
                reason=str(reason),
            )
        else:
            current = AuthorityLimit.objects.filter(role=change.role, decision_type=change.decision_type).first()
            # A role default is set whole: caps not named keep their current value.
            values = {cap: getattr(current, cap) if current else None for cap in CAPS} | change.values
            limit = role_limit_set(
                granter=by, role=change.role, decision_type=change.decision_type, values=values, reason=str(reason)
            )
        record = _last_record_of(limit)
        report.change_values = {cap: str(value) for cap, value in change.values.items()}
    elif change.record_id:
        record = _linked_record(report=report, change=change)
    done = record is not None or change.kind in (Change.GUIDANCE, Change.POLICY)
    report.change_record = record
    if done:
        report.change_done_at, report.change_done_by = now, by
    report.save()
    return done


def change_announce(*, report: FrictionReport, by: Employee) -> None:
    """Tell the reporter and everyone who seconded: "changed because you told us"."""
    audit(
        actor=by,
        action="friction.changed",
        target=report,
        after={
            "change": report.change_kind,
            "text": report.change_text,
            "decision_type": report.change_decision_type and report.change_decision_type.code,
            "values": report.change_values,
            "record": report.change_record_id,
        },
        reason=report.change_text,
        subject=report.reporter,
    )
    seconders = [s.employee for s in report.seconds.select_related("employee__user")]
    for person in [report.reporter, *seconders]:
        notify(
            recipient=person,
            key=f"friction:{report.pk}:changed",
            message=lazy_message(
                _("Changed because you told us: %(rule)s — %(change)s."),
                rule=report.rule_label,
                change=FrictionReport.Change(report.change_kind).label,
            ),
            url=reverse("feedback:report-detail", args=[report.pk]),
        )
