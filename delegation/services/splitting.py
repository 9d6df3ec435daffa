"""Splitting is seen: several decisions of one type for one customer by one employee, within a short
window (`EMPOWER_SPLIT_WINDOW_MINUTES`), that together go above that employee's per-decision limit
are flagged to their manager — never blocked — with the decisions linked (`SplitFlag`) and a
notification.

Computed off the request path: `delegation.tasks.detect_splitting` runs every minute (beat) over the
decisions approved within authority since a little more than one window ago, in a constant number of
queries, so deciding costs nothing more. Running it twice flags and tells nothing twice: a flag's key
names the cluster's first decision, and a later decision that joins the cluster is linked to it.
"""

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from delegation.models import Decision, SplitFlag
from empower.money import Money
from empower.services import audit, lazy_message, notify


def _per_decision(decision: Decision) -> Decimal | None:
    """The maker's own per-decision limit that judged it; None for no limit, or when a stand-in
    decided on someone else's authority (that person's limit is not the maker's)."""
    snapshot = decision.limits_snapshot or {}
    value = snapshot.get("per_decision")
    if value in (None, "") or snapshot.get("source") == "stand-in":
        return None
    return Decimal(value)


def splitting_detect(*, now=None) -> int:
    """Flag what looks split since a window and a half ago; answers how many flags were new."""
    now = now or timezone.now()
    window = timedelta(minutes=settings.EMPOWER_SPLIT_WINDOW_MINUTES)
    recent = (
        Decision.objects.filter(
            status=Decision.Status.APPROVED,
            within_authority=True,
            decided_at__gte=now - window * 2,
            decided_at__lte=now,
        )
        .select_related("case", "made_by__parent__user", "made_by__user", "decision_type")
        .order_by("decided_at", "id")
    )
    groups: dict[tuple[int, int, int], list[Decision]] = defaultdict(list)
    for decision in recent:
        groups[(decision.made_by_id, decision.decision_type_id, decision.case.customer_id)].append(decision)
    created = 0
    for decisions in groups.values():
        if len(decisions) < 2:
            continue
        for cluster in _clusters(decisions, window):
            created += _flag(cluster, window)
    return created


def _clusters(decisions: list[Decision], window: timedelta) -> list[list[Decision]]:
    """Runs of decisions each within `window` of the run's first, whose sum exceeds the per-decision
    limit that judged the last of them (the maker's own; a stand-in's judged by another's is skipped)."""
    found, start = [], 0
    for end in range(len(decisions)):
        while decisions[end].decided_at - decisions[start].decided_at > window:
            start += 1
        run = decisions[start : end + 1]
        limit = _per_decision(run[-1])
        if len(run) >= 2 and limit is not None and sum(d.final_amount or d.amount for d in run) > limit:
            if found and found[-1][0].pk == run[0].pk:
                found[-1] = run  # the same cluster, grown
            else:
                found.append(run)
    return found


@transaction.atomic
def _flag(cluster: list[Decision], window: timedelta) -> int:
    first, last = cluster[0], cluster[-1]
    maker = first.made_by
    key = f"split:{maker.pk}:{first.decision_type_id}:{first.case.customer_id}:{first.pk}"
    flag, created = SplitFlag.objects.get_or_create(
        key=key,
        defaults={
            "made_by": maker,
            "manager": maker.parent,
            "decision_type": first.decision_type,
            "customer_id": first.case.customer_id,
            "total": sum(d.final_amount or d.amount for d in cluster),
            "per_decision": _per_decision(last),
            "currency": first.currency,
            "window_minutes": int(window.total_seconds() // 60),
        },
    )
    if not created:
        total = sum(d.final_amount or d.amount for d in cluster)
        if total != flag.total:
            SplitFlag.objects.filter(pk=flag.pk).update(total=total)
    flag.decisions.add(*cluster)
    if not created:
        return 0
    audit(
        actor=None,
        action="decision.split_flagged",
        target=flag,
        after={"decisions": [d.pk for d in cluster], "total": f"{flag.total:.2f}"},
        subject=maker,
        reason=str(_("Several decisions for one customer within a short window, above the per-decision limit.")),
    )
    if maker.parent is not None:
        notify(
            recipient=maker.parent,
            key=key,
            message=lazy_message(
                _(
                    "%(employee)s decided %(count)s %(type)s for one customer within %(minutes)s minutes, "
                    "%(total)s together, above their per-decision limit of %(limit)s: possibly "
                    "one decision split in parts (case #%(case)s)."
                ),
                employee=str(maker),
                count=len(cluster),
                type=first.decision_type,  # its name in the recipient's language
                minutes=flag.window_minutes,
                total=Money(flag.total, flag.currency),  # in the recipient's language
                limit=Money(flag.per_decision, flag.currency),
                case=last.case_id,
            ),
            url="/authority/splits/",
        )
    return 1
