"""`make bench`: the app against a bare Django + DRF endpoint, on the same machine, in the same run.

    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… .venv/bin/python bench/run.py [options]

1. Migrates, then seeds or reuses the scale data (`seed_scale`; `seed_demo` where that command
   does not exist), and adds the bench's own rows (see `bench/fixtures.py`).
2. Starts gunicorn for the app (sync workers, 2 x cores + 1), gunicorn for the bare endpoint
   (`bench/bare/`, same worker count), a Celery worker (which also knows `bench.ping`) and beat.
3. Measures, app and bare alternating round by round: in-authority decisions per second and
   p50/p99 at 1 and 16 connections; CPU per request of the web processes plus every PostgreSQL
   process (from /proc); escalation submit → assigned against its bare counterpart (an HTTP request
   writing a row and enqueuing a task on commit, a worker claiming and writing that row); each
   page's median time; the race (200 decisions at once over two app nodes, a cap that allows 50).
4. Prints the table (app, bare, ratio, target, pass) and writes it to bench/results/.
5. Stops everything it started, also on Ctrl-C or failure. Then runs bench/authority.py and the
   cockpit's timings (bench/cockpit.py, bench/cockpit_recommend.py).

One module past 500 lines on purpose: it is one run's script, read from top to bottom in the order
above; the parts that stand alone live beside it (load.py, procs.py, fixtures.py, bare/).

These machines are shared and noisy: the ratios are the result, not the absolute times.
"""

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import Request, Result, burst, connect, percentile, run_load, timed_get  # noqa: E402
from bench.procs import CpuMeter, Processes, free_port, wait_for_port  # noqa: E402

CORES = len(os.sched_getaffinity(0))
RESULTS = ROOT / "bench" / "results"
PAGE_BUDGET_MS = 150
POLL = 0.002  # seconds between two looks at an escalation waiting to be assigned
IDLE_WINDOW = 1.0  # seconds of PostgreSQL's background CPU measured before each round
APPLICATION = "empower-bench"


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add = parser.add_argument
    add("--employees", type=int, default=int(os.environ.get("BENCH_EMPLOYEES", 5000)))
    add("--decisions", type=int, default=int(os.environ.get("BENCH_DECISIONS", 1_000_000)))
    add("--skip-seed", action="store_true", help="use the data as it is (no seed_scale / seed_demo)")
    add("--rounds", type=int, default=3, help="app/bare alternations per concurrency (default 3)")
    add("--seconds", type=float, default=5.0, help="length of one measured round (default 5 s)")
    add("--connections", type=int, default=16, help="the concurrent level (default 16; 1 is always measured)")
    add("--escalations", type=int, default=20, help="escalation samples, as many bare ones")
    add("--page-repeats", type=int, default=5, help="timed GETs per page, after two warm-ups per worker")
    add("--race", type=int, default=200, help="simultaneous decisions in the race")
    add("--race-allowed", type=int, default=50, help="how many of them the cap allows")
    add("--workers", type=int, default=2 * CORES + 1, help=f"gunicorn sync workers (default {2 * CORES + 1})")
    add("--no-micro", action="store_true", help="skip bench/authority.py and the cockpit timings at the end")
    add("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args()


def environment() -> dict:
    """The children's environment: production-like settings on loopback; PostgreSQL and Redis only."""
    import environ

    environ.Env.read_env(ROOT / ".env")  # what the app itself would read; the environment wins
    database, broker = os.environ.get("DATABASE_URL", ""), os.environ.get("CELERY_BROKER_URL", "")
    if not database.startswith(("postgres://", "postgresql://", "pgsql://")):
        sys.exit(
            "make bench measures PostgreSQL, not the embedded SQLite default: set DATABASE_URL, e.g.\n"
            "  DATABASE_URL=postgres://user@127.0.0.1:5432/empower_bench CELERY_BROKER_URL=redis://127.0.0.1:6379/0"
        )
    if not broker.startswith(("redis://", "rediss://")):
        sys.exit("make bench needs a Redis broker: set CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0")
    env = dict(os.environ)
    env.pop("EMAIL_BACKEND", None)
    env.update(
        DEBUG="0",
        SECRET_KEY=os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        SESSION_COOKIE_SECURE="False",
        CSRF_COOKIE_SECURE="False",
        EMAIL_URL="dummymail://",  # the bench's people have no real addresses; nothing leaves
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=tagged(database, "app"),
        BENCH_DATABASE_URL=database,
    )
    return env


def manage(env: dict, *args: str) -> int:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=False).returncode


def seed(args, env: dict, notes: list[str]) -> None:
    from django.core.management import get_commands

    from delegation.models import Decision

    if "seed_scale" not in get_commands():
        notes.append("seed_scale does not exist in this tree: measured on seed_demo's organization instead")
        if manage(env, "seed_demo"):
            sys.exit("seed_demo failed")
        return
    print(f"== seed_scale --employees {args.employees} --decisions {args.decisions}", flush=True)
    if manage(env, "seed_scale", "--employees", str(args.employees), "--decisions", str(args.decisions)):
        if not Decision.objects.exists():
            sys.exit("seed_scale failed on an empty database")
        notes.append("seed_scale refused or failed; the data already there was used")
    # The cockpit reads summaries; beat keeps them current, but the pages are timed before its first run.
    print("== cockpit_summaries", flush=True)
    manage(env, "cockpit_summaries")


def gunicorn(procs: Processes, name: str, wsgi: str, env: dict, workers: int) -> tuple[int, subprocess.Popen]:
    port = free_port()
    args = [sys.executable, "-m", "gunicorn", wsgi, "--workers", str(workers), "--worker-class", "sync"]
    args += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "120", "--graceful-timeout", "5"]
    process = procs.start(name, args, env, ROOT)
    wait_for_port(port, process)
    return port, process


def wait_healthy(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    status = 0
    while time.monotonic() < deadline:
        conn = connect(port, timeout=5)
        try:
            status, _ = Request("GET", "/healthz/").send(conn)
            if status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.5)
    raise RuntimeError(f"/healthz/ on port {port} answered {status}, not 200")


def ping_round_trip(redis_client, timeout: float = 30) -> float | None:
    """Send `bench.ping` through the broker and wait for the worker's answer; seconds, or None."""
    from bench.tasks import reply_key
    from config.celery import app

    token = uuid.uuid4().hex
    began = time.perf_counter()
    app.send_task("bench.ping", args=[token])
    answered = redis_client.blpop([reply_key(token)], timeout=timeout)
    return time.perf_counter() - began if answered else None


def decide(case, token: str, amount: str, rationale: str) -> Request:
    body = {"case": case.pk, "decision_type": "refund", "amount": amount, "rationale": rationale}
    return Request("POST", "/api/v1/decisions/", body, {"Authorization": f"Token {token}"})


def approved(status: int, body: bytes) -> bool:
    return status == 201 and b'"approved"' in body


def measure_throughput(args, ports: dict, meters: dict, org: dict) -> dict:
    """Alternating app and bare, round by round, at 1 and N connections: latencies, rates, CPU."""
    agents = org["agents"]
    requests = {
        "app": [decide(case, token, "0.01", "bench") for _agent, token, case in agents],
        "bare": [
            Request("POST", "/decide/", {"amount": "0.01", "rationale": "bench"}, {"Authorization": f"Token {t}"})
            for t in org["bare_tokens"]
        ],
    }
    levels = [1, args.connections]
    results = {(t, c): Result() for t in ports for c in levels}
    cpu = {t: [0.0, 0.0, 0, 0.0] for t in ports}  # web s, db s less background, requests, db s as measured
    for target in ports:  # warm-up: every worker has imported everything and connected once
        run_load(ports[target], [requests[target][i % len(agents)] for i in range(args.connections)], 1.5, approved)
    for round_no in range(args.rounds):
        order = ["app", "bare"] if round_no % 2 == 0 else ["bare", "app"]
        for level in levels:
            for target in order:
                reqs = [requests[target][i % len(agents)] for i in range(level)]
                idle = meters[target].read()  # others' load on a shared server: measured idle, then taken off
                time.sleep(IDLE_WINDOW)
                before = meters[target].read()
                background = max(0.0, CpuMeter.spent(idle, before)[1] / IDLE_WINDOW)
                result = run_load(ports[target], reqs, args.seconds, approved)
                web, db = CpuMeter.spent(before, meters[target].read())
                results[(target, level)].add(result)
                cpu[target][0] += web
                cpu[target][1] += max(0.0, db - background * result.elapsed)
                cpu[target][2] += result.count + result.errors
                cpu[target][3] += db
                print(
                    f"   round {round_no + 1} {target:<4} @{level:<2} {result.per_second:7.1f}/s "
                    f"p50 {percentile(result.latencies, 50) * 1000:6.1f} ms  errors {result.errors}",
                    flush=True,
                )
    return {"results": results, "cpu": cpu, "levels": levels}


def settled(table: str, pk: int, began: float, timeout: float = 30) -> str | None:
    """Poll a row's status every POLL seconds until it leaves "routing"; its status, or None."""
    from django.db import connection

    with connection.cursor() as cursor:
        while time.perf_counter() - began < timeout:
            cursor.execute(f"SELECT status FROM {table} WHERE id = %s", [pk])  # noqa: S608 - our two tables
            row = cursor.fetchone()
            if row and row[0] != "routing":
                return row[0]
            time.sleep(POLL)
    return None


def measure_escalations(args, ports: dict, org: dict, redis_client) -> dict:
    """Submit → assigned for the app, against its bare counterpart, alternating; a Celery ping besides.

    The bare counterpart (`bench/bare/urls.py` `Escalate`, `bench.assign`) is what submit → assigned
    is made of with nothing of Empower in it: an HTTP request that writes a row and enqueues a task
    when it commits, a worker that claims the row and writes it, the same polling of the database.
    """
    from delegation.models import Escalation

    _employee, token, case = org["escalating"]
    bare_token = org["bare_tokens"][0]
    times = {"app": [], "db": [], "bare": [], "ping": []}
    failures = 0
    conns = {target: connect(port) for target, port in ports.items()}
    for i in range(args.escalations):
        order = ["app", "bare"] if i % 2 == 0 else ["bare", "app"]
        for target in order:
            began = time.perf_counter()
            if target == "app":
                status, body = decide(case, token, "150.00", f"bench escalation {i}").send(conns["app"])
                pk = ((json.loads(body).get("escalation") or {}) if status == 201 else {}).get("id")
                table = Escalation._meta.db_table
            else:
                request = Request("POST", "/escalate/", {}, {"Authorization": f"Token {bare_token}"})
                status, body = request.send(conns["bare"])
                pk, table = (json.loads(body)["id"] if status == 201 else None), "bench_job"
            state = settled(table, pk, began) if pk else None
            if state == "assigned":
                times[target].append(time.perf_counter() - began)
                if target == "app":
                    row = Escalation.objects.values("created_at", "routed_at").get(pk=pk)
                    if row["routed_at"]:
                        times["db"].append((row["routed_at"] - row["created_at"]).total_seconds())
            else:
                failures += 1
                print(f"   escalation {i} ({target}): answer {status}, state {state}", flush=True)
            time.sleep(0.05)
        if (trip := ping_round_trip(redis_client)) is not None:
            times["ping"].append(trip)
        time.sleep(0.05)
    for conn in conns.values():
        conn.close()
    return {**times, "failures": failures}


def measure_pages(args, port: int, org: dict) -> list[tuple[str, float | None, str]]:
    from bench.fixtures import page_viewers, session_cookie

    pages = []
    # Warm-ups: each gunicorn worker compiles a page's templates and fills its own caches on its first
    # request for it, and any worker may answer; twice as many as there are workers reach them all.
    warm_ups = 2 * args.workers
    for name, path, viewer in page_viewers(org):
        durations, statuses = timed_get(port, path, {"Cookie": session_cookie(viewer)}, warm_ups + args.page_repeats)
        ok = statuses == {200}
        timed = median(durations[warm_ups:]) * 1000
        pages.append((name, timed if ok else None, f"as {viewer.user.username}, {path}"))
        shown = f"{timed:7.1f} ms" if ok else f"answered {sorted(statuses)}"
        print(f"   {name:<40} {shown}  ({viewer.user.username})", flush=True)
    return pages


def measure_race(args, procs: Processes, env: dict, port: int, org: dict) -> dict:
    """`args.race` decisions at once, half to each of two app nodes; the cap allows `args.race_allowed`."""
    from delegation.models import Decision

    second, process = gunicorn(procs, "app-node-2", "empower.wsgi:application", env, args.workers)
    try:
        wait_healthy(second)
        race, token, case = org["race"]
        targets = [
            ((port, second)[i % 2], decide(case, token, args.race_amount, f"race {i}")) for i in range(args.race)
        ]
        answers = burst(targets)
    finally:
        procs.stop(process)
    said = sum(approved(status, body) for status, body in answers)
    escalated = sum(status == 201 and b'"escalated"' in body for status, body in answers)
    stored = Decision.objects.filter(made_by=race, status=Decision.Status.APPROVED).count()
    return {"answered_approved": said, "escalated": escalated, "errors": args.race - said - escalated, "stored": stored}


def reject_bench_escalations(port: int, org: dict, wait: float) -> int:
    """The bench lead rejects what the bench escalated to them, so nothing of the bench moves up."""
    from delegation.models import Escalation

    lead, token = org["lead"]
    bench = Escalation.objects.filter(decision__made_by__user__username__startswith="bench-")
    deadline = time.monotonic() + wait
    while bench.filter(status=Escalation.Status.ROUTING).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    ids = list(bench.filter(status=Escalation.Status.ASSIGNED, assigned_to=lead).values_list("pk", flat=True))
    headers = {"Authorization": f"Token {token}"}
    for start in range(0, len(ids), 16):
        burst(
            [
                (port, Request("POST", f"/api/v1/escalations/{pk}/reject/", {"note": "bench clean-up"}, headers))
                for pk in ids[start : start + 16]
            ]
        )
    return len(ids)


def foreign_backends() -> list[int]:
    """Client backends that are not the bench's (their application_name says so): others' sessions."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'"
            " AND coalesce(application_name, '') NOT LIKE %s",
            [f"{APPLICATION}%"],
        )
        return [pid for (pid,) in cursor.fetchall()]


def tagged(url: str, name: str) -> str:
    """`url` with an application_name, so the bench's backends are told from anyone else's."""
    return f"{url}{'&' if '?' in url else '?'}application_name={APPLICATION}-{name}"


def ms(seconds: float) -> float:
    return seconds * 1000


def table(args, measured: dict, escalations: dict, pages: list, race: dict) -> list[dict]:
    rows = []

    def row(metric, app, bare=None, target="", passed=None, ratio=None, unit=""):
        if ratio is None and bare:
            ratio = app / bare if app is not None else None
        rows.append(
            {"metric": metric, "app": app, "bare": bare, "ratio": ratio, "target": target, "pass": passed, "unit": unit}
        )

    results, cpu = measured["results"], measured["cpu"]
    for level in measured["levels"]:
        app, bare = results[("app", level)], results[("bare", level)]
        ratio = app.per_second / bare.per_second if bare.per_second else None
        gate = level == args.connections
        row(
            f"decisions/s @{level}",
            app.per_second,
            bare.per_second,
            "≥ 0.5× bare" if gate else "",
            (ratio is not None and ratio >= 0.5) if gate else None,
            unit="/s",
        )
        row(f"p50 @{level}", ms(percentile(app.latencies, 50)), ms(percentile(bare.latencies, 50)), unit="ms")
        p99 = (ms(percentile(app.latencies, 99)), ms(percentile(bare.latencies, 99)))
        row(f"p99 @{level}", *p99, "≤ 2× bare", p99[0] <= 2 * p99[1], unit="ms")
    errors = {t: sum(results[(t, lvl)].errors for lvl in measured["levels"]) for t in ("app", "bare")}
    row("errors (not approved)", errors["app"], errors["bare"], "0", errors["app"] == 0, ratio=float("nan"))
    per = {t: [1000 * s / max(1, cpu[t][2]) for s in cpu[t][:2]] for t in cpu}
    total = {t: sum(per[t]) for t in per}
    row(
        "CPU per request, web + db",
        total["app"],
        total["bare"],
        "≤ 2× bare",
        total["app"] <= 2 * total["bare"],
        unit="ms",
    )
    row("  of which web", per["app"][0], per["bare"][0], unit="ms")
    row("  of which PostgreSQL (less its idle background)", per["app"][1], per["bare"][1], unit="ms")
    raw = {t: 1000 * cpu[t][3] / max(1, cpu[t][2]) for t in cpu}
    row("  PostgreSQL as measured, background included", raw["app"], raw["bare"], unit="ms")
    app_e, bare_e = escalations["app"], escalations["bare"]
    row(
        "submit → assigned p50 (bare: HTTP enqueue + task writing a row)",
        ms(percentile(app_e, 50)),
        ms(percentile(bare_e, 50)),
        unit="ms",
    )
    p95 = (ms(percentile(app_e, 95)), ms(percentile(bare_e, 95)))
    row(
        "submit → assigned p95 (bare: HTTP enqueue + task writing a row)",
        *p95,
        "≤ 3× bare",
        p95[0] <= 3 * p95[1],
        unit="ms",
    )
    row("  created → routed p50, DB clock", ms(percentile(escalations["db"], 50)), unit="ms")
    ping = ms(percentile(escalations["ping"], 95))
    row("  p95 of a Celery round trip alone (ping → answer)", None, ping, ratio=float("nan"), unit="ms")
    row("  escalations not assigned", escalations["failures"], None, "0", escalations["failures"] == 0)
    for name, took, _who in pages:
        row(f"page {name}", took, None, f"< {PAGE_BUDGET_MS} ms", took is not None and took < PAGE_BUDGET_MS, unit="ms")
    exact = race["answered_approved"] == args.race_allowed == race["stored"] and race["errors"] == 0
    row(
        f"race: approved of {args.race} over 2 nodes (stored {race['stored']}, errors {race['errors']})",
        race["answered_approved"],
        None,
        f"= {args.race_allowed}",
        exact,
    )
    return rows


def fmt(value, unit="") -> str:
    if value is None or value != value:  # None or NaN
        return "—"
    if isinstance(value, int):
        return str(value)
    return f"{value:.2f}" if unit == "ms" and value < 10 else f"{value:.1f}"


def render(rows: list[dict]) -> str:
    head = ["metric", "app", "bare", "app/bare", "target", "pass"]
    body = [
        [
            r["metric"] + (f" ({r['unit']})" if r["unit"] else ""),
            fmt(r["app"], r["unit"]),
            fmt(r["bare"], r["unit"]),
            "—" if r["ratio"] is None or r["ratio"] != r["ratio"] else f"{r['ratio']:.2f}",
            r["target"] or "",
            {True: "PASS", False: "FAIL", None: ""}[r["pass"]],
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |" for line in [head, *body]]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine(args) -> dict:
    from django.db import connection

    from delegation.models import Decision
    from empower.models import Employee

    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.machine(),
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    return {
        "cpu": f"{model}, {CORES} cores",
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average": os.getloadavg(),
        "postgresql": pg,
        "database": connection.settings_dict["NAME"],
        "employees": Employee.objects.count(),
        "decisions": Decision.objects.count(),
        "python": platform.python_version(),
        "gunicorn_workers": args.workers,
    }


def run(args, env: dict, procs: Processes, run_id: str) -> tuple[list[dict], dict]:
    notes: list[str] = []
    print("== migrate", flush=True)
    if manage(env, "migrate", "--noinput", "-v0"):
        sys.exit("migrate failed")
    import django

    django.setup()
    import redis

    from bench import fixtures

    if not args.skip_seed:
        seed(args, env, notes)
    # A migration or a seed may have rewritten a million rows: until a vacuum marks the pages visible
    # again, index-only scans (the what-if's) read the table too. Autovacuum gets there in its time.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    if manage(env, "collectstatic", "--noinput", "-v0"):  # DEBUG=0 serves hashed static files
        sys.exit("collectstatic failed")
    org = fixtures.bench_org(run_id, args.race_amount, args.race_allowed)
    about = machine(args)
    print(f"== {about['employees']} employees, {about['decisions']} decisions; bench team under {org['anchor']}")

    print(f"== starting: app and bare gunicorn ({args.workers} sync workers each), Celery worker and beat", flush=True)
    app_port, app = gunicorn(procs, "app", "empower.wsgi:application", env, args.workers)
    bare_env = {
        **env,
        "DJANGO_SETTINGS_MODULE": "bench.bare.settings",
        "DATABASE_URL": tagged(env["BENCH_DATABASE_URL"], "bare"),
    }
    bare_port, bare = gunicorn(procs, "bare", "bench.bare.wsgi:application", bare_env, args.workers)
    celery = [sys.executable, "-m", "celery", "-A", "empower"]
    procs.start(
        "worker", [*celery, "worker", "-I", "bench.tasks", "-l", "WARNING", "-n", f"bench-{run_id}@%h"], env, ROOT
    )
    beat_file = str(procs.log_dir / "celerybeat-schedule")
    procs.start("beat", [*celery, "beat", "-l", "WARNING", "-s", beat_file], env, ROOT)
    wait_healthy(app_port)
    redis_client = redis.Redis.from_url(env["CELERY_BROKER_URL"], socket_timeout=120)  # BLPOP waits up to 60 s
    if ping_round_trip(redis_client, timeout=60) is None:
        raise RuntimeError("the Celery worker did not answer bench.ping within 60 s:\n" + procs.log_tail("worker"))
    if left := reject_bench_escalations(app_port, org, wait=0):
        print(f"   rejected {left} escalations left by an earlier run")

    meters = {"app": CpuMeter([app.pid], foreign_backends), "bare": CpuMeter([bare.pid], foreign_backends)}
    before = meters["app"].read()
    time.sleep(2.0)
    _web, idle = CpuMeter.spent(before, meters["app"].read())
    about["postgres_cpu_idle_ms_per_s"] = round(idle / 2 * 1000, 1)
    if idle / 2 > 0.02:
        notes.append(
            f"PostgreSQL used {idle / 2 * 1000:.0f} ms of CPU per second while the bench was idle (others' sessions,"
            " autovacuum): the rate measured just before each round is taken off that round's PostgreSQL CPU"
        )

    print(f"== throughput: {args.rounds} rounds × {args.seconds:g} s, app and bare alternating", flush=True)
    measured = measure_throughput(args, {"app": app_port, "bare": bare_port}, meters, org)
    print(f"== escalations: {args.escalations} submitted, as many bare ones, alternating", flush=True)
    escalations = measure_escalations(args, {"app": app_port, "bare": bare_port}, org, redis_client)
    print("== pages", flush=True)
    pages = measure_pages(args, app_port, org)
    print(f"== race: {args.race} decisions at once over two app nodes, cap allows {args.race_allowed}", flush=True)
    race = measure_race(args, procs, env, app_port, org)
    print(f"   cleaned up: {reject_bench_escalations(app_port, org, wait=30)} bench escalations rejected", flush=True)
    return table(args, measured, escalations, pages, race), {"machine": about, "notes": notes, "pages": pages}


def main() -> None:
    args = options()
    args.race_amount = "1.00"
    env = environment()
    os.environ.update(env)  # the bench's own Django (fixtures, polling) sees what the servers see
    run_id = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    procs = Processes(Path(tempfile.mkdtemp(prefix="empower-bench-")))
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C, even where it was inherited ignored
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    try:
        rows, extra = run(args, env, procs, run_id)
    except KeyboardInterrupt:
        print(f"\ninterrupted: stopping what the bench started (its logs: {procs.log_dir})", file=sys.stderr)
        sys.exit(130)
    except BaseException:
        print(f"\nbench stopped; the servers' logs are in {procs.log_dir}", file=sys.stderr)
        raise
    finally:
        procs.stop_all()
    shutil.rmtree(procs.log_dir, ignore_errors=True)
    report = render(rows)
    about = extra["machine"]
    header = (
        f"Empower bench {run_id} — {about['cpu']}, {about['memory_gb']} GB, PostgreSQL {about['postgresql']}, "
        f"database {about['database']}: {about['employees']} employees, {about['decisions']} decisions; "
        f"{args.workers} gunicorn sync workers; {args.rounds} rounds × {args.seconds:g} s; "
        f"load average at start {about['load_average'][0]:.2f}"
    )
    notes = "".join(f"\n- {note}" for note in extra["notes"])
    print(f"\n{header}\n\n{report}\n{notes}")
    RESULTS.mkdir(exist_ok=True)
    document = {"run": run_id, "machine": about, "options": vars(args), "rows": rows, "notes": extra["notes"]}
    for name in (f"bench-{run_id}", "latest"):
        (RESULTS / f"{name}.json").write_text(json.dumps(document, indent=2, default=str))
        (RESULTS / f"{name}.md").write_text(f"{header}\n\n{report}\n{notes}\n")
    print(f"written to {RESULTS}/bench-{run_id}.md and .json")
    if not args.no_micro:
        for script, what in (
            ("authority.py", "in-process micro-benchmark"),
            ("cockpit.py", "every cockpit page and API answer"),
            ("cockpit_recommend.py", "recommendations, track records and the what-if"),
        ):
            print(f"\n== bench/{script} ({what})", flush=True)
            subprocess.run([sys.executable, str(ROOT / "bench" / script)], cwd=ROOT, env=env, check=False)
    if args.strict and any(r["pass"] is False for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
