"""Limit recommendations: where the record says a per-decision limit is too low, propose raising it.

The rule (issue 11, as written): for one employee, or one role in one team, and one decision type,
when at least `EMPOWER_RECOMMEND_MIN_ESCALATIONS` escalations in the last 90 days broke *only* the
per-decision limit, and at least `EMPOWER_RECOMMEND_SHARE` of the answered ones (approved or
rejected; withdrawn and waiting ones are not answers) were approved exactly as asked, propose the
smallest amount that covers 95 % of those escalations (nearest rank), rounded up to a whole 10,
and never above what the manager who receives the proposal may grant (their own per-decision
limit). No proposal when that is not above the current limit.

A role in one team is proposed when its members' escalations together meet the rule and at least
two of them contributed (one person's pattern is that person's proposal); its members then get no
individual proposal of that type. The manager who receives it is the nearest person above every
member (for one employee: their manager).

Computed by a periodic task (`feedback.tasks.refresh_limit_recommendations`) and on demand through
the same task — never inside a request. Accepting goes through `delegation.services.limit_set`, the
same granting rules, audit and notifications as any limit change; a dismissed proposal comes back
only once the evidence (the number of escalations) has grown by half.
"""

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import AuthorityLimit, Decision, DecisionType
from delegation.selectors import limits_refusal, own_limits
from delegation.services import limit_set
from empower.errors import InvalidInput, NotAllowed, NotFound
from empower.models import Employee
from empower.money import Money
from empower.selectors import is_above
from empower.services import audit, lazy_message, notify
from feedback.models import LimitRecommendation, Survey

WINDOW_DAYS = 90
COVERAGE = Decimal("0.95")
ROUND_TO = Decimal("10")
GROWTH_TO_RETURN = Decimal("1.5")  # a dismissed proposal returns once the evidence grows by half
ONLY_PER_DECISION = ["per_decision"]

Status = LimitRecommendation.Status


# --- the rule, pure ------------------------------------------------------------------------------


def outcome_of(status: str, amount: Decimal, final_amount: Decimal | None) -> str:
    """What became of an escalated decision: approved_as_asked, approved_lower, rejected, withdrawn, waiting."""
    if status == Decision.Status.APPROVED:
        return "approved_as_asked" if final_amount is None or final_amount >= amount else "approved_lower"
    if status in (Decision.Status.REJECTED, Decision.Status.WITHDRAWN):
        return str(status)
    return "waiting"


def meets_rule(*, escalations: int, answered: int, approved_as_asked: int, minimum: int, share: float) -> bool:
    """At least `minimum` escalations, and at least `share` of the answered ones approved as asked
    (compared exactly, in decimals: 19 of 20 is 0.95)."""
    if escalations < minimum or answered == 0:
        return False
    return Decimal(approved_as_asked) >= Decimal(str(share)) * answered


def covering_amount(amounts: list[Decimal]) -> Decimal:
    """The smallest amount that covers 95 % of `amounts` (nearest rank), rounded up to a whole 10."""
    ordered = sorted(amounts)
    rank = math.ceil(COVERAGE * len(ordered))
    covering = ordered[max(rank, 1) - 1]
    return (covering / ROUND_TO).to_integral_value(rounding=ROUND_CEILING) * ROUND_TO


def proposed_limit(*, amounts: list[Decimal], current: Decimal, ceiling: Decimal | None) -> Decimal | None:
    """The proposal: the covering amount, never above `ceiling` (None: no ceiling); None when that
    would not raise `current`."""
    proposed = covering_amount(amounts)
    if ceiling is not None:
        proposed = min(proposed, ceiling)
    return proposed.quantize(Decimal("0.01")) if proposed > current else None


# --- computing them ------------------------------------------------------------------------------


@dataclass
class _Group:
    decision_ids: list[int] = field(default_factory=list)
    amounts: list[Decimal] = field(default_factory=list)
    makers: set[int] = field(default_factory=set)
    answered: int = 0
    approved_as_asked: int = 0

    def add(self, pk: int, maker: int, amount: Decimal, outcome: str) -> None:
        self.decision_ids.append(pk)
        self.amounts.append(amount)
        self.makers.add(maker)
        self.answered += outcome in ("approved_as_asked", "approved_lower", "rejected")
        self.approved_as_asked += outcome == "approved_as_asked"

    def meets_rule(self) -> bool:
        return meets_rule(
            escalations=len(self.decision_ids),
            answered=self.answered,
            approved_as_asked=self.approved_as_asked,
            minimum=settings.EMPOWER_RECOMMEND_MIN_ESCALATIONS,
            share=settings.EMPOWER_RECOMMEND_SHARE,
        )


@dataclass(frozen=True)
class _Proposal:
    subject_key: str
    decision_type_id: int
    employee: Employee | None
    role_id: int | None
    team_id: int | None
    manager: Employee
    current: Decimal
    proposed: Decimal
    group: _Group


def employee_key(employee_id: int, decision_type_id: int) -> str:
    return f"employee:{employee_id}:type:{decision_type_id}"


def role_in_team_key(role_id: int, team_id: int, decision_type_id: int) -> str:
    return f"role:{role_id}:team:{team_id}:type:{decision_type_id}"


def _escalations_since(since: datetime) -> list[tuple]:
    """Escalated decisions made since `since` that broke only the per-decision limit (one query)."""
    return list(
        Decision.objects.filter(within_authority=False, created_at__gte=since, exceeded=ONLY_PER_DECISION)
        .order_by()
        .values_list(
            "pk",
            "made_by_id",
            "made_by__role_id",
            "made_by__team_id",
            "decision_type_id",
            "amount",
            "final_amount",
            "status",
        )
    )


def _common_manager(members: list[Employee], people: dict[int, Employee]) -> int | None:
    """The nearest person above every member: the last id their chains share."""
    chains = [member.path_ids for member in members]
    shared: int | None = None
    for ids in zip(*chains, strict=False):
        if len(set(ids)) != 1:
            break
        shared = ids[0]
    return shared


def compute_proposals(*, now: datetime) -> list[_Proposal]:
    """Every proposal the evidence supports now (nothing is written)."""
    by_employee: dict[tuple[int, int], _Group] = defaultdict(_Group)
    by_role_team: dict[tuple[int, int, int], _Group] = defaultdict(_Group)
    for pk, maker, role_id, team_id, type_id, amount, final_amount, status in _escalations_since(
        now - timedelta(days=WINDOW_DAYS)
    ):
        outcome = outcome_of(status, amount, final_amount)
        by_employee[(maker, type_id)].add(pk, maker, amount, outcome)
        by_role_team[(role_id, team_id, type_id)].add(pk, maker, amount, outcome)

    role_groups = {key: group for key, group in by_role_team.items() if len(group.makers) >= 2 and group.meets_rule()}
    covered = {(maker, key[2]) for key, group in role_groups.items() for maker in group.makers}
    employee_groups = {key: group for key, group in by_employee.items() if key not in covered and group.meets_rule()}
    if not role_groups and not employee_groups:
        return []

    # Everyone concerned in one query: the makers, the members of the roles in teams, their managers.
    member_filter = Q(pk__in={maker for maker, _type in employee_groups})
    for role_id, team_id, _type in role_groups:
        member_filter |= Q(role_id=role_id, team_id=team_id, user__is_active=True)
    people = {e.pk: e for e in Employee.objects.filter(member_filter).select_related("user", "role")}
    members_of: dict[tuple[int, int], list[Employee]] = defaultdict(list)
    for person in people.values():
        members_of[(person.role_id, person.team_id)].append(person)
    manager_ids = {people[maker].parent_id for maker, _type in employee_groups if maker in people}
    role_managers = {key: _common_manager(members_of[key[:2]], people) for key in role_groups}
    manager_ids |= set(role_managers.values())
    manager_ids.discard(None)
    managers = {e.pk: e for e in Employee.objects.filter(pk__in=manager_ids).select_related("user", "role")}
    type_ids = sorted({key[-1] for key in [*employee_groups, *role_groups]})
    limits = own_limits(employees=[*people.values(), *managers.values()], decision_type_ids=type_ids, at=now)
    role_defaults = {
        (row.role_id, row.decision_type_id): row.per_decision
        for row in AuthorityLimit.objects.filter(
            role_id__in={key[0] for key in role_groups}, decision_type_id__in=type_ids
        )
    }

    proposals: list[_Proposal] = []
    for (maker, type_id), group in employee_groups.items():
        employee = people.get(maker)
        manager = managers.get(employee.parent_id) if employee else None
        current = limits[(maker, type_id)].per_decision if employee else None
        if manager is None or current is None:
            continue
        proposed = proposed_limit(
            amounts=group.amounts, current=current, ceiling=limits[(manager.pk, type_id)].per_decision
        )
        if proposed is not None:
            proposals.append(
                _Proposal(
                    employee_key(maker, type_id), type_id, employee, None, None, manager, current, proposed, group
                )
            )
    for (role_id, team_id, type_id), group in role_groups.items():
        manager = managers.get(role_managers[(role_id, team_id, type_id)])
        current = role_defaults.get((role_id, type_id))
        if manager is None or current is None:
            continue
        proposed = proposed_limit(
            amounts=group.amounts, current=current, ceiling=limits[(manager.pk, type_id)].per_decision
        )
        if proposed is not None:
            key = role_in_team_key(role_id, team_id, type_id)
            proposals.append(_Proposal(key, type_id, None, role_id, team_id, manager, current, proposed, group))
    return proposals


@dataclass(frozen=True)
class RefreshResult:
    created: int
    updated: int
    lapsed: int


@transaction.atomic
def recommendations_refresh(*, now: datetime | None = None) -> RefreshResult:
    """Recompute every proposal: new ones are opened (and their manager told), open ones get the
    current evidence, open ones the evidence no longer supports lapse. A subject whose last proposal
    was dismissed gets a new one only when its escalations have grown by half since."""
    now = now or timezone.now()
    proposals = {proposal.subject_key: proposal for proposal in compute_proposals(now=now)}
    open_rows = {
        row.subject_key: row for row in LimitRecommendation.objects.select_for_update().filter(status=Status.OPEN)
    }
    dismissed = {}
    for key, escalations in (
        LimitRecommendation.objects.filter(subject_key__in=list(proposals), status=Status.DISMISSED)
        .order_by("subject_key", "-decided_at", "-id")
        .values_list("subject_key", "escalations")
    ):
        dismissed.setdefault(key, escalations)  # the latest dismissal of each subject

    created = updated = lapsed = 0
    for key, row in open_rows.items():
        if key not in proposals:
            row.move_to(Status.LAPSED, by=None, reason=str(_("The evidence no longer meets the rule.")), at=now)
            lapsed += 1
    for key, proposal in proposals.items():
        values = {
            "manager": proposal.manager,
            "current": proposal.current,
            "proposed": proposal.proposed,
            "escalations": len(proposal.group.decision_ids),
            "answered": proposal.group.answered,
            "approved_as_asked": proposal.group.approved_as_asked,
            "days": WINDOW_DAYS,
            "evidence": sorted(proposal.group.decision_ids),
            "computed_at": now,
        }
        if row := open_rows.get(key):
            for name, value in values.items():
                setattr(row, name, value)
            row.save()
            updated += 1
            continue
        if key in dismissed and values["escalations"] < dismissed[key] * GROWTH_TO_RETURN:
            continue
        row = LimitRecommendation.objects.create(
            subject_key=key,
            decision_type_id=proposal.decision_type_id,
            employee=proposal.employee,
            role_id=proposal.role_id,
            team_id=proposal.team_id,
            created_at=now,
            **values,
        )
        created += 1
        notify(
            recipient=proposal.manager,
            key=f"recommendation:{row.pk}",
            message=lazy_message(
                _("The record suggests raising a per-decision limit: %(subject)s, up to %(amount)s."),
                subject=subject_label(row),
                amount=Money(row.proposed, settings.EMPOWER_CURRENCY),  # in the recipient's language
            ),
            url=reverse("cockpit-recommendations"),
        )
    return RefreshResult(created=created, updated=updated, lapsed=lapsed)


def subject_label(row: LimitRecommendation) -> str:
    """Whom it is for, in words: "alice (refund)" or "Agents in Customer Care (refund)"."""
    if row.employee_id:
        return f"{row.employee.username} ({row.decision_type.code})"
    return f"{row.role.name} / {row.team.name} ({row.decision_type.code})"


# --- reading them --------------------------------------------------------------------------------


def recommendations_for(*, employee: Employee) -> QuerySet[LimitRecommendation]:
    """The open proposals `employee` may act on: those they receive and those of the managers below
    them (every subject is below its receiving manager)."""
    return (
        LimitRecommendation.objects.filter(status=Status.OPEN)
        .filter(Q(manager=employee) | Q(manager__path__startswith=employee.subtree_prefix))
        .select_related("decision_type", "employee__user", "role", "team", "manager__user")
        .order_by("-escalations", "id")
    )


def recommendation_refusal(*, recommendation: LimitRecommendation, employee: Employee) -> NotAllowed | None:
    """Why `employee` may not accept or dismiss it: for one person, the granting rules' `limits_refusal`;
    for a role in a team, only the receiving manager or someone above them."""
    if recommendation.employee_id:
        return limits_refusal(granter=employee, employee=recommendation.employee)
    if employee.pk == recommendation.manager_id or is_above(manager=employee, employee=recommendation.manager):
        return None
    return NotAllowed(_("Only the manager who received it, or someone above them, may act on it."), code="not_above")


def may_act_on(*, recommendation: LimitRecommendation, employee: Employee) -> bool:
    return recommendation_refusal(recommendation=recommendation, employee=employee) is None


@dataclass(frozen=True)
class EvidenceRow:
    decision_id: int
    case_id: int
    made_by: str
    amount: Decimal
    final_amount: Decimal | None
    outcome: str
    approver: str | None
    note: str
    csat: int | None
    created_at: datetime


def evidence_rows(*, recommendation: LimitRecommendation) -> list[EvidenceRow]:
    """The escalations behind a proposal: amount, outcome, approver, their note, the customer's CSAT
    on that case (one query)."""
    csat = Survey.objects.filter(case_id=OuterRef("case_id")).values("csat")[:1]
    rows = (
        Decision.objects.filter(pk__in=recommendation.evidence)
        .select_related("made_by__user", "escalation__decided_by__user")
        .annotate(csat=Subquery(csat))
        .order_by("-created_at", "-id")
    )
    result = []
    for decision in rows:
        escalation = getattr(decision, "escalation", None)
        result.append(
            EvidenceRow(
                decision_id=decision.pk,
                case_id=decision.case_id,
                made_by=decision.made_by.username,
                amount=decision.amount,
                final_amount=decision.final_amount if decision.status == Decision.Status.APPROVED else None,
                outcome=outcome_of(decision.status, decision.amount, decision.final_amount),
                approver=escalation.decided_by.username if escalation and escalation.decided_by else None,
                note=escalation.note if escalation else "",
                csat=decision.csat,
                created_at=decision.created_at,
            )
        )
    return result


# --- acting on them ------------------------------------------------------------------------------


def _recommendation_for_action(*, recommendation_id: int, employee: Employee) -> LimitRecommendation:
    row = (
        LimitRecommendation.objects.select_for_update(of=("self",))
        .select_related("decision_type", "employee__user", "role", "team", "manager__user")
        .filter(pk=recommendation_id)
        .first()
    )
    # Not one the caller may act on: it does not exist for them.
    if row is None or not may_act_on(recommendation=row, employee=employee):
        raise NotFound(_("No such recommendation, or not one you may act on."))
    return row


def evidence_reason(row: LimitRecommendation) -> str:
    """The reason an accepted proposal gives, naming its evidence."""
    return str(
        _(
            "Limit recommendation #%(id)s: %(escalations)s escalations of %(type)s in the last %(days)s days broke "
            "only the per-decision limit of %(current)s; %(as_asked)s of %(answered)s answered were approved "
            "exactly as asked. Raised to %(proposed)s."
        )
        % {
            "id": row.pk,
            "escalations": row.escalations,
            "type": row.decision_type.code,
            "days": row.days,
            "current": f"{row.current:.2f}",
            "as_asked": row.approved_as_asked,
            "answered": row.answered,
            "proposed": f"{row.proposed:.2f}",
        }
    )


def role_in_team_members(row: LimitRecommendation) -> list[Employee]:
    return list(
        Employee.objects.filter(role_id=row.role_id, team_id=row.team_id, user__is_active=True)
        .select_related("user", "role")
        .order_by("pk")
    )


@transaction.atomic
def recommendation_accept(*, recommendation_id: int, employee: Employee, note: str = "") -> tuple:
    """Accept a proposal: the per-decision limit is raised through `limit_set` (the granting rules:
    403 with the same codes as a limit change; the audit and the notifications of any limit change),
    with a reason naming the evidence. For a role in a team, every active member whose per-decision
    limit is below the proposal gets it as a personal limit (nobody is lowered). Answers the
    recommendation and the limits set."""
    row = _recommendation_for_action(recommendation_id=recommendation_id, employee=employee)
    row.ensure_can_move_to(Status.ACCEPTED)
    reason = evidence_reason(row) + (f" {note.strip()}" if note and note.strip() else "")
    if row.employee_id:
        targets = [row.employee]
    else:
        members = role_in_team_members(row)
        current = own_limits(employees=members, decision_type_ids=[row.decision_type_id])
        targets = [
            member
            for member in members
            if (value := current[(member.pk, row.decision_type_id)].per_decision) is not None and value < row.proposed
        ]
    limits = [
        limit_set(
            granter=employee,
            employee=target,
            decision_type=row.decision_type,
            values={"per_decision": row.proposed},
            reason=reason,
        )
        for target in targets
    ]
    row.move_to(Status.ACCEPTED, by=employee, reason=reason)
    audit(
        actor=employee,
        action="recommendation.accepted",
        target=row,
        before={"status": Status.OPEN, "per_decision": f"{row.current:.2f}"},
        after={
            "status": Status.ACCEPTED,
            "per_decision": f"{row.proposed:.2f}",
            "employees": [t.username for t in targets],
        },
        reason=reason,
        subject=row.employee,
    )
    return row, limits


@transaction.atomic
def recommendation_dismiss(*, recommendation_id: int, employee: Employee, reason: str) -> LimitRecommendation:
    """Dismiss a proposal with a reason (required). It comes back only once its evidence has grown by half."""
    reason = (reason or "").strip()
    if not reason:
        message = _("Say why you dismiss it.")
        raise InvalidInput(message, field_errors={"reason": [message]})
    row = _recommendation_for_action(recommendation_id=recommendation_id, employee=employee)
    row.move_to(Status.DISMISSED, by=employee, reason=reason)
    audit(
        actor=employee,
        action="recommendation.dismissed",
        target=row,
        before={"status": Status.OPEN},
        after={"status": Status.DISMISSED, "escalations": row.escalations},
        reason=reason,
        subject=row.employee,
    )
    return row


def decision_type_of(code: str) -> DecisionType | None:
    return DecisionType.objects.filter(code=code).first()
