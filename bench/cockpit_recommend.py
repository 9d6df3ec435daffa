"""Timing: the cockpit's recommendations, track records and what-if on the scale data. Asserts nothing.

    DATABASE_URL=postgres://root@127.0.0.1:5432/scale .venv/bin/python bench/cockpit_recommend.py

Runs against the database as it is (seed it with `seed_scale`; nothing is written except by the
recommendations' recomputation, which it runs once). Each page and API call goes through Django's
whole stack in-process (test client, session of a real person); it prints the median and the worst
of a few runs and the number of SQL queries.
"""

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from empower.models import Employee  # noqa: E402
from feedback.cockpit.recommendations import recommendations_refresh  # noqa: E402

RUNS = 5


def timed(label: str, call) -> None:
    times, queries = [], 0
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = call()
            times.append((time.perf_counter() - start) * 1000)
        queries = len(captured)
        status = getattr(response, "status_code", "-")
    print(f"{label:<58} {statistics.median(times):8.1f} ms  max {max(times):8.1f}  {queries:3d} q  [{status}]")


def client_for(employee: Employee) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(employee.user)
    return client


def main() -> None:
    start = time.perf_counter()
    result = recommendations_refresh()
    print(f"recommendations recomputed (the periodic task): {(time.perf_counter() - start):.1f} s, {result}")

    director = Employee.objects.select_related("user").get(user__username="dan")
    # A team lead with the most agents, and the manager above them.
    lead = (
        Employee.objects.filter(role__code="team_lead")
        .annotate(people=Count("reports"))
        .order_by("-people")
        .select_related("user")
        .first()
    )
    manager = lead.parent
    agent = Employee.objects.filter(parent=lead).select_related("user").first()
    print(f"director {director.username}, manager {manager.username}, lead {lead.username}, agent {agent.username}")

    as_director, as_manager, as_lead, as_agent = (client_for(e) for e in (director, manager, lead, agent))
    what_if_role = {"decision_type": "refund", "role": "agent", "per_decision": "150.00", "days": 90}
    what_if_team = {**what_if_role, "team": lead.team.name}
    what_if_one = {"decision_type": "refund", "employee": agent.username, "per_decision": "150.00"}
    calls = [
        ("what-if API: agents, all teams, 90 days (director)", lambda: as_director.post(
            "/api/v1/insights/what-if/", what_if_role, content_type="application/json")),
        ("what-if API: agents of one team, 90 days (team lead)", lambda: as_lead.post(
            "/api/v1/insights/what-if/", what_if_team, content_type="application/json")),
        ("what-if API: one agent (team lead)", lambda: as_lead.post(
            "/api/v1/insights/what-if/", what_if_one, content_type="application/json")),
        ("what-if page: agents, all teams (director)", lambda: as_director.get(
            "/insights/what-if/", what_if_role)),
        ("recommendations API (director)", lambda: as_director.get("/api/v1/insights/recommendations/")),
        ("recommendations page (director)", lambda: as_director.get("/insights/recommendations/")),
        ("recommendations page (team lead)", lambda: as_lead.get("/insights/recommendations/")),
        ("track record API, one agent, 90 days (team lead)", lambda: as_lead.get(
            f"/api/v1/employees/{agent.username}/track-record/?period=90")),
        ("track record API, one agent, all time (director)", lambda: as_director.get(
            f"/api/v1/employees/{agent.username}/track-record/?period=all")),
        ("own track record page (agent)", lambda: as_agent.get(
            f"/insights/track-records/{agent.username}/")),
        ("track records page, 90 days (team lead)", lambda: as_lead.get("/insights/track-records/")),
        ("track records page, 90 days (manager)", lambda: as_manager.get("/insights/track-records/")),
        ("track records page, 90 days (director, everyone)", lambda: as_director.get(
            "/insights/track-records/")),
    ]  # fmt: skip
    for label, call in calls:
        timed(label, call)


if __name__ == "__main__":
    main()
