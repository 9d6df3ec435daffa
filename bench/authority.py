"""Benchmark: the hot paths stay flat as the organization grows. Prints figures; asserts nothing.

    .venv/bin/python bench/authority.py          # SQLite by default; DATABASE_URL for PostgreSQL

It builds the demo organization plus N extra agents and M earlier decisions in a scratch
database, then times decision_submit, authority_of and the matrix, and counts their queries.
"""

import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from config.celery import app  # noqa: E402
from delegation.models import DecisionType  # noqa: E402
from delegation.selectors import authority_matrix, authority_of  # noqa: E402
from delegation.services import decision_submit  # noqa: E402
from empower.models import Employee, Role, Team  # noqa: E402
from empower.services import case_open  # noqa: E402

EXTRA_AGENTS = 500
DECISIONS = 1000


def measure(label: str, fn, repeat: int = 50) -> None:
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        fn()
    began = time.perf_counter()
    for _ in range(repeat):
        fn()
    per_call = (time.perf_counter() - began) / repeat * 1000
    print(f"{label:<34} {per_call:8.2f} ms/call  {len(queries):3d} queries")


def main() -> None:
    setup_test_environment()
    app.conf.task_always_eager = True
    creation = connection.creation
    test_db = creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        call_command("seed_demo", password="bench", stdout=open(os.devnull, "w"))  # noqa: SIM115
        bob = Employee.objects.get(user__username="bob")
        carol = Employee.objects.get(user__username="carol")
        agent, team = Role.objects.get(code="agent"), Team.objects.get(name="Customer Care")
        users = get_user_model().objects.bulk_create(
            get_user_model()(username=f"agent{i}") for i in range(EXTRA_AGENTS)
        )
        Employee.objects.bulk_create(Employee(user=u, role=agent, team=team, parent=bob) for u in users)
        alice = Employee.objects.get(user__username="alice")
        refund = DecisionType.objects.get(code="refund")
        case = case_open(employee=alice, customer_name="Bench", customer_email="bench@example.com", subject="Bench")
        began = time.perf_counter()
        for i in range(DECISIONS):
            decision_submit(
                employee=alice, case=case, decision_type=refund, amount=Decimal("0.01"), rationale=f"warm-up {i}"
            )
        print(f"{DECISIONS} decisions submitted in {time.perf_counter() - began:.1f} s on {connection.vendor}")
        print(f"organization: {Employee.objects.count()} employees")
        measure(
            "decision_submit (within)",
            lambda: decision_submit(
                employee=alice, case=case, decision_type=refund, amount=Decimal("0.01"), rationale="bench"
            ),
        )
        measure("authority_of(alice)", lambda: authority_of(employee=alice))
        measure(f"authority_matrix(carol) {EXTRA_AGENTS + 7} people", lambda: authority_matrix(manager=carol), repeat=5)
    finally:
        creation.destroy_test_db(test_db, verbosity=0)


if __name__ == "__main__":
    main()
