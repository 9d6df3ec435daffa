"""`manage.py seed_scale`: a large organization and a year of history on top of the demo, in bulk.

Refuses to run twice: when scale people are already there it says so and changes nothing (exit 0).
Everything is written in one transaction, so an interrupted run leaves nothing behind and "scale
people exist" always means "a complete scale history exists".
"""

import random
import time

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from delegation.management.commands.seed_demo import DEFAULT_PASSWORD
from delegation.models import Decision, Escalation, UsageCounter
from empower.models import Case, Customer, Employee
from feedback.management.scale.bulk import Progress, analyze, immediate_constraints, is_postgresql
from feedback.management.scale.history import History, write_counters
from feedback.management.scale.people import USERNAME_PREFIX, build_customers, build_organization, role_counts
from feedback.management.scale.surveys import build_feedback
from feedback.models import FollowUp, FrictionReport, Survey


class Command(BaseCommand):
    help = (
        "Fill the database with a large organization under the demo's director and a year of cases, "
        "decisions, escalations, usage counters, surveys, follow-ups and friction reports (bulk inserts). "
        "Runs seed_demo first when the demo is missing; does nothing when scale data is already there."
    )

    def add_arguments(self, parser):
        parser.add_argument("--employees", type=int, default=5000, help="People in the organization (default 5000).")
        parser.add_argument("--decisions", type=int, default=1_000_000, help="Decisions in all (default 1000000).")
        parser.add_argument("--customers", type=int, help="Customers (default: one per eight decisions).")
        parser.add_argument("--days", type=int, default=365, help="Days of history, ending now (default 365).")
        parser.add_argument("--seed", type=int, default=42, help="Random seed: the same seed, the same data.")
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help=f"Every scale login's password (default {DEFAULT_PASSWORD!r})."
        )

    def handle(self, *args, employees, decisions, customers, days, seed, password, **options):
        self.show = options["verbosity"] >= 1
        if employees < 20 or decisions < 1 or days < 1:
            raise CommandError("Ask for at least 20 employees, 1 decision and 1 day.")
        role_counts(employees)  # refuses impossible sizes before anything is written
        if existing := self._existing():
            self.stdout.write(
                f"Scale data is already there ({existing} scale employees); nothing changed. "
                "To seed again, start from an empty database."
            )
            return
        if not Employee.objects.filter(user__username="dan").exists():
            call_command("seed_demo", password=password, stdout=self.stdout)
        top = Employee.objects.select_related("user", "parent").get(user__username="dan")
        customers = customers or max(decisions // 8, 10)
        rng = random.Random(seed)
        now = timezone.now()
        self.timings: dict[str, float] = {}
        started = time.monotonic()
        with transaction.atomic():
            immediate_constraints()
            bar = self._bar("employees", employees)
            org = build_organization(employees=employees, password=password, rng=rng, now=now, top=top, progress=bar)
            self._done("employees", bar)
            bar = self._bar("customers", customers)
            people = build_customers(count=customers, rng=rng, now=now, progress=bar)
            self._done("customers", bar)
            history = History(org=org, customers=people.ids, rng=rng, now=now, days=days)
            counts = history.sim.counts
            bar = self._bar(
                "history", decisions, note=lambda: f"cases {counts['cases']}  escalations {counts['escalated']}"
            )
            sim = history.run(decisions, bar)
            self._done("history", bar)
            keys = len(sim.day_use) + len(sim.month_use) + len(sim.customer_use)
            bar = self._bar("counters", keys)
            write_counters(sim, bar)
            self._done("counters", bar)
            bar = self._bar("feedback", len(sim.resolved))
            feedback = build_feedback(sim=sim, org=org, rng=rng, now=now, progress=bar)
            self._done("feedback", bar)
        if is_postgresql():
            began = time.monotonic()
            analyze()
            self.timings["analyze"] = time.monotonic() - began
        self._summary(sim.counts, feedback, time.monotonic() - started)

    def _existing(self) -> int:
        return get_user_model().objects.filter(username__startswith=USERNAME_PREFIX).count()

    def _bar(self, label: str, total: int, note=None) -> Progress:
        return Progress(label, total, stream=self.stderr, enabled=self.show, note=note)

    def _done(self, phase: str, bar: Progress) -> None:
        self.timings[phase] = bar.finish()

    def _summary(self, counts, feedback, elapsed: float) -> None:
        escalated = counts["escalated"] or 1
        lines = [
            f"Scale data ready in {elapsed:.0f} s ({', '.join(f'{k} {v:.1f} s' for k, v in self.timings.items())}).",
            f"  employees {Employee.objects.count()}, customers {Customer.objects.count()}, "
            f"cases {Case.objects.count()} ({counts['cases_resolved']} resolved)",
            f"  decisions {Decision.objects.count()}: {counts['within_authority']} within authority "
            f"({counts['within_authority'] / max(counts['decisions'], 1):.1%}), {counts['escalated']} escalated",
            f"  escalations {Escalation.objects.count()}: "
            + ", ".join(
                f"{k} {counts[f'escalated_{k}']} ({counts[f'escalated_{k}'] / escalated:.0%})"
                for k in ("approved", "lower", "rejected", "withdrawn", "waiting")
            ),
            f"  usage counters {UsageCounter.objects.count()}, surveys {Survey.objects.count()} "
            f"({feedback['answered']} answered), follow-ups {FollowUp.objects.count()} "
            f"({feedback['follow_ups_open']} open), friction reports {FrictionReport.objects.count()} "
            f"({feedback['friction_open']} open, {feedback['friction_seconds']} seconds)",
        ]
        if self.show:
            self.stdout.write("\n".join(lines))
