"""A year of cases, decisions and escalations, simulated day by day in time order so that every
decision is judged as the app would have judged it: the maker's role limits against what they (and
the customer) had used so far; beyond them escalated, routed to the nearest person above whose
authority covers it, answered (or moved up when overdue or beyond the approver's caps), and every
approved amount counted on the usage counters of whoever's authority approved it.
"""

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from delegation.authority import NO_AUTHORITY, Limits, Usage, exceeded_limits
from delegation.deadlines import add_working_hours
from delegation.models import (
    AuthorityLimit,
    Decision,
    DecisionType,
    Escalation,
    EscalationStep,
    ResponseTime,
    UsageCounter,
)
from delegation.selectors.usage import AuthoritySnapshot, counter_keys
from empower.models import Case
from feedback.management.scale.bulk import IdPool, Progress, Writer
from feedback.management.scale.people import Organization
from feedback.management.scale.texts import (
    NOTES,
    RATIONALES,
    REJECTIONS,
    RESOLUTIONS,
    SUBJECTS,
    WITHDRAWALS,
    WOW_STORIES,
)

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Share of the decisions per type; a type not named here (e.g. one added later) gets the last weight.
TYPE_WEIGHTS = {
    "refund": 38, "goodwill_credit": 22, "replacement": 14, "fee_waiver": 14, "expedited_shipping": 12, "wow": 3,
}  # fmt: skip
OTHER_TYPE_WEIGHT = 6
# Office hours in the organization's time zone (hour → weight), and the week (Monday first).
HOURS = [0.2, 0.1, 0.1, 0.1, 0.1, 0.3, 0.8, 2, 5, 8, 9, 8, 6, 7, 8, 7, 6, 4, 2.5, 1.5, 1, 0.7, 0.5, 0.3]
WEEKDAYS = [1.1, 1.05, 1.0, 1.0, 0.95, 0.45, 0.3]
# How escalations end (after any move up): approved as asked, approved lower, rejected, withdrawn.
OUTCOMES = (("approved", 58), ("lower", 15), ("rejected", 19), ("withdrawn", 8))
# The trusted agents (see `History.__init__`): extra cases a day each, and the share of their
# decisions a little beyond their per-decision limit.
TRUSTED_CASES_A_DAY = 2
TRUSTED_BEYOND_SHARE = 0.45
OVERDUE_SHARE = 0.07  # not answered in time: moved up a level by the periodic review
STUCK_SHARE = 0.06  # of the last three days' escalations: nobody has answered yet


def season(day: date) -> float:
    """A December peak (and the January returns after it), a summer dip."""
    doy = day.timetuple().tm_yday
    december = 0.9 * math.exp(-(((doy - 352) / 14) ** 2)) + 0.4 * math.exp(-(((doy + 365 - 352) / 14) ** 2))
    january = 0.35 * math.exp(-(((doy - 8) / 7) ** 2))
    summer = -0.25 * math.exp(-(((doy - 212) / 28) ** 2))
    return 1.0 + december + january + summer


def money(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


@dataclass
class Simulated:
    """What the later phases need: usage per counter, resolved cases, friction candidates."""

    day_use: dict = field(default_factory=lambda: defaultdict(Decimal))  # (holder, type, date) → amount
    month_use: dict = field(default_factory=lambda: defaultdict(Decimal))  # (holder, type, (y, m)) → amount
    customer_use: dict = field(default_factory=lambda: defaultdict(Decimal))  # (customer, type, (y, m))
    # (case id, team id, resolver id, resolved at, mood: 0 settled at the edge, 1 escalated, 2 refused/cut)
    resolved: list = field(default_factory=list)
    # Escalated decisions by agents: (decision id, case id, maker id, team id, type id, first cap broken, at)
    frictions: list = field(default_factory=list)
    counts: dict = field(default_factory=lambda: defaultdict(int))


class History:
    def __init__(self, *, org: Organization, customers: list[int], rng: random.Random, now: datetime, days: int):
        self.org, self.customers, self.rng, self.now, self.days = org, customers, rng, now, days
        self.tz = timezone.get_default_timezone()
        self.currency = settings.EMPOWER_CURRENCY
        self.types = [t for t in DecisionType.objects.filter(is_active=True).order_by("code")]
        rows = AuthorityLimit.objects.filter(role__isnull=False).select_related("role")
        role_limits = {
            (row.role.code, row.decision_type_id): Limits(
                row.per_decision, row.per_day, row.per_month, row.per_customer_month
            )
            for row in rows
        }
        self.role_limits = role_limits
        # Types the frontline may decide at all (an agent limit exists), amounts scaled to that limit.
        self.types = [t for t in self.types if ("agent", t.pk) in role_limits]
        if not self.types:
            raise ValueError("No decision type has limits for agents: run seed_demo first.")
        self.type_weights = [TYPE_WEIGHTS.get(t.code, OTHER_TYPE_WEIGHT) for t in self.types]
        self.scale_of = {t.pk: role_limits[("agent", t.pk)].per_decision or Decimal("100.00") for t in self.types}
        hours = {(r.decision_type_id, r.level): r.hours for r in ResponseTime.objects.all()}
        type_hours = {t.pk: t.response_hours for t in self.types}
        self.response_hours = lambda type_id, level: hours.get((type_id, level)) or type_hours[type_id]
        self.agents = org.of_role("agent")
        # A few agents with a steady pattern the cockpit's limit recommendations should find: busier
        # than most, often just beyond their per-decision limit, and approved exactly as asked when
        # only that limit was broken. Drawn from a stream of their own, so the rest of the history is
        # what the same seed always made.
        self.trust_rng = random.Random(f"trusted:{len(self.agents)}:{days}")
        trusted = self.trust_rng.sample(self.agents, min(len(self.agents), max(3, len(self.agents) // 400)))
        self.trusted_agents = sorted(trusted, key=lambda a: a.id)
        self.trusted = {a.id for a in trusted}
        self.trusted_share = 0.0
        self.usernames = {p.id: p.username for p in org.people}
        self.sim = Simulated()
        self.case_ids, self.decision_ids, self.escalation_ids = IdPool(Case), IdPool(Decision), IdPool(Escalation)
        self.cases = Writer(Case, CASE_FIELDS)
        self.decisions = Writer(Decision, DECISION_FIELDS).after(self.cases)
        self.escalations = Writer(Escalation, ESCALATION_FIELDS).after(self.decisions)
        self.steps = Writer(EscalationStep, STEP_FIELDS).after(self.escalations)

    # --- the calendar ---------------------------------------------------------------------------

    def per_day(self, total: int) -> list[tuple[date, int]]:
        """`total` decisions over the last `days` days by seasonal and weekly weights (largest remainder)."""
        today = timezone.localtime(self.now, self.tz).date()
        days = [today - timedelta(days=n) for n in range(self.days - 1, -1, -1)]
        weights = [season(d) * WEEKDAYS[d.weekday()] for d in days]
        weights[-1] *= max(timezone.localtime(self.now, self.tz).hour, 1) / 24  # today is not over yet
        exact = [total * w / sum(weights) for w in weights]
        counts = [int(x) for x in exact]
        for i in sorted(range(len(days)), key=lambda i: exact[i] - counts[i], reverse=True)[: total - sum(counts)]:
            counts[i] += 1
        return list(zip(days, counts, strict=True))

    def moment(self, day: date) -> datetime:
        hour = self.rng.choices(range(24), weights=HOURS)[0]
        local = datetime.combine(day, time(hour, self.rng.randrange(60), self.rng.randrange(60)))
        at = timezone.make_aware(local, self.tz)
        start = self.now - timedelta(days=self.days)
        if at > self.now:  # today is not over: earlier today instead
            at = max(timezone.make_aware(datetime.combine(day, time(0)), self.tz), start)
            at += (self.now - at) * self.rng.random()
        return max(at, start + timedelta(minutes=1))

    # --- a day ----------------------------------------------------------------------------------

    def run(self, total: int, progress: Progress) -> Simulated:
        # About two more cases a day for each trusted agent (a case holds about 1.45 decisions).
        self.trusted_share = min(0.05, TRUSTED_CASES_A_DAY * len(self.trusted) * self.days * 1.45 / max(total, 1))
        for day, count in self.per_day(total):
            self.simulate_day(day, count)
            progress.advance(count)
        self.steps.flush()  # and, before it, the escalations, decisions and cases
        return self.sim

    def simulate_day(self, day: date, count: int) -> None:
        rng = self.rng
        planned = []  # (created at, case index, maker, type)
        cases = []
        while count > 0:
            k = min(count, rng.choices((1, 2, 3), weights=(65, 25, 10))[0])
            count -= k
            agent = rng.choice(self.agents)
            if self.trusted_agents and self.trust_rng.random() < self.trusted_share:
                agent = self.trust_rng.choice(self.trusted_agents)
            opened = self.moment(day)
            case = {"agent": agent, "customer": rng.choice(self.customers), "opened": opened, "last": opened,
                    "mood": 0, "waiting": False}  # fmt: skip
            cases.append(case)
            at = opened + timedelta(minutes=rng.uniform(2, 40))
            for _ in range(k):
                at = min(at, self.now)
                maker = agent if rng.random() < 0.88 else self.org.by_id[agent.parent_id]
                decision_type = rng.choices(self.types, weights=self.type_weights)[0]
                planned.append((at, len(cases) - 1, maker, decision_type))
                at += timedelta(minutes=rng.uniform(20, 240))
        case_ids = self.case_ids.take(len(cases))
        planned.sort(key=lambda p: p[0])
        decision_ids = self.decision_ids.take(len(planned))
        decision_rows, escalation_rows, step_rows = [], [], []
        for decision_id, (at, index, maker, decision_type) in zip(decision_ids, planned, strict=True):
            case = cases[index]
            case["id"] = case_ids[index]
            self.decide(decision_id, at, case, maker, decision_type, decision_rows, escalation_rows, step_rows)
        for case_id, case in zip(case_ids, cases, strict=True):
            self.cases.add(self.case_row(case_id, case))
        for row in decision_rows:
            self.decisions.add(row)
        escalation_ids = self.escalation_ids.take(len(escalation_rows))
        for row in escalation_rows:
            self.escalations.add((escalation_ids[row[0]], *row[1:]))
        for row in step_rows:
            self.steps.add((escalation_ids[row[0]], *row[1:]))
        self.sim.counts["cases"] += len(cases)

    def case_row(self, case_id: int, case: dict) -> tuple:
        rng, agent = self.rng, case["agent"]
        resolved_at = case["last"] + timedelta(minutes=rng.uniform(5, 360))
        resolved = not case["waiting"] and resolved_at <= self.now
        if resolved:
            self.sim.resolved.append((case_id, agent.team_id, agent.id, resolved_at, case["customer"], case["mood"]))
            self.sim.counts["cases_resolved"] += 1
        subject = rng.choice(SUBJECTS)
        return (
            case_id, case["customer"], agent.team_id, agent.id, agent.id, subject,
            f"Customer writes: {subject.lower()}.",
            "resolved" if resolved else "open", rng.choice(RESOLUTIONS) if resolved else "",
            agent.id if resolved else None, resolved_at if resolved else None, case["opened"],
            resolved_at if resolved else case["last"],
        )  # fmt: skip

    # --- one decision ---------------------------------------------------------------------------

    def amount(self, type_id: int, maker_role: str) -> Decimal:
        """Mostly well within the frontline's per-decision limit; some beyond it, a few far beyond."""
        rng, scale = self.rng, self.scale_of[type_id]
        over = rng.random() < (0.17 if maker_role == "agent" else 0.05)
        if over:
            factor = rng.uniform(1.05, 2.6) if rng.random() < 0.85 else rng.uniform(2.6, 30)
        else:
            factor = min(rng.lognormvariate(-1.0, 0.55), 0.99)
        value = scale * Decimal(str(round(factor, 4)))
        whole = rng.random() < 0.6
        value = value.quantize(Decimal("1") if whole else CENT)
        return max(value, Decimal("1.00")).quantize(CENT)

    def holding(self, person_id: int, type_id: int, customer_id: int, at: datetime) -> tuple[Limits, Usage]:
        person = self.org.by_id.get(person_id)
        role = person.role if person else "director"  # above the scale organization: the demo's director
        limits = self.role_limits.get((role, type_id), NO_AUTHORITY)
        day = timezone.localtime(at, self.tz).date()
        month = (day.year, day.month)
        usage = Usage(
            today=self.sim.day_use.get((person_id, type_id, day), ZERO),
            this_month=self.sim.month_use.get((person_id, type_id, month), ZERO),
            customer_this_month=self.sim.customer_use.get((customer_id, type_id, month), ZERO),
        )
        return limits, usage

    def count(self, holder_id: int, type_id: int, customer_id: int, at: datetime, amount: Decimal) -> None:
        day = timezone.localtime(at, self.tz).date()
        month = (day.year, day.month)
        self.sim.day_use[(holder_id, type_id, day)] += amount
        self.sim.month_use[(holder_id, type_id, month)] += amount
        self.sim.customer_use[(customer_id, type_id, month)] += amount

    @staticmethod
    def record(type_id: int, customer_id: int, limits: Limits, usage: Usage) -> dict:
        # The app's own record of "the limits and use that judged it" (AuthoritySnapshot.as_record).
        snapshot = AuthoritySnapshot(None, type_id, customer_id, limits, usage, None)  # type: ignore[arg-type]
        return snapshot.as_record()

    def decide(self, decision_id, at, case, maker, decision_type, decisions, escalations, steps) -> None:
        rng, type_id, customer_id = self.rng, decision_type.pk, case["customer"]
        amount = self.amount(type_id, maker.role)
        if maker.id in self.trusted and self.trust_rng.random() < TRUSTED_BEYOND_SHARE:
            factor = Decimal(str(round(self.trust_rng.uniform(1.05, 1.45), 2)))
            amount = (self.scale_of[type_id] * factor).quantize(Decimal("1")).quantize(CENT)
        limits, usage = self.holding(maker.id, type_id, customer_id, at)
        exceeded = exceeded_limits(limits, usage, amount)
        rationale = rng.choice(RATIONALES[decision_type.code] if decision_type.code in RATIONALES else RATIONALES["*"])
        snapshot = self.record(type_id, customer_id, limits, usage)
        story = rng.choice(WOW_STORIES) if decision_type.requires_story else ""  # a wow gesture tells its story
        self.sim.counts["decisions"] += 1
        if not exceeded:
            self.count(maker.id, type_id, customer_id, at, amount)
            self.sim.counts["within_authority"] += 1
            decisions.append(
                (decision_id, case["id"], customer_id, type_id, maker.id, amount, self.currency, amount, rationale,
                 "approved", True, [], snapshot, {}, maker.id, maker.id, None, "", at, at, story)
            )  # fmt: skip
            case["last"] = max(case["last"], at)
            return
        escalation = self.escalate(len(escalations), decision_id, at, case, maker, type_id, amount, exceeded, steps)
        escalations.append(escalation["row"])
        status, final, approver, decided_at = escalation["decision"]
        approval = {}
        if status == "approved":
            limits_a, usage_a = self.holding(approver, type_id, customer_id, decided_at)
            approval = self.record(type_id, customer_id, limits_a, usage_a) | {"authority_of": self.username(approver)}
            self.count(approver, type_id, customer_id, decided_at, final)
        decisions.append(
            (decision_id, case["id"], customer_id, type_id, maker.id, amount, self.currency, final, rationale, status,
             False, exceeded, snapshot, approval, approver if status == "approved" else None,
             approver if status == "approved" else None, None, "", at, decided_at, story)
        )  # fmt: skip
        self.sim.counts[f"escalated_{escalation['outcome']}"] += 1
        self.sim.counts["escalated"] += 1
        if status == "escalated":
            case["waiting"] = True
        else:
            case["last"] = max(case["last"], decided_at)
        if escalation["outcome"] != "approved":
            case["mood"] = 2
        else:
            case["mood"] = max(case["mood"], 1)
        if maker.role == "agent" and rng.random() < 0.02:
            self.sim.frictions.append((decision_id, case["id"], maker.id, maker.team_id, type_id, exceeded[0], at))

    def username(self, employee_id: int) -> str:
        if employee_id in self.usernames:
            return self.usernames[employee_id]
        return self.org.top.user.username

    def nearest_covering(self, above: int, type_id, customer_id, amount, at) -> int:
        """The nearest person above `above` whose authority covers `amount` on every cap."""
        for person_id in self.org.chain[above]:
            limits, usage = self.holding(person_id, type_id, customer_id, at)
            if not exceeded_limits(limits, usage, amount):
                return person_id
        return self.org.chain[above][-1]  # the demo's director: no limits, covers anything

    def escalate(self, escalation_id, decision_id, at, case, maker, type_id, amount, exceeded, steps) -> dict:
        """Route, answer or move up one escalation; `escalation_id` is its index in the day until ids are taken."""
        rng, customer_id = self.rng, case["customer"]
        level, route_above = 1, maker.id
        routing_since = at
        routed = at + timedelta(seconds=rng.uniform(0.3, 4))
        approver = self.nearest_covering(route_above, type_id, customer_id, amount, routed)
        due = add_working_hours(routed, self.response_hours(type_id, level))
        steps.append((escalation_id, level, "assigned", approver, EscalationStep.Reason.ROUTED, routed))
        outcome = rng.choices([o for o, _ in OUTCOMES], weights=[w for _, w in OUTCOMES])[0]
        if maker.id in self.trusted and exceeded == ["per_decision"]:
            outcome = "approved"  # their approvers agree with them: the recommendations' evidence
        overdue = rng.random() < OVERDUE_SHARE
        stuck = at > self.now - timedelta(days=3) and rng.random() < STUCK_SHARE
        final, note, decided_by, decided_at, status = None, "", None, None, "assigned"
        while not stuck:
            if overdue:  # nobody answered in time: the periodic review moves it up a level
                moved, reason = due + timedelta(minutes=rng.uniform(0.5, 15)), EscalationStep.Reason.OVERDUE
            else:
                hours = self.response_hours(type_id, level)
                answer_hours = min(rng.lognormvariate(math.log(max(hours / 4, 0.5)), 0.8), hours * 0.95)
                decided_at = add_working_hours(routed, answer_hours)
                if outcome == "withdrawn":
                    decided_at = min(routed + timedelta(minutes=rng.uniform(10, 600)), decided_at)
                if decided_at > self.now:
                    decided_at = None
                    break
                if outcome not in ("approved", "lower"):
                    break
                final = amount
                if outcome == "lower":
                    lower = (amount * Decimal(str(rng.uniform(0.5, 0.9)))).quantize(Decimal("1")).quantize(CENT)
                    if Decimal("1.00") <= lower < amount:
                        final = lower
                    else:
                        outcome = "approved"
                if self.covers(approver, type_id, customer_id, final, decided_at):
                    break
                # The approver's caps no longer cover it: up a level.
                moved, reason = decided_at, EscalationStep.Reason.CAPACITY
                decided_at = final = None
            if moved > self.now:
                break
            overdue = False
            steps.append((escalation_id, level + 1, "routing", approver, reason, moved))
            level, route_above, routing_since = level + 1, approver, moved
            routed = moved + timedelta(seconds=rng.uniform(0.3, 4))
            approver = self.nearest_covering(route_above, type_id, customer_id, amount, routed)
            due = add_working_hours(routed, self.response_hours(type_id, level))
            steps.append((escalation_id, level, "assigned", approver, EscalationStep.Reason.ROUTED, routed))
        if decided_at is None:
            outcome = "waiting"
        else:
            status = {"approved": "approved", "lower": "approved", "rejected": "rejected", "withdrawn": "withdrawn"}[
                outcome
            ]
            decided_by = maker.id if outcome == "withdrawn" else approver
            note = rng.choice(
                {"approved": NOTES, "lower": NOTES, "rejected": REJECTIONS, "withdrawn": WITHDRAWALS}[outcome]
            )
            steps.append((escalation_id, level, status, approver, EscalationStep.Reason(status), decided_at))
        row = (
            escalation_id, decision_id, status, level, route_above, approver, approver, exceeded, due, note,
            decided_by, decided_at, at, routing_since, routed,
        )  # fmt: skip
        decision_status = {"assigned": "escalated"}.get(status, status)
        return {
            "row": row,
            "outcome": outcome,
            "decision": (decision_status, final if status == "approved" else None, approver, decided_at),
        }

    def covers(self, person_id, type_id, customer_id, amount, at) -> bool:
        limits, usage = self.holding(person_id, type_id, customer_id, at)
        return not exceeded_limits(limits, usage, amount)


CASE_FIELDS = [
    "id", "customer", "team", "assigned_to", "created_by", "subject", "description", "status", "resolution_note",
    "resolved_by", "resolved_at", "created_at", "updated_at",
]  # fmt: skip
DECISION_FIELDS = [
    "id", "case", "customer", "decision_type", "made_by", "amount", "currency", "final_amount", "rationale", "status",
    "within_authority", "exceeded", "limits_snapshot", "approval_snapshot", "approved_by", "authority_of",
    "idempotency_key", "request_fingerprint", "created_at", "decided_at", "story",
]  # fmt: skip
ESCALATION_FIELDS = [
    "id", "decision", "status", "level", "route_above", "approver", "assigned_to", "exceeded", "due_at", "note",
    "decided_by", "decided_at", "created_at", "routing_since", "routed_at",
]  # fmt: skip
STEP_FIELDS = ["escalation", "level", "status", "assigned_to", "reason", "created_at"]


def write_counters(sim: Simulated, progress: Progress) -> int:
    """One usage counter per cap and period that any approved amount moved, keyed as the app keys them."""
    tz = timezone.get_default_timezone()
    noon: dict = {}

    def at(day: date) -> datetime:
        if day not in noon:
            noon[day] = timezone.make_aware(datetime.combine(day, time(12)), tz)
        return noon[day]

    counters = Writer(UsageCounter, ["key", "amount"])
    for (holder, type_id, day), amount in sim.day_use.items():
        counters.add(
            (counter_keys(holder_id=holder, decision_type_id=type_id, customer_id=None, at=at(day)).day, amount)
        )
        progress.advance()
    for (holder, type_id, (year, month)), amount in sim.month_use.items():
        keys = counter_keys(holder_id=holder, decision_type_id=type_id, customer_id=None, at=at(date(year, month, 1)))
        counters.add((keys.month, amount))
        progress.advance()
    for (customer, type_id, (year, month)), amount in sim.customer_use.items():
        keys = counter_keys(holder_id=0, decision_type_id=type_id, customer_id=customer, at=at(date(year, month, 1)))
        counters.add((keys.customer_month, amount))
        progress.advance()
    counters.flush()
    return counters.written
