"""Benchmark: every cockpit page and API answer, on the scale data. Prints a table; asserts nothing.

    DATABASE_URL=postgres://root@127.0.0.1:5432/scale_c11a .venv/bin/python bench/cockpit.py [--runs 5]

Runs against the database in DATABASE_URL as it is (seed it first: `seed_scale --employees 5000
--decisions 1000000`, then `cockpit_summaries`, which the beat task also does on its first run).
Each request goes through Django's test Client (the whole stack but the HTTP server), logged in as
a director (dan, over the whole company), a manager and a team lead of the scale organization; it
is sent once to warm up, then `--runs` times, and the median time and the query count are shown.
The target: every answer under 500 ms, the satisfaction page for a director under 150 ms.
"""

import argparse
import os
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from empower.models import Employee  # noqa: E402

WHO = {
    "director": "dan",
    "manager": "scale-manager-00001",
    "team lead": "scale-lead-00001",
}
PERIODS = ("30", "90", "365", "all")


def cockpit_requests() -> list[tuple[str, str, str]]:
    """(who, label, url) for every page and API answer of the cockpit."""
    wanted = []
    for who in WHO:
        for period in PERIODS:
            wanted += [
                (who, f"decisions page {period}", f"/insights/?period={period}"),
                (who, f"pyramid page {period}", f"/insights/pyramid/?period={period}"),
                (who, f"API decisions {period}", f"/api/v1/insights/decisions/?period={period}"),
                (who, f"API decisions csv {period}", f"/api/v1/insights/decisions/?period={period}&format=csv"),
            ]
        wanted += [
            (who, f"export {table} 90", f"/insights/export/{table}.csv?period=90")
            for table in ("teams", "types", "weeks", "pyramid")
        ]
        wanted += [
            (who, "satisfaction page 90", "/feedback/insights/?period=90"),
            (who, "satisfaction page all", "/feedback/insights/?period=all"),
            (who, "API satisfaction 90", "/api/v1/insights/feedback/?period=90"),
        ]
    # The managers' lists of track records (read from their snapshot: run `cockpit_summaries` first).
    for who in WHO:
        for period in PERIODS:
            wanted += [
                (who, f"track records {period}", f"/insights/track-records/?period={period}"),
                (who, f"track records csv {period}", f"/insights/track-records/?period={period}&format=csv"),
            ]
    # --- c11b: recommendations, track records and the what-if go here (GET urls), e.g.
    # wanted += [(who, "recommendations page", "/insights/recommendations/") for who in WHO]
    return wanted


# --- c11b: POST requests (the what-if) go here: (who, label, url, json body).
POSTS: list[tuple[str, str, str, dict]] = []


def timed(client: Client, method: str, url: str, body: dict | None, runs: int) -> tuple[int, float, int]:
    def send():
        if method == "post":
            return client.post(url, body, content_type="application/json")
        return client.get(url)

    send()  # warm-up
    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # Counted with a wrapper: the request_started signal empties Django's own query log.
    with connection.execute_wrapper(count):
        response = send()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        send()
        times.append((time.perf_counter() - began) * 1000)
    return response.status_code, median(times), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", help="only the requests whose label contains this")
    args = parser.parse_args()
    setup_test_environment()
    clients = {}
    for who, username in WHO.items():
        employee = Employee.objects.select_related("user").get(user__username=username)
        client = Client(secure=True)  # secure: no redirect where SECURE_SSL_REDIRECT is on
        client.force_login(employee.user)
        clients[who] = client
    employees = Employee.objects.count()
    print(f"cockpit on {connection.vendor} {connection.settings_dict['NAME']}: {employees} employees")
    print(f"{'who':<10} {'request':<28} {'status':>6} {'median ms':>10} {'queries':>8}  url")
    rows = [(who, label, "get", url, None) for who, label, url in cockpit_requests()]
    rows += [(who, label, "post", url, body) for who, label, url, body in POSTS]
    slowest = 0.0
    for who, label, method, url, body in rows:
        if args.only and args.only not in label:
            continue
        status, ms, queries = timed(clients[who], method, url, body, args.runs)
        slowest = max(slowest, ms)
        flag = "" if ms < 500 else "  SLOW"
        print(f"{who:<10} {label:<28} {status:>6} {ms:>10.1f} {queries:>8}  {url}{flag}")
    print(f"slowest: {slowest:.1f} ms (target < 500 ms)")


if __name__ == "__main__":
    main()
